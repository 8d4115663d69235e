"""A generated Variant as JSON and back, so an attempt grades exactly what its student was shown."""

from __future__ import annotations

from typing import Any

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
