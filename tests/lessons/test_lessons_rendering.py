"""Lesson bodies: Markdown through the sanitiser (instructor edits cannot inject script), Markdown inside
<details>, and the engine's diagrams put in place of the markers after sanitising."""

from __future__ import annotations

import re

import pytest

from lessons.rendering import markdown_to_safe_html, render_lesson_body, skill_label

HANDSHAKE: dict[str, object] = {
    "id": "handshake",
    "title": {"en": "Client connects", "zh-hans": "客户端连接"},
    "spec": {
        "isn": {"client": 1000, "server": 5000},
        "steps": [{"at": "server", "do": "listen"}, {"at": "client", "do": "connect"}],
    },
}


def _render(body: str, scenarios: list[dict[str, object]] | None = None, lang: str = "en") -> str:
    return str(
        render_lesson_body(
            body_markdown=body, scenarios=scenarios or [], skills=["t:CLOSED:connect"], lang=lang
        ).html
    )


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert('x')</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<p onclick="alert(1)">para</p>',
        '<iframe src="https://example.com"></iframe>',
        "<style>body{display:none}</style>",
        '<svg onload="alert(1)"><circle r="5"/></svg>',
        '<details open ontoggle="alert(1)"><summary>x</summary>y</details>',
        '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    ],
)
def test_rendering_instructor_html_is_inert(attack: str) -> None:
    """Script, event handlers, javascript:/data: URLs, frames and raw SVG come out inert."""
    html = markdown_to_safe_html(f"Intro\n\n{attack}\n\nOutro")
    lowered = html.lower()
    assert "<script" not in lowered
    assert "alert(" not in lowered
    assert not re.search(r"\son\w+\s*=", lowered)
    assert "javascript:" not in lowered
    assert "data:text" not in lowered
    assert "<iframe" not in lowered
    assert "<svg" not in lowered
    assert "<style" not in lowered
    assert "Outro" in html


def test_rendering_markdown_inside_details() -> None:
    """Markdown inside a <details> block (the lessons' answers) is rendered, summary kept."""
    html = markdown_to_safe_html(
        "<details>\n<summary>Answers</summary>\n\n1. Only *connect()*.\n2. x+1\n\n</details>\n"
    )
    assert "<details>" in html
    assert "<summary>Answers</summary>" in html
    assert "<ol>" in html
    assert "<em>connect()</em>" in html


def test_rendering_tables_code_and_heading_ids() -> None:
    """Tables keep their alignment, fenced code stays code, headings get prefixed anchors."""
    html = markdown_to_safe_html("## Two roles\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```\nSYN seq=x\n```\n")
    assert '<h2 id="h-two-roles">' in html
    assert "<table>" in html
    assert 'style="text-align:right"' in html.replace(": ", ":").replace(";", "")
    assert "<pre><code>SYN seq=x" in html


def test_rendering_markers_become_engine_diagrams() -> None:
    """{{ scenario:ID }} becomes the scenario's player, ladder and table; {{ state_diagram }} the diagram."""
    html = _render("Before\n\n{{ scenario:handshake }}\n\n{{ state_diagram }}\n\nAfter", [HANDSHAKE])
    assert "{{" not in html
    assert 'data-scenario="handshake"' in html
    assert "data-player" in html
    assert html.count("<svg") == 2
    assert "SYN seq=1000" in html
    assert "SYN+ACK seq=5000 ack=1001" in html
    assert "TCP connection state diagram" in html
    assert html.index("Before") < html.index("data-scenario") < html.index("After")


def test_rendering_svg_only_from_the_engine() -> None:
    """SVG in an instructor's Markdown is stripped; the only SVG is what the markers put in."""
    html = _render("<svg><text>fake diagram</text></svg>\n\n{{ state_diagram }}\n")
    assert html.count("<svg") == 1
    assert "fake diagram" not in html
    assert "TCP connection state diagram" in html


def test_rendering_placeholder_cannot_be_forged() -> None:
    """Text that looks like an internal placeholder stays text."""
    html = _render("LESSONPART0000000000000000X0 and {{ scenario:handshake }} inline", [HANDSHAKE])
    assert "LESSONPART0000000000000000X0" in html
    # A marker that is not alone on its line is text, and the scenario is still shown once, after the text.
    assert html.count('data-scenario="handshake"') == 1


def test_rendering_unknown_scenario_marker_shows_notice() -> None:
    """A marker naming no scenario shows a notice instead of failing the page."""
    html = _render("{{ scenario:ghost }}\n")
    assert "alert-error" in html


def test_rendering_bad_scenario_spec_shows_notice() -> None:
    """A scenario the engine rejects (say, after a careless admin edit) shows a notice, not a 500."""
    bad: dict[str, object] = {
        "id": "bad",
        "title": {"en": "Bad", "zh-hans": "坏"},
        "spec": {"steps": [{"do": "fly"}]},
    }
    html = _render("{{ scenario:bad }}\n", [bad])
    assert "alert-error" in html


def test_rendering_unplaced_scenarios_are_appended() -> None:
    """A scenario the body never places is still shown, after the text."""
    html = _render("Just text.", [HANDSHAKE])
    assert html.index("Just text.") < html.index('data-scenario="handshake"')


def test_rendering_chinese_labels() -> None:
    """In Chinese the scenario's title, the states' Chinese names and the endpoints are translated."""
    html = _render("{{ scenario:handshake }}\n", [HANDSHAKE], lang="zh-hans")
    assert "客户端连接" in html
    assert "同步已发送" in html


def test_rendering_skill_labels() -> None:
    """Skills are shown by name: a concept's title, or the arc with its next state."""
    assert skill_label("c:two_msl", "en") == "Why TIME_WAIT lasts 2MSL"
    assert skill_label("t:FIN_WAIT_1:rcv_fin", "en") == "FIN_WAIT_1: receives FIN → CLOSING"
    assert "终止等待1" in skill_label("t:FIN_WAIT_1:rcv_fin", "zh-hans")
