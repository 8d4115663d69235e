"""Lesson bodies: Markdown → HTML → nh3 sanitiser, then the engine's diagrams put in by us.

Markdown written by instructors may contain raw HTML; whatever it contains comes out of the
sanitiser inert (no script, no event handler, no javascript: URL). The diagrams and players are
inserted *after* sanitising, in place of placeholders the author cannot forge (a fresh random token
per rendering), so the only SVG in a lesson is the engine's.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import markdown
import nh3
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown.extensions.toc import slugify_unicode

from lessons import diagrams
from lessons.content import LANGS, MARKER_RE, skill_parts, transition_skills
from questions.engine import RFC9293, IllegalTransition, transition
from questions.engine.concepts import CONCEPTS, EVENT_NAMES, state_label
from questions.engine.scenario import ScenarioError

logger = logging.getLogger(__name__)

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
        "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol", "p", "pre", "s", "samp",
        "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "details": {"open"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "ol": {"start"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan", "scope"},
}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
MARKDOWN_EXTENSIONS: list[Any] = ["tables", "fenced_code", "md_in_html", "sane_lists", "toc"]
_DETAILS_OPEN_RE = re.compile(r"<details(?![^>]*\bmarkdown=)(\s[^>]*)?>", re.I)


def _heading_id(value: str, separator: str) -> str:
    # Prefixed so a heading never takes an id the page itself uses.
    return "h-" + str(slugify_unicode(value, separator))


def sanitize(html: str) -> str:
    """Keep only the allowlisted tags, attributes and URL schemes."""
    return str(
        nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=set(URL_SCHEMES),
            clean_content_tags={"script", "style"},
            filter_style_properties={"text-align"},
            link_rel="noopener noreferrer",
        )
    )


def markdown_to_safe_html(text: str) -> str:
    """Markdown (tables, fenced code, Markdown inside <details>) rendered and sanitised."""
    # Markdown inside a raw <details> block is rendered only when the block asks for it.
    prepared = _DETAILS_OPEN_RE.sub(lambda m: f'<details markdown="1"{m.group(1) or ""}>', text)
    html = markdown.markdown(
        prepared,
        extensions=MARKDOWN_EXTENSIONS,
        extension_configs={"toc": {"slugify": _heading_id}},
        output_format="html",
    )
    return sanitize(html)


@dataclass(frozen=True)
class SkillView:
    id: str
    label: str


def skill_label(skill: str, lang: str) -> str:
    """A skill as shown to a student: the concept's title, or "STATE: event → NEXT"."""
    if skill in CONCEPTS:
        return CONCEPTS[skill][lang]
    parts = skill_parts(skill)
    if parts is None:
        return skill
    state, event = parts
    colon = "：" if lang == "zh-hans" else ": "
    text = f"{state_label(state, lang)}{colon}{EVENT_NAMES[event][lang]}"
    try:
        row = transition(state, event, RFC9293)
    except IllegalTransition:
        return text
    if row.next_state is state:
        return text
    return f"{text} → {state_label(row.next_state, lang)}"


def skill_views(skills: Sequence[str], lang: str) -> list[SkillView]:
    return [SkillView(id=s, label=skill_label(s, lang)) for s in skills]


def _scenario_html(scenario: Mapping[str, Any], lang: str, index: int) -> str:
    sid = str(scenario.get("id", index))
    prefix = f"scenario-{index}"
    title_text = scenario.get("title")
    title = str(title_text.get(lang) or title_text.get("en") or sid) if isinstance(title_text, dict) else sid
    try:
        view = diagrams.scenario_view(scenario.get("spec") or {}, lang, f"{prefix}-ladder")
    except ScenarioError as exc:
        logger.warning("scenario %s cannot be run: %s", sid, exc)
        return render_to_string("lessons/_problem.html", {"message": _("This scenario cannot be shown.")})
    return render_to_string(
        "lessons/_scenario.html",
        {
            "scenario_id": sid,
            "prefix": prefix,
            "frames_id": f"{prefix}-frames",
            "title": title,
            "frames": view["frames"],
            "names": view["names"],
            "ladder_svg": mark_safe(view["ladder_svg"]),  # noqa: S308 - the engine's SVG, escaped by it
        },
    )


def _state_diagram_html(skills: Sequence[str], lang: str, index: int) -> str:
    highlight = transition_skills(skills)
    svg = diagrams.state_diagram(highlight, lang, id_prefix=f"state-diagram-{index}")
    return render_to_string(
        "lessons/_state_diagram.html",
        {
            "svg": mark_safe(svg),  # noqa: S308 - the engine's SVG, escaped by it
            "path": [skill_label(s, lang) for s in highlight],
            "prefix": f"state-diagram-{index}",
        },
    )


@dataclass(frozen=True)
class RenderedLesson:
    html: SafeString
    shown_scenarios: tuple[str, ...]
    has_player: bool


def render_lesson_body(
    *, body_markdown: str, scenarios: Sequence[Mapping[str, Any]], skills: Sequence[str], lang: str
) -> RenderedLesson:
    """The lesson's HTML: its Markdown sanitised, with the engine's diagrams where the markers were.

    A scenario the body does not place is added after the text, so every scenario is shown.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    by_id = {str(s.get("id")): s for s in scenarios if isinstance(s, Mapping)}
    token = f"LESSONPART{secrets.token_hex(8)}X"
    parts: list[tuple[str, str]] = []

    def placeholder(match: re.Match[str]) -> str:
        parts.append(("scenario", match.group("scenario")) if match.group("scenario") else ("diagram", ""))
        return f"\n\n{token}{len(parts) - 1}\n\n"

    html = markdown_to_safe_html(MARKER_RE.sub(placeholder, body_markdown))
    shown: list[str] = []
    order = list(by_id)
    rendered: dict[int, str] = {}
    for number, (kind, sid) in enumerate(parts):
        if kind == "diagram":
            rendered[number] = _state_diagram_html(skills, lang, number)
        elif sid in by_id:
            shown.append(sid)
            rendered[number] = _scenario_html(by_id[sid], lang, len(shown))
        else:
            rendered[number] = render_to_string(
                "lessons/_problem.html", {"message": _("This lesson names a scenario it does not define.")}
            )

    def component_for(match: re.Match[str]) -> str:
        number = match.group(1) or match.group(2)
        return rendered.get(int(number), "")

    html = re.sub(rf"<p>{token}(\d+)</p>|{token}(\d+)", component_for, html)
    extra = [s for s in order if s not in shown]
    for sid in extra:
        shown.append(sid)
        html += _scenario_html(by_id[sid], lang, len(shown))
    return RenderedLesson(
        html=mark_safe(html),  # noqa: S308 - sanitised above; the components are ours
        shown_scenarios=tuple(shown),
        has_player=bool(shown),
    )
