"""Diagrams: well-formed, accessible, self-contained SVG drawn from the table and from traces."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from questions.engine import LINUX, State, ladder_svg, run_scenario, state_diagram_svg

SVG = "{http://www.w3.org/2000/svg}"
SCENARIOS = Path(__file__).parent / "scenarios"


def _check_accessible(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert title.text
    assert desc is not None
    assert desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    sizes = [float(t.get("font-size", "0")) for t in root.iter(f"{SVG}text")]
    assert sizes
    assert min(sizes) >= 14
    # Self-contained: no images, no links, no external URLs (only the SVG namespace).
    assert root.find(f".//{SVG}image") is None
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", svg)
    assert "href" not in svg
    return root


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_state_diagram_is_accessible_svg_with_all_states(lang: str) -> None:
    """The state diagram names all 11 states (CLOSED twice, as in textbooks)."""
    root = _check_accessible(state_diagram_svg(lang=lang))
    texts = _texts(root)
    for state in State:
        assert state.name in texts
    assert texts.count("CLOSED") == 2


def test_state_diagram_textbook_layout() -> None:
    """CLOSED on top, ESTABLISHED in the centre, active close on the left, passive on the right."""
    root = ET.fromstring(state_diagram_svg())
    where = {t.text: float(t.get("x", 0)) for t in root.iter(f"{SVG}text") if t.text in State.__members__}
    ys: dict[str, float] = {}
    for t in root.iter(f"{SVG}text"):
        if t.text is not None and t.text in State.__members__:
            ys[t.text] = min(ys.get(t.text, 1e9), float(t.get("y", 0)))
    assert min(ys, key=lambda name: ys[name]) == "CLOSED"
    assert where["FIN_WAIT_1"] < where["ESTABLISHED"] < where["CLOSE_WAIT"]
    assert where["FIN_WAIT_2"] < where["LAST_ACK"]
    assert ys["LISTEN"] < ys["ESTABLISHED"] < ys["TIME_WAIT"]


def test_state_diagram_highlights_a_path() -> None:
    """Highlighted transitions are drawn thicker and named in the description."""
    path = ["t:CLOSED:connect", "t:SYN_SENT:rcv_syn_ack", "t:ESTABLISHED:abort"]
    svg = state_diagram_svg(highlight=path)
    root = _check_accessible(svg)
    widths = [float(p.get("stroke-width", "0")) for p in root.iter(f"{SVG}path") if p.get("fill") == "none"]
    assert widths.count(4.0) == 3
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert "ESTABLISHED → CLOSED" in (desc.text or "")
    assert state_diagram_svg() != svg


def test_state_diagram_chinese_labels() -> None:
    """In Chinese, state names stay in English with a Chinese gloss, and arcs are in Chinese."""
    svg = state_diagram_svg(lang="zh-hans")
    assert "时间等待" in svg
    assert "TIME_WAIT" in svg
    assert "收到 FIN / 发送 ACK" in svg


def test_state_diagram_all_arcs_reads_the_profile() -> None:
    """arcs="all" draws every state-changing row, e.g. Linux's FIN_WAIT_2 timeout."""
    assert "FIN_WAIT_2 timeout" in state_diagram_svg(profile=LINUX, arcs="all")
    assert "FIN_WAIT_2 timeout" not in state_diagram_svg(arcs="all")


def test_diagrams_reject_unknown_language() -> None:
    """Only "en" and "zh-hans" are known."""
    with pytest.raises(ValueError, match="unknown language"):
        state_diagram_svg(lang="fr")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_ladder_shows_segments_and_states(lang: str) -> None:
    """The ladder labels each segment with flags, seq and ack, and each side's state."""
    spec = json.loads((SCENARIOS / "handshake.both.json").read_text(encoding="utf-8"))
    svg = ladder_svg(run_scenario(spec), lang=lang)
    root = _check_accessible(svg)
    texts = _texts(root)
    assert "SYN seq=1000" in texts
    assert "SYN+ACK seq=5000 ack=1001" in texts
    assert "ACK seq=1001 ack=5001" in texts
    assert any(t.startswith("ESTABLISHED") for t in texts)
    assert len(list(root.iter(f"{SVG}line"))) == 2 + 3  # two lifelines, three segments


def test_ladder_marks_lost_segments() -> None:
    """A dropped segment is drawn as lost."""
    spec = json.loads((SCENARIOS / "lost_syn.both.json").read_text(encoding="utf-8"))
    svg = ladder_svg(run_scenario(spec))
    assert "SYN seq=1000 (lost)" in svg
    _check_accessible(svg)
