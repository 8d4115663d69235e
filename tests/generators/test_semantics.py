"""Semantic grading, the misconception catalogue, batches and banks."""

from __future__ import annotations

import io
import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questions.engine import LINUX, PROFILES, RFC9293, State
from questions.generators import common, loss_recovery, misconceptions, scenarios
from questions.generators.bank import batch, recompute, regrade, transition_skills
from questions.generators.base import Difficulty, InputKind
from questions.generators.ladder import normalise
from questions.generators.registry import families, get_family, make_variant
from questions.generators.state_sequence import successors

seeds = st.integers(min_value=0, max_value=2**62)
difficulties = st.sampled_from(list(Difficulty))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_orders(variant_params: dict[str, Any], items: list[str]) -> list[list[str]]:
    prof = PROFILES[variant_params["profile"]]
    nxt = successors(prof)
    found = []
    for order in itertools.permutations(items):
        path = [variant_params["start"], *order, *([variant_params["end"]] if variant_params["end"] else [])]
        if all(State[b] in nxt[State[a]] for a, b in itertools.pairwise(path)):
            found.append(list(order))
    return found


@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_state_sequence_accepts_every_valid_order(seed: int, difficulty: Difficulty) -> None:
    """Every order the table allows grades full marks, including ones other than the key."""
    variant = make_variant("state_sequence", seed, difficulty)
    items = [item["id"] for item in variant.widget["items"]]
    if len(items) > 7:
        return
    family = get_family("state_sequence")
    for order in _valid_orders(dict(variant.params), items):
        assert family.grade(variant, {"order": order}).correct


def test_state_sequence_accepts_a_valid_order_other_than_the_key() -> None:
    """Some variants admit another valid order, and it is accepted."""
    family = get_family("state_sequence")
    for seed in range(400):
        variant = make_variant("state_sequence", seed, Difficulty.HARD)
        items = [item["id"] for item in variant.widget["items"]]
        if len(items) > 7:
            continue
        others = [o for o in _valid_orders(dict(variant.params), items) if o != variant.key["order"]]
        if others:
            assert family.grade(variant, {"order": others[0]}).correct
            return
    pytest.fail("no variant with a second valid order in 400 seeds")


def test_state_sequence_reports_the_first_impossible_step() -> None:
    """A wrong order reports the position of the first impossible transition."""
    variant = make_variant("state_sequence", 3, Difficulty.EASY)
    order = list(variant.key["order"])
    wrong = [order[-1], *order[:-1]]
    result = get_family("state_sequence").grade(variant, {"order": wrong})
    assert not result.correct
    assert result.first_wrong_step == 1


def test_state_sequence_incomplete_order_is_a_format_error() -> None:
    """Leaving a state out is a format error, not a wrong answer."""
    variant = make_variant("state_sequence", 5, Difficulty.EASY)
    result = get_family("state_sequence").grade(variant, {"order": variant.key["order"][:-1]})
    assert result.format_error is not None


@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_seq_ack_numbers_compare_modulo_2_32(seed: int, difficulty: Difficulty) -> None:
    """Every number plus 2^32 (or minus it) is still right."""
    variant = make_variant("seq_ack", seed, difficulty)
    shifted = {k: v + (1 << 32) if v < 1 << 31 else v - (1 << 32) for k, v in variant.key["values"].items()}
    assert get_family("seq_ack").grade(variant, {"values": shifted}).correct


@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_seq_ack_misconception_numbers_name_their_misconception(seed: int, difficulty: Difficulty) -> None:
    """Answering what an arithmetic misconception computes is wrong and names a misconception."""
    variant = make_variant("seq_ack", seed, difficulty)
    for values in variant.params["believed"].values():
        result = get_family("seq_ack").grade(variant, {"values": values})
        assert not result.correct
        assert result.misconception in misconceptions.BY_ID
        assert result.first_wrong_step is not None


@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_ladder_accepts_other_spellings(seed: int, difficulty: Difficulty) -> None:
    """States with dashes or in Chinese, flags in another order, numbers plus 2^32 are all right."""
    from questions.engine.concepts import STATE_NAMES

    variant = make_variant("ladder", seed, difficulty)
    cells: dict[str, str] = {}
    for cell, value in variant.key["cells"].items():
        column = cell.split(".")[1]
        if column.startswith("state"):
            cells[cell] = (
                STATE_NAMES[State[value]]["zh-hans"] if len(cells) % 2 else value.replace("_", "-").lower()
            )
        elif column == "flags":
            cells[cell] = ",".join(reversed(value.split("+")))
        else:
            cells[cell] = str(int(value) + (1 << 32))
    assert get_family("ladder").grade(variant, {"cells": cells}).correct


