"""A generated Variant as JSON and back, so an attempt grades exactly what its student was shown."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from django.db import models

from questions.generators import diagrams
from questions.generators.base import LANGS, Choice, Difficulty, InputKind, Variant


def variant_to_json(variant: Variant) -> dict[str, Any]:
    """Everything of ``variant`` (key, explanation and misconceptions included) as plain JSON."""
    return {
        "family": variant.family,
        "seed": variant.seed,
        "difficulty": str(variant.difficulty),
        "engine_version": variant.engine_version,
        "kind": str(variant.kind),
        "prompt": dict(variant.prompt),
        "choices": [
            {"id": c.id, "text": dict(c.text), "misconception": c.misconception} for c in variant.choices
        ],
        "key": variant.key,
        "explanation": dict(variant.explanation),
        "skills": list(variant.skills),
        "canonical": variant.canonical,
        "params": dict(variant.params),
        "widget": dict(variant.widget),
        "diagram_svg": variant.diagram_svg,
    }


def variant_from_json(data: dict[str, Any]) -> Variant:
    """The Variant that ``variant_to_json`` stored."""
    return Variant(
        family=data["family"],
        seed=data["seed"],
        difficulty=Difficulty(data["difficulty"]),
        engine_version=data["engine_version"],
        kind=InputKind(data["kind"]),
        prompt=data["prompt"],
        choices=tuple(
            Choice(id=c["id"], text=c["text"], misconception=c.get("misconception")) for c in data["choices"]
        ),
        key=data["key"],
        explanation=data["explanation"],
        skills=tuple(data["skills"]),
        canonical=data["canonical"],
        params=data.get("params", {}),
        widget=data.get("widget", {}),
        diagram_svg=data.get("diagram_svg"),
    )


def variant_public_all(variant: Variant) -> dict[str, Any]:
    """``Variant.public`` in every language: ``{"en": {...}, "zh-hans": {...}}``."""
    return {lang: variant.public(lang) for lang in LANGS}


# --- Shared diagrams, stored once ---------------------------------------------------------------------
# Most questions show the plain state diagram (13 KB per language), which a stored attempt question
# would otherwise repeat three times (variant, public en, public zh-hans): nine tenths of its bytes. It
# is stored as a short token and put back when read, so every reader still sees the whole SVG (the
# same str object, never decoded from JSON again).

SHARED_DIAGRAM_PREFIX = "tcpquiz:shared-diagram:"


@cache
def _shared_diagrams() -> dict[str, str]:
    """token -> SVG for every shared diagram (the plain state diagram in each language)."""
    return {f"{SHARED_DIAGRAM_PREFIX}state:{lang}": svg for lang, svg in diagrams.state_diagrams().items()}


@cache
def _shared_tokens() -> dict[str, str]:
    return {svg: token for token, svg in _shared_diagrams().items()}


def shared_diagram_name(svg: Any) -> tuple[str, str] | None:
    """``(name, lang)`` if ``svg`` is one of the shared diagrams (e.g. ``("state", "en")``), else None."""
    token = _shared_tokens().get(svg) if isinstance(svg, str) and len(svg) > 1000 else None
    if token is None:
        return None
    name, _sep, lang = token.removeprefix(SHARED_DIAGRAM_PREFIX).partition(":")
    return name, lang


def shared_diagram_svg(name: str, lang: str) -> str | None:
    """The shared diagram ``name`` in ``lang``, or None if there is no such one."""
    return _shared_diagrams().get(f"{SHARED_DIAGRAM_PREFIX}{name}:{lang}")


@cache
def _shared_as_json() -> list[tuple[str, str]]:
    """(SVG, token) as they appear in ``json_dumps`` text."""
    return [(json_dumps(svg), json_dumps(token)) for token, svg in _shared_diagrams().items()]


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_loads(text: str | bytes) -> Any:
    """``json.loads(text)``, by orjson (a start decodes about 40 texts: 3.5 us each for a public
    payload of 1.2 KB against 1.2). What orjson refuses and the standard library reads (NaN, an
    integer beyond 64 bits) is read by the standard library."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def diagrams_compact(value: Any) -> Any:
    """``value`` with every shared diagram replaced by its token (a new structure; ``value`` is kept)."""
    if isinstance(value, str):
        return _shared_tokens().get(value, value) if len(value) > 1000 else value
    if isinstance(value, dict):
        return {k: diagrams_compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [diagrams_compact(v) for v in value]
    return value


def _expand_anywhere(value: Any) -> Any:
    if isinstance(value, str):
        return _shared_diagrams().get(value, value) if value.startswith(SHARED_DIAGRAM_PREFIX) else value
    if isinstance(value, dict):
        return {k: _expand_anywhere(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_anywhere(v) for v in value]
    return value


def diagrams_expand(value: Any, tokens: int | None = None) -> Any:
    """``value`` with every shared-diagram token replaced by its SVG; returns it (changed in place
    where it can be). ``tokens``, if known, is how many there are: diagrams sit one or two levels
    down (``diagram_svg``, ``public[lang]["diagram_svg"]``), so only those levels are looked at unless
    some token is left over."""
    shared = _shared_diagrams()
    found = 0
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) is str:
                if item.startswith(SHARED_DIAGRAM_PREFIX):
                    value[key] = shared.get(item, item)
                    found += 1
            elif type(item) is dict:
                for inner_key, inner in item.items():
                    if type(inner) is str and inner.startswith(SHARED_DIAGRAM_PREFIX):
                        item[inner_key] = shared.get(inner, inner)
                        found += 1
    if tokens is None or found < tokens:
        return _expand_anywhere(value)
    return value


@dataclass(frozen=True)
class StoredJSON:
    """JSON text ready for a VariantJSONField (shared diagrams as tokens), stored without re-encoding."""

    text: str

    @classmethod
    def of(cls, value: Any) -> StoredJSON:
        return cls(_compact_text(json_dumps(value)))

    def value(self) -> Any:
        return diagrams_expand(json_loads(self.text), self.text.count(SHARED_DIAGRAM_PREFIX))


def choices_in_order(shown: dict[str, Any], order: list[int] | None) -> dict[str, Any]:
    """One language's public payload with its choices in ``order`` (indexes); as it is if None."""
    return shown | {"choices": [shown["choices"][i] for i in order]} if order else shown


class PublicTexts(Mapping[str, Any]):
    """A public payload in every language, kept as each language's stored JSON text and decoded one
    language at a time, when first read (a start answers in one language; the other is never
    decoded), with the choices in ``order`` (indexes) if given."""

    def __init__(self, texts: dict[str, str], order: list[int] | None = None) -> None:
        self.texts = texts
        self.order = order
        self._decoded: dict[str, Any] = {}

    @classmethod
    def of(cls, public: dict[str, Any]) -> PublicTexts:
        """From ``variant_public_all``'s output."""
        return cls({lang: StoredJSON.of(shown).text for lang, shown in public.items()})

    def ordered(self, order: list[int] | None) -> PublicTexts:
        return PublicTexts(self.texts, order)

    def stored(self) -> StoredJSON:
        """The whole payload as one stored JSON object (what ``StoredJSON.of(public)`` would give)."""
        return StoredJSON(
            "{" + ",".join(f"{json_dumps(lang)}:{text}" for lang, text in self.texts.items()) + "}"
        )

    def __getitem__(self, lang: str) -> Any:
        if lang not in self._decoded:
            self._decoded[lang] = choices_in_order(StoredJSON(self.texts[lang]).value(), self.order)
        return self._decoded[lang]

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


def _compact_text(text: str) -> str:
    for svg, token in _shared_as_json():
        if svg in text:
            text = text.replace(svg, token)
    return text


def _identity(text: Any) -> Any:
    return text


class VariantJSONField(models.JSONField):
    """A JSONField that stores shared diagrams as tokens (see above); what is read back is whole.

    A ``StoredJSON`` value (e.g. a pooled variant) is written as it is, with no decoding or encoding.
    """

    def get_prep_value(self, value: Any) -> Any:
        # Lookups (``exact`` and the like) compare against the compact form.
        return super().get_prep_value(diagrams_compact(value))

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        # Having one keeps PostgreSQL's bulk_create from packing the values into a jsonb[] array
        # (UNNEST), which psycopg quotes in Python: 5x slower for an attempt's 20 questions.
        return "%s"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or connection.vendor not in ("sqlite", "postgresql"):
            return super().get_db_prep_value(value, connection, prepared)
        text = value.text if isinstance(value, StoredJSON) else _compact_text(json_dumps(value))
        if connection.vendor == "postgresql":
            from django.db.backends.postgresql.psycopg_any import Jsonb

            return Jsonb(text, dumps=_identity)
        return text

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str):
            tokens = value.count(SHARED_DIAGRAM_PREFIX)
            data = super().from_db_value(value, expression, connection)
            return diagrams_expand(data, tokens) if tokens else data
        return diagrams_expand(super().from_db_value(value, expression, connection))
