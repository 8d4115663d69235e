"""The course on disk: lesson files and the glossary, parsed and checked. No database here.

A lesson is one Markdown file per language (``content/<lang>/NN-name.md``) with YAML front matter;
the glossary is ``content/glossary.yaml``. ``lesson_problems`` is the one check a lesson must pass,
whether it comes from a file (``load_lessons``) or from an instructor's edit in the admin.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from questions.engine import TABLE, Event, State
from questions.engine.concepts import CONCEPTS
from questions.engine.scenario import ScenarioError, run_scenario

CONTENT_DIR = Path(__file__).resolve().parent / "content"
LANGS: tuple[str, ...] = ("en", "zh-hans")
TRANSITION_IDS: frozenset[str] = frozenset(row.id for row in TABLE)

# A body marker sits alone on its line: {{ scenario:ID }} or {{ state_diagram }}.
MARKER_RE = re.compile(
    r"^[ \t]*\{\{\s*(?:scenario:(?P<scenario>[A-Za-z0-9_-]+)|(?P<diagram>state_diagram))\s*\}\}[ \t]*$", re.M
)


@dataclass(frozen=True)
class LessonSource:
    """One lesson file, parsed."""

    slug: str
    lang: str
    order: int
    title: str
    summary: str
    body_markdown: str
    skills: list[str]
    topics: list[str]
    corrects: list[str]
    scenarios: list[dict[str, Any]]
    path: str
    source_hash: str

    def fields(self) -> dict[str, Any]:
        """The editable fields, as stored on a Lesson row."""
        return {
            "order": self.order,
            "title": self.title,
            "summary": self.summary,
            "body_markdown": self.body_markdown,
            "skills": self.skills,
            "topics": self.topics,
            "corrects": self.corrects,
            "scenarios": self.scenarios,
        }


@dataclass(frozen=True)
class GlossarySource:
    """One glossary entry in one language, parsed."""

    key: str
    lang: str
    order: int
    term: str
    definition: str
    aliases: str
    lessons: list[str]
    source_hash: str

    def fields(self) -> dict[str, Any]:
        """The editable fields, as stored on a GlossaryEntry row."""
        return {
            "order": self.order,
            "term": self.term,
            "definition": self.definition,
            "aliases": self.aliases,
            "lessons": self.lessons,
        }


@dataclass
class CourseSource:
    """Everything under a content directory, with the problems found while reading it."""

    lessons: list[LessonSource] = field(default_factory=list)
    glossary: list[GlossarySource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def sha256(data: bytes | str) -> str:
    """Hex SHA-256 of bytes or UTF-8 text."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def content_hash(fields: Mapping[str, Any]) -> str:
    """A stable hash of a row's editable fields: it changes exactly when one of them changes."""
    return sha256(json.dumps(dict(fields), sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, not {value!r}")
    return list(value)


def read_lesson_file(path: Path, lang: str) -> LessonSource:
    """Parse one lesson file; raises ValueError when its front matter is malformed."""
    raw = path.read_bytes()
    post = frontmatter.loads(raw.decode("utf-8"))
    meta = post.metadata
    missing = [k for k in ("slug", "order", "title") if k not in meta]
    if missing:
        raise ValueError(f"front matter lacks: {', '.join(missing)}")
    order = meta["order"]
    if not isinstance(order, int) or isinstance(order, bool):
        raise ValueError(f"'order' must be an integer, not {order!r}")
    scenarios = meta.get("scenarios") or []
    if not isinstance(scenarios, list) or not all(isinstance(s, dict) for s in scenarios):
        raise ValueError("'scenarios' must be a list of objects")
    return LessonSource(
        slug=str(meta["slug"]),
        lang=lang,
        order=order,
        title=str(meta["title"]),
        summary=str(meta.get("summary") or ""),
        body_markdown=post.content.strip() + "\n",
        skills=_str_list(meta.get("skills")),
        topics=_str_list(meta.get("topics")),
        corrects=_str_list(meta.get("corrects")),
        scenarios=[dict(s) for s in scenarios],
        path=str(path),
        source_hash=sha256(raw),
    )


def read_glossary(path: Path) -> list[GlossarySource]:
    """Parse the glossary: one GlossarySource per entry and language."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError("the glossary is a list of entries")
    out: list[GlossarySource] = []
    for order, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "key" not in entry:
            raise ValueError(f"glossary entry {order} has no key")
        aliases = "\n".join(str(a) for a in entry.get("aliases") or [])
        lessons = [str(s) for s in entry.get("lessons") or []]
        for lang in LANGS:
            text = entry.get(lang)
            if not isinstance(text, dict) or not text.get("term") or not text.get("definition"):
                raise ValueError(f"glossary entry {entry['key']!r} lacks a {lang} term or definition")
            parsed = {"term": str(text["term"]), "definition": str(text["definition"])}
            out.append(
                GlossarySource(
                    key=str(entry["key"]),
                    lang=lang,
                    order=order,
                    term=parsed["term"],
                    definition=parsed["definition"],
                    aliases=aliases,
                    lessons=lessons,
                    source_hash=content_hash(
                        {"order": order, **parsed, "aliases": aliases, "lessons": lessons}
                    ),
                )
            )
    return out


def read_course(content_dir: Path = CONTENT_DIR) -> CourseSource:
    """Read every lesson file and the glossary under ``content_dir``, checking each lesson."""
    course = CourseSource()
    for lang in LANGS:
        for path in sorted((content_dir / lang).glob("*.md")):
            name = f"{lang}/{path.name}"
            try:
                lesson = read_lesson_file(path, lang)
            except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
                course.problems.append(f"{name}: {exc}")
                continue
            problems = lesson_problems(
                body_markdown=lesson.body_markdown, skills=lesson.skills, scenarios=lesson.scenarios
            )
            if problems:
                course.problems.extend(f"{name}: {p}" for p in problems)
                continue
            course.lessons.append(lesson)
    seen: dict[tuple[str, str], str] = {}
    for lesson in course.lessons:
        other = seen.setdefault((lesson.slug, lesson.lang), lesson.path)
        if other != lesson.path:
            course.problems.append(f"{lesson.path}: slug {lesson.slug!r} is also used by {other}")
    glossary_path = content_dir / "glossary.yaml"
    if glossary_path.is_file():
        try:
            course.glossary = read_glossary(glossary_path)
        except (ValueError, yaml.YAMLError) as exc:
            course.problems.append(f"glossary.yaml: {exc}")
    return course


def skill_problem(skill: str) -> str | None:
    """Why ``skill`` is not a known skill id (docs/contracts.md), or None when it is."""
    if skill.startswith("c:"):
        return None if skill in CONCEPTS else f"unknown concept skill {skill!r}"
    if skill.startswith("t:"):
        return None if skill in TRANSITION_IDS else f"no transition {skill!r} in the engine's table"
    return f"skill {skill!r} is neither c:<concept> nor t:<STATE>:<event>"


def scenario_ids_in(body_markdown: str) -> list[str]:
    """The scenario ids the body's markers name, in order."""
    return [m.group("scenario") for m in MARKER_RE.finditer(body_markdown) if m.group("scenario")]


def lesson_problems(*, body_markdown: str, skills: Any, scenarios: Any) -> list[str]:
    """Everything wrong with a lesson's data: unknown skills, malformed scenarios (run by the engine),
    markers that name no scenario. Empty when the lesson can be shown."""
    problems: list[str] = []
    if not isinstance(skills, list):
        problems.append("'skills' must be a list")
    else:
        problems.extend(p for p in (skill_problem(str(s)) for s in skills) if p)
    if not isinstance(scenarios, list):
        return [*problems, "'scenarios' must be a list"]
    ids: list[str] = []
    for index, scenario in enumerate(scenarios, start=1):
        if not isinstance(scenario, dict) or not isinstance(scenario.get("id"), str):
            problems.append(f"scenario {index} has no id")
            continue
        sid = scenario["id"]
        if sid in ids:
            problems.append(f"scenario id {sid!r} is used twice")
        ids.append(sid)
        title = scenario.get("title")
        if not isinstance(title, dict) or not all(isinstance(title.get(lang), str) for lang in LANGS):
            problems.append(f"scenario {sid!r} needs a title in {' and '.join(LANGS)}")
        try:
            run_scenario(scenario.get("spec"))
        except ScenarioError as exc:
            problems.append(f"scenario {sid!r} is rejected by the engine: {exc}")
    for sid in scenario_ids_in(body_markdown):
        if sid not in ids:
            problems.append(f"the body shows scenario {sid!r}, which the lesson does not define")
    return problems


def transition_skills(skills: Sequence[str]) -> tuple[str, ...]:
    """The ``t:`` skills of a lesson: the path its state diagram highlights."""
    return tuple(s for s in skills if s.startswith("t:"))


def skill_parts(skill: str) -> tuple[State, Event] | None:
    """(state, event) of a ``t:STATE:event`` skill id, or None for any other id."""
    parts = skill.split(":")
    if len(parts) != 3 or parts[0] != "t":
        return None
    try:
        return State[parts[1]], Event(parts[2])
    except (KeyError, ValueError):
        return None
