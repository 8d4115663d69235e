"""Properties every question family keeps: keys grade full marks, distractors do not, seeds are
deterministic, both languages render, malformed answers are format errors, semantic graders accept
other valid answers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questions.generators import misconceptions
from questions.generators.base import LANGS, Difficulty, InputKind, Variant
from questions.generators.registry import FAMILY_MODULES, families, get_family, make_variant
from questions.generators.state_sequence import successors

FAMILIES = list(families())
seeds = st.integers(min_value=0, max_value=2**62)
difficulties = st.sampled_from(list(Difficulty))
CJK = re.compile(r"[\u4e00-\u9fff]")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wrong_answers(variant: Variant) -> Iterator[Any]:
    """Answers that must score below full marks (and are not format errors)."""
    kind = variant.kind
    if kind is InputKind.SINGLE:
        for choice in variant.choices:
            if choice.id != variant.key["choice"]:
                yield {"choice": choice.id}
    elif kind is InputKind.MULTIPLE:
        key = set(variant.key["choices"])
        for choice in variant.choices:
            yield {"choices": sorted(key ^ {choice.id})}
    elif kind is InputKind.NUMERIC:
        for field in variant.key["values"]:
            values = dict(variant.key["values"])
            values[field] += 1
            yield {"values": values}
    elif kind is InputKind.LADDER:
        for cell, value in variant.key["cells"].items():
            cells = dict(variant.key["cells"])
            column = cell.split(".")[1]
            if column.startswith("state"):
                cells[cell] = "CLOSING" if value != "CLOSING" else "LISTEN"
            elif column == "flags":
                cells[cell] = "RST" if value != "RST" else "SYN"
            else:
                cells[cell] = str(int(value) + 1)
            yield {"cells": cells}
    elif kind is InputKind.TRACE_STEP:
        for step in [None, *range(1, len(variant.widget["steps"]) + 1)]:
            if step != variant.key["step"]:
                yield {"step": step}
    elif kind is InputKind.ORDER:
        order = list(variant.key["order"])
        for i in range(len(order) - 1):
            swapped = [*order[:i], order[i + 1], order[i], *order[i + 2 :]]
            if not _valid_order(variant, swapped):
                yield {"order": swapped}


def _valid_order(variant: Variant, order: list[str]) -> bool:
    from questions.engine import PROFILES, State

    nxt = successors(PROFILES[variant.params["profile"]])
    path = [variant.params["start"], *order, *([variant.params["end"]] if variant.params["end"] else [])]
    return all(State[b] in nxt[State[a]] for a, b in itertools.pairwise(path))


def texts(value: Any) -> Iterator[Any]:
    """Every bilingual text inside ``value``."""
    if isinstance(value, dict):
        if set(value) == set(LANGS):
            yield value
        else:
            for item in value.values():
                yield from texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts(item)


@pytest.mark.parametrize("name", FAMILIES)
def test_registry_family_name_matches_module(name: str) -> None:
    """Every family is registered under its own name and next_state comes first."""
    assert get_family(name).name == name
    assert FAMILY_MODULES[0] == "next_state"


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_key_grades_full_marks(name: str, seed: int, difficulty: Difficulty) -> None:
    """Answering the key scores 1.0 with no format error."""
    variant = make_variant(name, seed, difficulty)
    result = get_family(name).grade(variant, variant.key)
    assert result.correct, result.feedback
    assert result.score == 1.0


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_distractors_grade_below_full_marks(name: str, seed: int, difficulty: Difficulty) -> None:
    """Every wrong choice (or perturbed key) scores below 1.0 and is not a format error."""
    variant = make_variant(name, seed, difficulty)
    family = get_family(name)
    for answer in wrong_answers(variant):
        result = family.grade(variant, answer)
        assert result.format_error is None, (answer, result.format_error)
        assert result.score < 1.0, answer


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_same_seed_same_variant(name: str, seed: int, difficulty: Difficulty) -> None:
    """Two variants from the same (family, seed, difficulty, engine version) are equal."""
    assert make_variant(name, seed, difficulty) == make_variant(name, seed, difficulty)


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_renders_both_languages(name: str, seed: int, difficulty: Difficulty) -> None:
    """Prompt, choices, widget and explanation exist in both languages, the Chinese differs and has CJK."""
    variant = make_variant(name, seed, difficulty)
    for lang in LANGS:
        shown = variant.public(lang)
        assert shown["prompt"]
        assert all(c["text"] for c in shown["choices"])
    for value in [
        variant.prompt,
        variant.explanation,
        *(c.text for c in variant.choices),
        *texts(variant.widget),
    ]:
        assert value["en"], value
        assert value["zh-hans"], value
    for value in (variant.prompt, variant.explanation):
        assert value["zh-hans"] != value["en"]
        assert CJK.search(value["zh-hans"]), value["zh-hans"]
        assert not CJK.search(value["en"]), value["en"]


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_choices_are_distinct_and_tagged_from_the_catalogue(
    name: str, seed: int, difficulty: Difficulty
) -> None:
    """No two choices read the same, no distractor equals the key, misconceptions come from the catalogue."""
    variant = make_variant(name, seed, difficulty)
    shown = [c.text["en"] for c in variant.choices]
    assert len(shown) == len(set(shown))
    for choice in variant.choices:
        assert choice.misconception is None or choice.misconception in misconceptions.BY_ID


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_skills_use_contract_ids(name: str, seed: int, difficulty: Difficulty) -> None:
    """Skills are transition ids t:STATE:event or concept ids c:name known to the engine."""
    from questions.engine import Event, State
    from questions.engine.concepts import CONCEPTS

    variant = make_variant(name, seed, difficulty)
    assert variant.skills
    for skill in variant.skills:
        if skill.startswith("t:"):
            _t, state, event = skill.split(":")
            assert state in State.__members__
            Event(event)
        else:
            assert skill in CONCEPTS, skill


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize(
    "answer", [None, "b", {}, {"choice": 3}, {"values": "x"}, {"cells": []}, {"step": "x"}]
)
def test_family_malformed_answer_is_a_format_error(name: str, answer: Any) -> None:
    """A malformed answer gives a format error and no score."""
    variant = make_variant(name, 11, Difficulty.MEDIUM)
    result = get_family(name).grade(variant, answer)
    assert result.format_error is not None
    assert result.score == 0.0


@pytest.mark.parametrize("name", FAMILIES)
@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_family_recompute_from_ref_gives_the_same_variant(
    name: str, seed: int, difficulty: Difficulty
) -> None:
    """A variant rebuilt from its stored reference is the same variant."""
    from questions.generators.bank import recompute

    variant = make_variant(name, seed, difficulty)
    assert recompute(variant.ref()) == variant


@pytest.mark.parametrize("name", FAMILIES)
@settings(max_examples=10, deadline=None)
@given(seed=seeds, difficulty=difficulties)
def test_family_rebuild_from_params_asks_the_same_question(
    name: str, seed: int, difficulty: Difficulty
) -> None:
    """``Family.rebuild(params)`` gives the same question (canonical form) with the same key text."""
    family = get_family(name)
    variant = make_variant(name, seed, difficulty)
    assert family.rebuild is not None
    again = family.rebuild(variant.params, difficulty, seed)
    assert again.canonical == variant.canonical
    if variant.kind is InputKind.SINGLE:
        key = next(c for c in variant.choices if c.id == variant.key["choice"])
        again_key = next(c for c in again.choices if c.id == again.key["choice"])
        assert key.text == again_key.text
    elif variant.kind is not InputKind.MULTIPLE:
        assert again.key == variant.key
