"""Question banks: recompute a stored variant, and draw a quiz's worth of variants at once.

``recompute(ref)`` rebuilds the variant a stored reference names (``Variant.ref()``: family, seed,
difficulty, engine version, params) with the current engine: the same question, a fresh key, so the
regrade service can grade old answers again. ``batch(rng, families, n)`` draws ``n`` variants with no
two sharing a canonical form (no near-duplicates) and spreads them over distinct transitions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from questions.engine import ENGINE_VERSION
from questions.generators.base import JSON, Difficulty, GradeResult, InputKind, Variant, rng_for
from questions.generators.registry import families, get_family, make_variant


def recompute(ref: Mapping[str, JSON]) -> Variant:
    """The variant ``ref`` names, rebuilt with the current engine (same question, current key).

    With stored params the family's ``rebuild`` is used, so the question stays the same even when
    the engine version (and with it the random stream) has changed; without params the variant is
    drawn again from its seed and the engine version it was made with.
    """
    family = get_family(str(ref["family"]))
    seed = int(ref["seed"])
    level = Difficulty(str(ref.get("difficulty", Difficulty.MEDIUM)))
    params = ref.get("params")
    version = str(ref.get("engine_version", ENGINE_VERSION))
    if version == ENGINE_VERSION or family.rebuild is None or not isinstance(params, Mapping) or not params:
        # Same engine: the very same variant, choices in the same order.
        return family.generate(rng_for(family.name, seed, level, version), level, seed)
    return family.rebuild(params, level, seed)


def regrade(old: Variant, answer: JSON, new: Variant) -> GradeResult:
    """Grade an answer given to ``old`` against ``new`` (its recomputation).

    Choices are matched by their English text, since a rebuilt variant may order them differently;
    other kinds keep their ids (fields, cells, items, steps) and are graded as they are.
    """
    family = get_family(new.family)
    if new.kind in (InputKind.SINGLE, InputKind.MULTIPLE) and isinstance(answer, Mapping):
        by_text = {c.text["en"]: c.id for c in new.choices}
        old_text = {c.id: c.text["en"] for c in old.choices}
        if new.kind is InputKind.SINGLE and "choice" in answer:
            mapped = by_text.get(old_text.get(str(answer["choice"]), ""), "")
            return family.grade(new, {"choice": mapped})
        if new.kind is InputKind.MULTIPLE and isinstance(answer.get("choices"), list):
            ids = [by_text.get(old_text.get(str(c), ""), "") for c in answer["choices"]]
            return family.grade(new, {"choices": ids})
    return family.grade(new, answer)


def transition_skills(variant: Variant) -> frozenset[str]:
    """The transition skills (``t:STATE:event``) a variant exercises."""
    return frozenset(s for s in variant.skills if s.startswith("t:"))


def batch(
    rng: random.Random,
    family_names: Sequence[str] | None = None,
    n: int = 20,
    difficulty: Difficulty | str | None = None,
    candidates: int = 4,
) -> list[Variant]:
    """``n`` variants for one quiz: no two with the same canonical form, spread over transitions.

    Families take turns; for each slot ``candidates`` variants are drawn and the one adding the most
    transitions not yet covered is kept. ``difficulty`` None mixes the three levels. Deterministic
    for a given ``rng`` state.
    """
    names = list(family_names) if family_names else list(families())
    levels = [Difficulty(difficulty)] if difficulty is not None else list(Difficulty)
    chosen: list[Variant] = []
    seen: set[str] = set()
    covered: set[str] = set()
    slot = 0
    budget = n * candidates * 8
    while len(chosen) < n and budget > 0:
        best: Variant | None = None
        best_gain = -1
        for attempt in range(candidates):
            budget -= 1
            name = names[slot % len(names)] if attempt == 0 else rng.choice(names)
            variant = make_variant(name, rng.randrange(1 << 31), rng.choice(levels))
            if variant.canonical in seen:
                continue
            gain = len(transition_skills(variant) - covered)
            if gain > best_gain:
                best, best_gain = variant, gain
        slot += 1
        if best is None:
            continue
        chosen.append(best)
        seen.add(best.canonical)
        covered |= transition_skills(best)
    return chosen