def test_ladder_normalise_reads_common_spellings() -> None:
    """SYN-RCVD, 'ack syn' and 2^32 + 5 normalise to the canonical forms."""
    assert normalise("state_a", "SYN-RCVD") == "SYN_RECEIVED"
    assert normalise("state_b", "time wait") == "TIME_WAIT"
    assert normalise("flags", "ack syn") == "SYN+ACK"
    assert normalise("seq", str((1 << 32) + 5)) == "5"
    assert normalise("flags", "SYN+BOGUS") is None


@SETTINGS
@given(seed=seeds, difficulty=difficulties)
def test_trace_validity_key_is_the_engine_replay(seed: int, difficulty: Difficulty) -> None:
    """The key is the first step the engine cannot replay; an invalid trace names its misconception."""
    from questions.generators.trace_validity import _shown, first_impossible

    variant = make_variant("trace_validity", seed, difficulty)
    prof = PROFILES[variant.params["profile"]]
    assert variant.key["step"] == first_impossible(_shown(variant), prof)
    if variant.key["step"] is not None:
        late = get_family("trace_validity").grade(variant, {"step": None})
        assert late.misconception == variant.params["mutant"]


@pytest.mark.parametrize("prof", [RFC9293, LINUX], ids=lambda p: p.name)
@pytest.mark.parametrize("m", misconceptions.TABLE_MUTANTS, ids=lambda m: m.id)
def test_misconception_table_mutant_changes_the_table(m: misconceptions.Misconception, prof: object) -> None:
    """Every table misconception is a real mutation of the engine's table under at least one profile."""
    changed = [misconceptions.mutant_table(m.id, p) != misconceptions.base_table(p) for p in (RFC9293, LINUX)]
    assert any(changed)


@pytest.mark.parametrize("prof", [RFC9293, LINUX], ids=lambda p: p.name)
def test_mutant_steps_names_the_first_mutant_taking_each_step(prof: Any) -> None:
    """The index graders use equals a search of every mutant table, in catalogue order, for each pair
    of states (the answer the ordering grader computed per wrong step before the index)."""
    steps = misconceptions.mutant_steps(prof)
    for before, after in itertools.product(State, State):
        searched = next(
            (
                m.id
                for m in misconceptions.TABLE_MUTANTS
                if any(
                    cell[0] is before and out[0] is after
                    for cell, out in misconceptions.mutant_table(m.id, prof).items()
                )
            ),
            None,
        )
        assert steps.get((before, after)) == searched
    assert steps  # some mutant changes some state


def test_misconception_catalogue_is_bilingual_and_unique() -> None:
    """Ids are unique, start with m:, and every name and correction exists in both languages."""
    ids = [m.id for m in misconceptions.CATALOGUE]
    assert len(ids) == len(set(ids))
    for m in misconceptions.CATALOGUE:
        assert m.id.startswith("m:")
        for value in (m.name, m.correction):
            assert value["en"]
            assert value["zh-hans"]
            assert value["en"] != value["zh-hans"]


def test_misconception_passive_closer_mutant_predicts_time_wait_on_the_wrong_side() -> None:
    """Replaying both sides' events, the mutant puts TIME_WAIT at the passive closer only."""
    run = scenarios.cached_run("open_close", 0, RFC9293.name)
    paths = [
        misconceptions.predict_path("m:time_wait_to_passive_closer", State.CLOSED, run.events[w], RFC9293)
        for w in (0, 1)
    ]
    assert State.TIME_WAIT not in paths[0]
    assert State.TIME_WAIT in paths[1]


def test_misconception_fin_no_seq_acks_the_fin_seq() -> None:
    """Under m:fin_no_seq the ACK of a FIN with seq u carries u, not u + 1."""
    run = scenarios.cached_run("open_close", 0, RFC9293.name)
    fin = next(g for g in run.segments if g.src == 0 and "FIN" in g.flags)
    ack = next(g for g in run.segments if g.src == 1 and g.n > fin.n)
    believed = scenarios.believed_numbers(run, "m:fin_no_seq")[ack.n - 1]
    assert ack.ack == fin.seq + 1
    assert believed[1] == fin.seq


@pytest.mark.parametrize("seed", range(5))
def test_batch_of_20_covers_15_transitions_without_near_duplicates(seed: int) -> None:
    """A 20-question quiz spans at least 15 distinct transitions and no canonical form twice."""
    variants = batch(random.Random(seed), n=20)
    assert len(variants) == 20
    assert len({v.canonical for v in variants}) == 20
    covered = set().union(*(transition_skills(v) for v in variants))
    assert len(covered) >= 15


def test_batch_of_one_family_has_no_near_duplicates() -> None:
    """Even from a single family with few distinct questions, a batch never repeats a question."""
    variants = batch(random.Random(7), ["which_event"], n=12, difficulty=Difficulty.EASY)
    assert len({v.canonical for v in variants}) == len(variants) == 12


def test_batch_is_deterministic() -> None:
    """The same rng seed gives the same batch."""
    assert batch(random.Random(3), n=10) == batch(random.Random(3), n=10)


