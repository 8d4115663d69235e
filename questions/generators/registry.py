"""Every question family by name, and the one way to make a variant from its seed."""

from __future__ import annotations

import importlib
from functools import cache

from questions.engine import ENGINE_VERSION
from questions.generators.base import Difficulty, Family, Variant, rng_for

# Module names under questions.generators, one family each. Order = order shown to instructors.
FAMILY_MODULES: tuple[str, ...] = (
    "next_state",
    "which_event",
    "segment_sent",
    "state_sequence",
    "seq_ack",
    "ladder",
    "trace_validity",
    "which_side",
    "timers",
    "loss_recovery",
    "simultaneous",
    "rst",
    "concepts",
    "rfc_vs_linux",
)


@cache
def families() -> dict[str, Family]:
    """All families, keyed by name (imported once; callers must not modify the dict)."""
    found: dict[str, Family] = {}
    for module_name in FAMILY_MODULES:
        module = importlib.import_module(f"questions.generators.{module_name}")
        family: Family = module.FAMILY
        found[family.name] = family
    return found


def get_family(name: str) -> Family:
    """The family called ``name``; KeyError if there is none."""
    return families()[name]


def make_variant(family: str, seed: int, difficulty: Difficulty | str = Difficulty.MEDIUM) -> Variant:
    """The variant of ``family`` for ``seed``: same seed and engine version, same variant."""
    level = Difficulty(difficulty)
    return get_family(family).generate(rng_for(family, seed, level, ENGINE_VERSION), level, seed)
