"""Scenario frames and diagrams: computed by the engine, one frame per wire event, faithful to the
lesson's own scenario, and cached."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lessons import diagrams
from lessons.content import CONTENT_DIR, read_course
from questions.engine.scenario import run_scenario

SCENARIOS = sorted(
    {
        (x.slug, s["id"]): s["spec"]
        for x in read_course(CONTENT_DIR).lessons
        if x.lang == "en"
        for s in x.scenarios
    }.items()
)


def _delivered(lines: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (s["from"], tuple(s["flags"]), s["seq"], s["ack"], s["fate"])
        for line in lines
        for s in line["segments"]
        if s["fate"] != "held"
    )


@pytest.mark.parametrize(("key", "spec"), SCENARIOS, ids=[f"{slug}:{sid}" for (slug, sid), _ in SCENARIOS])
def test_diagrams_frames_replay_the_lessons_scenario(key: tuple[str, str], spec: dict[str, Any]) -> None:
    """The step-through ends where the engine's own run ends, with the same segments delivered and lost."""
    original = run_scenario(spec)
    expanded = [line for _step, line in diagrams._expanded_lines(spec)]
    assert expanded[-1]["states"] == original[-1]["states"]
    assert _delivered(expanded) == _delivered(original)
    assert len(expanded) >= len([s for s in spec["steps"] if s.get("do") != "wire"])


def test_diagrams_handshake_frames_show_each_state() -> None:
    """The handshake is shown segment by segment: SYN_SENT and SYN_RECEIVED appear on their own."""
    spec = {
        "isn": {"client": 1000, "server": 5000},
        "steps": [{"at": "server", "do": "listen"}, {"at": "client", "do": "connect"}],
    }
    frames = diagrams.scenario_view(spec, "en", "t")["frames"]
    states = [tuple(e["state"] for e in f["endpoints"]) for f in frames]
    assert states == [
        ("CLOSED", "LISTEN"),
        ("SYN_SENT", "LISTEN"),
        ("SYN_SENT", "SYN_RECEIVED"),
        ("ESTABLISHED", "SYN_RECEIVED"),
        ("ESTABLISHED", "ESTABLISHED"),
    ]
    assert frames[1]["segments"] == [
        {"from": "client", "to": "server", "rightward": True, "label": "SYN seq=1000", "fate": "held",
         "fate_text": "sent, in flight"}
    ]  # fmt: skip
    assert frames[2]["text"] == "SYN seq=1000 from client arrives at server."


def test_diagrams_ladder_is_the_engines() -> None:
    """The ladder is the engine's SVG, with flags and seq/ack labels and each frame numbered."""
    spec = {
        "isn": {"client": 1, "server": 9},
        "steps": [{"at": "server", "do": "listen"}, {"at": "client", "do": "connect"}],
    }
    svg = diagrams.scenario_view(spec, "en", "lad")["ladder_svg"]
    assert svg.startswith("<svg")
    assert 'id="lad-title"' in svg
    assert "SYN+ACK seq=9 ack=2" in svg
    assert "step 5" in svg


def test_diagrams_cached_per_spec_and_language() -> None:
    """A diagram is computed once per (spec, engine version, language) and then reused."""
    spec = {"steps": [{"at": "server", "do": "listen"}, {"at": "client", "do": "connect"}]}
    first = diagrams.scenario_view(spec, "zh-hans", "c")
    assert diagrams.scenario_view(dict(spec), "zh-hans", "c") is first
    assert diagrams.scenario_view(spec, "en", "c") is not first
    assert diagrams.state_diagram(["t:CLOSED:connect"], "en") is diagrams.state_diagram(
        ("t:CLOSED:connect",), "en"
    )


def test_diagrams_state_diagram_highlights_the_path() -> None:
    """The state diagram names the highlighted arcs in its description."""
    svg = diagrams.state_diagram(["t:FIN_WAIT_1:rcv_fin", "t:CLOSING:rcv_ack"], "en", id_prefix="sd")
    assert "Highlighted path" in svg
    assert "FIN_WAIT_1 → CLOSING" in svg