def test_bank_recompute_and_regrade_keep_the_answer_meaning() -> None:
    """A stored answer regraded against the recomputed variant keeps its score."""
    for name in families():
        variant = make_variant(name, 21, Difficulty.MEDIUM)
        again = recompute(variant.ref())
        assert regrade(variant, variant.key, again).correct


@pytest.mark.parametrize("profile_name", ["rfc9293", "linux"])
def test_loss_recovery_lost_syn_ack_has_both_sides_retransmit(profile_name: str) -> None:
    """A lost SYN+ACK: the key and the explanation have the client resend its SYN and the server its
    SYN+ACK at 1 s; "only one side retransmits" is offered as a distractor."""
    params = {"loss": "syn_ack", "first": 0, "profile": profile_name}
    variant = loss_recovery.rebuild(params, Difficulty.MEDIUM, 7)
    key = next(c for c in variant.choices if c.id == variant.key["choice"])
    assert key.text["en"].endswith("the client sends SYN and the server sends SYN+ACK.")
    explanation = variant.explanation["en"]
    assert "the client: SYN_SENT —retransmission timer expires→ SYN_SENT, sends SYN " in explanation
    assert (
        "the server: SYN_RECEIVED —retransmission timer expires→ SYN_RECEIVED, sends SYN+ACK " in explanation
    )
    assert (
        "both fire at t = 1 s: the client resends its SYN and the server resends its SYN+ACK" in explanation
    )
    assert "m:one_side_retransmits" in {c.misconception for c in variant.choices}


@pytest.mark.parametrize(("profile_name", "reply"), [("rfc9293", "ACK"), ("linux", "SYN+ACK")])
def test_loss_recovery_lost_syn_ack_server_stays_syn_received(profile_name: str, reply: str) -> None:
    """A lost SYN+ACK: the client's repeated SYN finds the server in SYN_RECEIVED, which stays there
    (RFC 9293: ACK and drop, the sequence check; Linux: the SYN+ACK again); no RST, no LISTEN, and
    the explanation says so in both languages."""
    params = {"loss": "syn_ack", "first": 0, "profile": profile_name}
    variant = loss_recovery.rebuild(params, Difficulty.MEDIUM, 7)
    explanation = variant.explanation["en"]
    assert f"the server: SYN_RECEIVED —receives SYN→ SYN_RECEIVED, sends {reply} " in explanation
    assert f"so the server stays in SYN_RECEIVED and answers with {reply} (" in explanation
    assert "Both sides end up in ESTABLISHED." in explanation
    assert "→ LISTEN" not in explanation
    assert "RST" not in explanation
    assert "服务器仍处于 SYN_RECEIVED" in variant.explanation["zh-hans"]
    assert not {"t:LISTEN:rcv_bad_ack", "t:ESTABLISHED:rcv_rst"} & set(variant.skills)


def test_trace_validity_stored_walk_with_a_renamed_row_still_rebuilds() -> None:
    """A trace stored before 1.2.0 names SYN_RECEIVED —SYN→ LISTEN by its old key; the arc is kept
    (only its guard narrowed to in-window SYNs), so the variant rebuilds as with the new key."""
    old = "t:SYN_RECEIVED:rcv_syn[rfc9293|passive]"
    rows = [
        "t:CLOSED:listen[linux,rfc9293]",
        "t:LISTEN:rcv_syn[rfc9293]",
        old,
        "t:LISTEN:rcv_syn[rfc9293]",
        "t:SYN_RECEIVED:rcv_ack[linux,rfc9293]",
        "t:ESTABLISHED:close[rfc9293]",
    ]
    renamed = [common.RENAMED_ROW_KEYS.get(key, key) for key in rows]
    assert common.row_for_key(old).next_state is State.LISTEN
    family = get_family("trace_validity")
    assert family.rebuild is not None
    stored = family.rebuild({"profile": "rfc9293", "rows": rows, "mutate": []}, Difficulty.HARD, 3)
    current = family.rebuild({"profile": "rfc9293", "rows": renamed, "mutate": []}, Difficulty.HARD, 3)
    assert (stored.prompt, stored.key) == (current.prompt, current.key)
    assert family.grade(stored, stored.key).correct


def test_bank_rebuild_when_the_engine_version_changed() -> None:
    """With another engine version the question is rebuilt from its params and still grades its key."""
    for name in families():
        variant = make_variant(name, 33, Difficulty.HARD)
        ref = {**variant.ref(), "engine_version": "0.0.0-old"}
        again = recompute(ref)
        assert again.canonical == variant.canonical
        if variant.kind in (InputKind.SINGLE, InputKind.MULTIPLE):
            assert regrade(variant, variant.key, again).correct


def test_generate_questions_command_prints_json_lines() -> None:
    """manage.py generate_questions prints one JSON object per variant with key and explanation."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("generate_questions", family="which_side", count=3, seed=5, lang="zh-hans", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert line["family"] == "which_side"
        assert line["key"]
        assert line["explanation"]
        assert line["prompt"]
