"""Diagrams for variants, drawn by the engine and cached: a diagram is a pure function of what it
shows, never of the variant's seed, so a bank of thousands of variants draws each one once.

Questions show the plain textbook state diagram (highlighting an arc would give the answer away).
"""

from __future__ import annotations

from functools import lru_cache

from questions.engine import state_diagram_svg
from questions.generators.base import LANGS


@lru_cache(maxsize=256)
def state_diagram(highlight: tuple[str, ...] = (), lang: str = "en") -> str:
    """The textbook state diagram with the transition ids in ``highlight`` emphasised."""
    return state_diagram_svg(highlight=highlight, lang=lang)


@lru_cache(maxsize=256)
def state_diagrams(highlight: tuple[str, ...] = ()) -> dict[str, str]:
    """The state diagram in every language (the same dict object for the same highlight)."""
    return {lang: state_diagram(highlight, lang) for lang in LANGS}
