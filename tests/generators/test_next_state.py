"""The "next state" family: keys from the engine, plausible tagged distractors, both languages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questions.engine import PROFILES, Event, State, transition
from questions.generators import misconceptions
from questions.generators.base import LANGS, Difficulty, InputKind
from questions.generators.common import TEXTBOOK_ARCS
from questions.generators.next_state import FAMILY, pool, rebuild
from questions.generators.registry import get_family, make_variant

seeds = st.integers(min_value=0, max_value=2**62)
difficulties = st.sampled_from(list(Difficulty))


@given(seed=seeds, difficulty=difficulties)
def test_next_state_key_grades_full_marks(seed: int, difficulty: Difficulty) -> None:
    """Answering the key scores 1.0 with no format error."""
    variant = make_variant("next_state", seed, difficulty)
    result = FAMILY.grade(variant, variant.key)
    assert result.score == 1.0
    assert result.correct


@given(seed=seeds, difficulty=difficulties)
def test_next_state_every_distractor_scores_below_one(seed: int, difficulty: Difficulty) -> None:
    """Every choice other than the key scores less than 1.0 and is not a format error."""
    variant = make_variant("next_state", seed, difficulty)
    for choice in variant.choices:
        if choice.id == variant.key["choice"]:
            continue
        result = FAMILY.grade(variant, {"choice": choice.id})
        assert result.score < 1.0
        assert result.format_error is None
        assert result.misconception == choice.misconception


@given(seed=seeds, difficulty=difficulties)
def test_next_state_same_seed_same_variant(seed: int, difficulty: Difficulty) -> None:
    """Two variants from the same (family, seed, difficulty, engine version) are equal."""
    assert make_variant("next_state", seed, difficulty) == make_variant("next_state", seed, difficulty)


@given(seed=seeds, difficulty=difficulties)
def test_next_state_key_is_the_engine_next_state(seed: int, difficulty: Difficulty) -> None:
    """The key's text is the state the engine's table gives for the asked (profile, state, event)."""
    variant = make_variant("next_state", seed, difficulty)
    params = variant.params
    row = transition(State[params["state"]], Event(params["event"]), PROFILES[params["profile"]])
    key = next(c for c in variant.choices if c.id == variant.key["choice"])
    assert key.text["en"] == row.next_state.name
    assert row.id in variant.skills


@given(seed=seeds, difficulty=difficulties)
def test_next_state_four_distinct_choices(seed: int, difficulty: Difficulty) -> None:
    """Four choices with distinct ids and distinct states; exactly one is the key."""
    variant = make_variant("next_state", seed, difficulty)
    assert variant.kind is InputKind.SINGLE
    assert len(variant.choices) == 4
    assert len({c.id for c in variant.choices}) == 4
    assert len({c.text["en"] for c in variant.choices}) == 4
    assert sum(c.id == variant.key["choice"] for c in variant.choices) == 1


@given(seed=seeds, difficulty=difficulties)
def test_next_state_texts_present_in_both_languages(seed: int, difficulty: Difficulty) -> None:
    """Prompt, choices, explanation and feedback are non-empty in English and Chinese."""
    variant = make_variant("next_state", seed, difficulty)
    wrong = next(c.id for c in variant.choices if c.id != variant.key["choice"])
    feedback = FAMILY.grade(variant, {"choice": wrong}).feedback
    for lang in LANGS:
        assert variant.prompt[lang].strip()
        assert variant.explanation[lang].strip()
        assert feedback[lang].strip()
        assert all(c.text[lang].strip() for c in variant.choices)
        assert variant.public(lang)["prompt"] == variant.prompt[lang]


@given(seed=seeds, difficulty=difficulties)
def test_next_state_explanation_cites_rfc_section(seed: int, difficulty: Difficulty) -> None:
    """The explanation names the RFC 9293 section of the row, in both languages."""
    variant = make_variant("next_state", seed, difficulty)
    params = variant.params
    row = transition(State[params["state"]], Event(params["event"]), PROFILES[params["profile"]])
    for lang in LANGS:
        assert "RFC 9293" in variant.explanation[lang]
        assert row.rfc in variant.explanation[lang]


@given(seed=seeds, difficulty=difficulties)
def test_next_state_misconception_tags_exist(seed: int, difficulty: Difficulty) -> None:
    """Every tagged distractor names a misconception of the catalogue; the key carries none."""
    variant = make_variant("next_state", seed, difficulty)
    for choice in variant.choices:
        if choice.id == variant.key["choice"]:
            assert choice.misconception is None
        elif choice.misconception is not None:
            assert choice.misconception in misconceptions.BY_ID


@given(seed=seeds, difficulty=difficulties)
def test_next_state_public_payload_hides_key(seed: int, difficulty: Difficulty) -> None:
    """The public payload carries no key, explanation or misconception."""
    variant = make_variant("next_state", seed, difficulty)
    for lang in LANGS:
        public = variant.public(lang)
        assert "key" not in public
        assert variant.explanation[lang] not in str(public)
        assert all(set(c) == {"id", "text"} for c in public["choices"])


@pytest.mark.parametrize(
    "answer",
    [None, "a", 3, [], {}, {"choice": None}, {"choice": 1}, {"choice": "z"}, {"choices": ["a"]}],
    ids=repr,
)
def test_next_state_malformed_answer_is_a_format_error(answer: object) -> None:
    """A malformed answer is a format error scoring 0, not a wrong answer."""
    variant = make_variant("next_state", 7, Difficulty.EASY)
    result = FAMILY.grade(variant, answer)
    assert result.format_error is not None
    assert result.score == 0.0
    assert result.misconception is None


def test_next_state_easy_pool_is_the_textbook_diagram() -> None:
    """Easy questions are exactly the arcs of the textbook diagram, under RFC 9293."""
    assert {(s, e) for _profile, s, e in pool(Difficulty.EASY)} == set(TEXTBOOK_ARCS)


def test_next_state_pools_are_disjoint_and_nonempty() -> None:
    """Each difficulty has its own questions."""
    easy, medium, hard = (set(pool(d)) for d in Difficulty)
    assert easy
    assert medium
    assert hard
    assert not easy & medium
    assert not medium & hard
    assert not easy & hard


@settings(max_examples=30)
@given(seed=seeds, difficulty=difficulties)
def test_next_state_rebuild_asks_the_same_question(seed: int, difficulty: Difficulty) -> None:
    """Rebuilding from stored params gives the same question and the same correct state."""
    variant = make_variant("next_state", seed, difficulty)
    again = rebuild(variant.params, difficulty, seed)
    assert again.canonical == variant.canonical
    key = next(c.text["en"] for c in variant.choices if c.id == variant.key["choice"])
    assert next(c.text["en"] for c in again.choices if c.id == again.key["choice"]) == key


def test_next_state_registered() -> None:
    """The registry finds the family by name."""
    assert get_family("next_state") is FAMILY
