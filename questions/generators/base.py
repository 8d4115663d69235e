"""The contract every question family keeps (model: PrairieLearn's generate/grade).

A family is a module exposing ``FAMILY`` (a ``Family`` instance). ``Family.generate`` turns a
``random.Random`` into a ``Variant``; ``Family.grade`` turns a variant and a student's answer into a
``GradeResult``. Everything is plain data (JSON-able), so the Django layer can store a variant and
recompute it from ``(family, seed, difficulty, engine_version)``.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LANGS: tuple[str, ...] = ("en", "zh-hans")

# Text in every supported language: {"en": "...", "zh-hans": "..."}.
Text = Mapping[str, str]
JSON = Any


class Difficulty(enum.StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class InputKind(enum.StrEnum):
    """How the student answers; the browser and the API pick the widget from this.

    Widget data (``Variant.widget``, localised by ``public``) per kind:
    - single / multiple: none; the options are ``choices``.
    - order: ``items`` [{id, text}] in shown order, ``start`` {id, text} (given first state), ``end``
      (a state id the path must reach after the last item, or null). Answer: every item id, once.
    - numeric: ``fields`` [{id, label, unit?, min?, segment?}]; seq/ack also ``segments``
      [{n, from, to, flags, len, fate, text}] and ``modulo`` (2**32). Answer: a value for every field.
    - ladder: ``names`` {a, b}, ``columns`` [state_a, flags, seq, ack, state_b], ``rows``
      [{n, from, len, fate, cells {column: value | null}}] where null is a blank and "-" means "no
      value" (e.g. no ack on a SYN), ``blanks`` ["r<n>.<column>"], ``options`` {state: [...], flags:
      [...]}. Answer: a string for every blank (states in any common spelling, flags in any order).
    - trace_step: ``steps`` [{n, state, event, event_text, next, sends}], ``valid_label``.
      Answer: the 1-based step number, or null for "the trace is valid".
    """

    SINGLE = "single"  # answer: {"choice": "<choice id>"}
    MULTIPLE = "multiple"  # answer: {"choices": ["<id>", ...]}
    ORDER = "order"  # answer: {"order": ["<item id>", ...]}
    NUMERIC = "numeric"  # answer: {"values": {"<field id>": <int>, ...}}
    LADDER = "ladder"  # answer: {"cells": {"<cell id>": "<value>", ...}}
    TRACE_STEP = "trace_step"  # answer: {"step": <int> | null}  (null = "the trace is valid")


@dataclass(frozen=True)
class Choice:
    """One option shown to the student. ``misconception`` is never sent before grading."""

    id: str
    text: Text
    misconception: str | None = None


@dataclass(frozen=True)
class Variant:
    """One generated question. ``public()`` is what a student may see before grading."""

    family: str
    seed: int
    difficulty: Difficulty
    engine_version: str
    kind: InputKind
    prompt: Text
    choices: tuple[Choice, ...]
    key: JSON
    explanation: Text
    skills: tuple[str, ...]
    canonical: str
    params: Mapping[str, JSON] = field(default_factory=dict)
    # Extra, student-visible widget data (items to order, numeric fields, ladder rows, trace steps).
    widget: Mapping[str, JSON] = field(default_factory=dict)
    diagram_svg: str | None = None
    # Optional per-language diagrams ({"en": svg, "zh-hans": svg}); wins over ``diagram_svg``.
    diagrams: Mapping[str, str] = field(default_factory=dict)

    def public(self, lang: str) -> dict[str, JSON]:
        """The question as shown before grading: no key, explanation or misconceptions."""
        return {
            "family": self.family,
            "kind": str(self.kind),
            "difficulty": str(self.difficulty),
            "prompt": self.prompt[lang],
            "choices": [{"id": c.id, "text": c.text[lang]} for c in self.choices],
            "widget": _localize(self.widget, lang),
            "diagram_svg": self.diagrams.get(lang, self.diagram_svg),
        }

    def ref(self) -> dict[str, JSON]:
        """What to store to recompute this variant: ``bank.recompute(ref)`` rebuilds it."""
        return {
            "family": self.family,
            "seed": self.seed,
            "difficulty": str(self.difficulty),
            "engine_version": self.engine_version,
            "params": dict(self.params),
        }

    def full(self, lang: str) -> dict[str, JSON]:
        """Everything an instructor may see: the public part plus key, explanation and skills."""
        shown = self.public(lang)
        shown.update(
            seed=self.seed,
            engine_version=self.engine_version,
            key=self.key,
            explanation=self.explanation[lang],
            skills=list(self.skills),
            canonical=self.canonical,
            params=dict(self.params),
            misconceptions={c.id: c.misconception for c in self.choices if c.misconception},
        )
        return shown


@dataclass(frozen=True)
class GradeResult:
    """``score`` in [0, 1]. A ``format_error`` means the answer was malformed and costs nothing."""

    score: float
    feedback: Text
    format_error: Text | None = None
    misconception: str | None = None
    first_wrong_step: int | None = None

    @property
    def correct(self) -> bool:
        return self.format_error is None and self.score >= 1.0


@dataclass(frozen=True)
class Family:
    name: str
    title: Text
    generate: Callable[[random.Random, Difficulty, int], Variant]  # (rng, difficulty, seed)
    grade: Callable[[Variant, JSON], GradeResult]
    two_endpoint: bool = False
    # Rebuild a variant from its stored params with the current engine (same question, fresh key).
    rebuild: Callable[[Mapping[str, JSON], Difficulty, int], Variant] | None = None


class NotWellPosed(Exception):
    """A sampled variant is ambiguous or degenerate; the family draws again from the same stream."""


def resample(draw: Callable[[], Variant], attempts: int = 64) -> Variant:
    """The first well-posed variant ``draw`` returns; deterministic since ``draw`` reads one rng."""
    for _ in range(attempts):
        try:
            return draw()
        except NotWellPosed:
            continue
    raise NotWellPosed(f"no well-posed variant in {attempts} draws")


def text(en: str, zh: str) -> dict[str, str]:
    """A bilingual text."""
    return {"en": en, "zh-hans": zh}


def fmt(template: Text, **values: object) -> dict[str, str]:
    """``template`` formatted in every language; a bilingual value is taken in the same language."""
    bilingual = {k for k, v in values.items() if isinstance(v, dict)}
    if len(bilingual) < len(values):
        bilingual |= {k for k, v in values.items() if k not in bilingual and isinstance(v, Mapping)}
    return {
        lang: template[lang].format(**{k: (v[lang] if k in bilingual else v) for k, v in values.items()})  # type: ignore[index]
        for lang in LANGS
    }


def join(parts: Iterable[Text], sep: Text | str = "") -> dict[str, str]:
    """The ``parts`` concatenated language by language."""
    items = list(parts)
    return {
        lang: (sep[lang] if isinstance(sep, Mapping) else sep).join(p[lang] for p in items) for lang in LANGS
    }


def format_error(en: str, zh: str) -> GradeResult:
    """A malformed answer: no score, no penalty."""
    message = text(en, zh)
    return GradeResult(score=0.0, feedback=message, format_error=message)


# The answer shape each kind expects, for format errors.
_SHAPES: dict[InputKind, Text] = {
    InputKind.SINGLE: text('{"choice": "<id>"}', '{"choice": "<选项 id>"}'),
    InputKind.MULTIPLE: text('{"choices": ["<id>", ...]}', '{"choices": ["<选项 id>", ...]}'),
    InputKind.ORDER: text('{"order": ["<id>", ...]}', '{"order": ["<条目 id>", ...]}'),
    InputKind.NUMERIC: text('{"values": {"<field>": <int>}}', '{"values": {"<字段>": <整数>}}'),
    InputKind.LADDER: text('{"cells": {"<cell>": "<value>"}}', '{"cells": {"<格子>": "<值>"}}'),
    InputKind.TRACE_STEP: text('{"step": <int> | null}', '{"step": <整数> | null}'),
}


def shape_error(kind: InputKind) -> GradeResult:
    """The format error for an answer that does not have ``kind``'s shape."""
    shape = _SHAPES[kind]
    return format_error(
        f"Malformed answer: expected {shape['en']}.", f"答案格式不正确：应为 {shape['zh-hans']}。"
    )


