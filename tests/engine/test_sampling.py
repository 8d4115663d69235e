"""Samplers: constraints, coverage, determinism."""

from __future__ import annotations

import random

import pytest

from questions.engine import (
    LINUX,
    RFC9293,
    Profile,
    State,
    run_scenario,
    sample_covering_walks,
    sample_scenario,
    sample_walk,
    simulate,
    transitions,
)


@pytest.mark.parametrize("prof", [RFC9293, LINUX], ids=["rfc9293", "linux"])
def test_covering_walks_take_every_transition(prof: Profile) -> None:
    """A batch of 60 covering walks takes every row of the profile, each walk legal from CLOSED."""
    walks = sample_covering_walks(random.Random(1), 60, profile=prof)
    assert len(walks) == 60
    taken = {id(row) for walk in walks for row in walk}
    assert taken == {id(row) for row in transitions(prof)}
    for walk in walks:
        state = State.CLOSED
        for row in walk:
            assert row.state is state
            state = row.next_state


def test_covering_walks_are_deterministic() -> None:
    """Same seed, same batch."""
    assert sample_covering_walks(random.Random(9), 10, profile=LINUX) == sample_covering_walks(
        random.Random(9), 10, profile=LINUX
    )


def test_walk_includes_required_transitions() -> None:
    """must_include forces transitions into the walk, by id."""
    required = ["t:FIN_WAIT_1:rcv_fin_ack", "t:TIME_WAIT:timeout_time_wait"]
    for seed in range(20):
        walk = sample_walk(random.Random(seed), profile=LINUX, min_len=2, max_len=10, must_include=required)
        ids = [row.id for row in walk]
        assert all(r in ids for r in required)
        assert 2 <= len(walk) <= 10


def test_walk_with_required_transitions_keeps_the_drawn_length() -> None:
    """A walk that must take a row has the length asked for whenever that length can reach it, and
    the same seed gives the same walk."""
    for seed in range(50):
        walk = sample_walk(random.Random(seed), min_len=6, max_len=6, must_include=["t:FIN_WAIT_1:rcv_fin"])
        assert len(walk) == 6
        assert "t:FIN_WAIT_1:rcv_fin" in [row.id for row in walk]
        assert walk == sample_walk(
            random.Random(seed), min_len=6, max_len=6, must_include=["t:FIN_WAIT_1:rcv_fin"]
        )


def test_walk_rejects_impossible_constraints() -> None:
    """A transition the profile lacks, or more steps than allowed, is a ValueError."""
    with pytest.raises(ValueError, match="not a transition of the rfc9293 profile"):
        sample_walk(random.Random(0), profile=RFC9293, must_include=["t:FIN_WAIT_2:timeout_fin_wait_2"])
    with pytest.raises(ValueError, match="more than max_len"):
        sample_walk(random.Random(0), min_len=1, max_len=2, must_include=["t:TIME_WAIT:timeout_time_wait"])


def test_sampled_scenario_is_accepted_by_the_runner() -> None:
    """A sampled scenario follows the JSON contract and runs step by step."""
    spec = sample_scenario(random.Random(3), profile=LINUX, min_steps=5, max_steps=12, loss=True)
    assert set(spec) == {"profile", "options", "endpoints", "isn", "wire", "steps"}
    assert 5 <= len(spec["steps"]) <= 12
    assert len(run_scenario(spec)) == len(spec["steps"])


@pytest.mark.parametrize(
    "required",
    [
        ["t:SYN_RECEIVED:rcv_syn_ack"],
        ["t:FIN_WAIT_1:rcv_fin"],
        ["t:ESTABLISHED:abort"],
        ["t:SYN_SENT:timeout_rto"],
    ],
)
def test_sampled_scenario_includes_required_transitions(required: list[str]) -> None:
    """must_include transitions fire somewhere in the scenario's trace."""
    spec = sample_scenario(random.Random(4), profile=RFC9293, loss=True, max_steps=20, must_include=required)
    _lines, sim = simulate(spec)
    fired = {entry[3].id for entry in sim.trace if entry[0] == "step"}
    assert set(required) <= fired


def test_sampled_scenario_without_loss_drops_nothing() -> None:
    """Without loss no step drops a segment; without duplication no segment arrives twice."""
    for seed in range(30):
        spec = sample_scenario(random.Random(seed), profile=LINUX)
        assert all(step["do"] != "drop" for step in spec["steps"])
        _lines, sim = simulate(spec)
        assert not any(entry[0] == "discard" and "duplicate" in entry[4] for entry in sim.trace)


def test_sampled_scenarios_cover_the_textbook() -> None:
    """Over a batch, sampled scenarios reach every arc of the textbook path."""
    fired: set[str] = set()
    for seed in range(150):
        spec = sample_scenario(random.Random(seed), profile=RFC9293, max_steps=20)
        fired |= {entry[3].id for entry in simulate(spec)[1].trace if entry[0] == "step"}
    for arc in (
        "t:CLOSED:connect",
        "t:LISTEN:rcv_syn",
        "t:SYN_SENT:rcv_syn_ack",
        "t:SYN_RECEIVED:rcv_ack",
        "t:ESTABLISHED:close",
        "t:ESTABLISHED:rcv_fin",
        "t:FIN_WAIT_1:rcv_ack",
        "t:CLOSE_WAIT:close",
        "t:FIN_WAIT_2:rcv_fin",
        "t:LAST_ACK:rcv_ack",
        "t:TIME_WAIT:timeout_time_wait",
    ):
        assert arc in fired