def parse_answer(variant: Variant, answer: JSON) -> JSON | GradeResult:
    """The answer's payload checked against the variant's kind, or a format-error result.

    single → choice id (str); multiple → frozenset of ids; order → list of ids (each once);
    numeric → dict field → int; ladder → dict cell → str; trace_step → int | None.
    """
    kind = variant.kind
    if not isinstance(answer, Mapping):
        return shape_error(kind)
    ids = {c.id for c in variant.choices}
    if kind is InputKind.SINGLE:
        choice = answer.get("choice")
        if not isinstance(choice, str) or choice not in ids:
            return shape_error(kind)
        return choice
    if kind is InputKind.MULTIPLE:
        chosen = answer.get("choices")
        if not isinstance(chosen, list | tuple) or not all(isinstance(c, str) and c in ids for c in chosen):
            return shape_error(kind)
        return frozenset(chosen)
    if kind is InputKind.ORDER:
        order = answer.get("order")
        items = {item["id"] for item in variant.widget.get("items", ())}
        if (
            not isinstance(order, list | tuple)
            or not all(isinstance(i, str) and i in items for i in order)
            or len(set(order)) != len(order)
        ):
            return shape_error(kind)
        return list(order)
    if kind is InputKind.NUMERIC:
        values = answer.get("values")
        fields = {f["id"] for f in variant.widget.get("fields", ())}
        if not isinstance(values, Mapping) or set(values) != fields:
            return shape_error(kind)
        parsed: dict[str, int] = {}
        for name, value in values.items():
            number = _as_int(value)
            if number is None:
                return shape_error(kind)
            parsed[name] = number
        return parsed
    if kind is InputKind.LADDER:
        cells = answer.get("cells")
        blanks = set(variant.widget.get("blanks", ()))
        if (
            not isinstance(cells, Mapping)
            or set(cells) != blanks
            or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in cells.values())
        ):
            return shape_error(kind)
        return {k: str(v) for k, v in cells.items()}
    # TRACE_STEP
    if "step" not in answer:
        return shape_error(kind)
    step = answer["step"]
    if step is None:
        return None
    number = _as_int(step)
    if number is None or not 1 <= number <= len(variant.widget.get("steps", ())):
        return shape_error(kind)
    return number


def _as_int(value: JSON) -> int | None:
    """An integer given as a JSON number or a decimal string; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def _localize(value: JSON, lang: str) -> JSON:
    """Replace every {"en": ..., "zh-hans": ...} mapping inside ``value`` by its ``lang`` text."""
    if isinstance(value, Mapping):
        if set(value) == set(LANGS):
            return value[lang]
        return {k: _localize(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localize(v, lang) for v in value]
    return value


def rng_for(family: str, seed: int, difficulty: Difficulty, engine_version: str) -> random.Random:
    """The one place a variant's randomness comes from: same inputs, same stream."""
    return random.Random(f"{family}|{seed}|{difficulty}|{engine_version}")
