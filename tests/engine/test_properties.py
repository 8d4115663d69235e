"""Hypothesis properties over sampled scenarios: replay, ack arithmetic, closing, fates."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from questions.engine import (
    LINUX,
    RFC9293,
    Profile,
    Simulation,
    State,
    sample_scenario,
    sample_walk,
    simulate,
)
from questions.engine.core import ACK, FIN, SYN

MASK = (1 << 32) - 1
profiles = st.sampled_from([RFC9293, LINUX])
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _no_missing_rows(sim: Simulation) -> None:
    for entry in sim.trace:
        if entry[0] == "discard":
            assert not str(entry[4]).startswith("no row"), entry[4]


@settings(max_examples=150, deadline=None)
@given(seed=seeds, prof=profiles, loss=st.booleans(), duplication=st.booleans())
def test_sampled_scenario_replays_legally_and_identically(
    seed: int, prof: Profile, loss: bool, duplication: bool
) -> None:
    """Same seed, same scenario; it runs without error, every event found its row, and a JSON
    round trip of the scenario gives the same output lines."""
    spec = sample_scenario(random.Random(seed), profile=prof, loss=loss, duplication=duplication)
    assert spec == sample_scenario(random.Random(seed), profile=prof, loss=loss, duplication=duplication)
    lines, sim = simulate(spec)
    _no_missing_rows(sim)
    assert lines == simulate(json.loads(json.dumps(spec)))[0]
    assert len(lines) == len(spec["steps"])


@settings(max_examples=150, deadline=None)
@given(
    seed=seeds,
    prof=profiles,
    loss=st.booleans(),
    duplication=st.booleans(),
    isn=st.tuples(st.integers(2**32 - 400, 2**32 - 1), st.integers(0, 2**32 - 1)),
)
def test_every_ack_is_the_end_of_a_segment_received_from_the_peer(
    seed: int, prof: Profile, loss: bool, duplication: bool, isn: tuple[int, int]
) -> None:
    """On every trace, each ACK number equals the peer's SEG.SEQ + SEG.LEN (+1 for SYN and FIN),
    modulo 2**32, for a segment the sender had received (ISNs near 2**32 exercise the wrap)."""
    spec = sample_scenario(random.Random(seed), profile=prof, loss=loss, duplication=duplication)
    spec["isn"] = {"client": isn[0], "server": isn[1]}
    _lines, sim = simulate(spec)
    received: tuple[set[int], set[int]] = (set(), set())
    for entry in sim.trace:
        if entry[0] == "deliver":
            seg = entry[2]
            end = (
                seg.seq + seg.length + (1 if seg.flags & SYN else 0) + (1 if seg.flags & FIN else 0)
            ) & MASK
            received[seg.dst].add(end)
        elif entry[0] == "send":
            seg = entry[2]
            assert 0 <= seg.seq <= MASK
            if seg.flags & ACK and not seg.injected:
                assert seg.ack in received[seg.src], (seg, sorted(received[seg.src]))


@settings(max_examples=120, deadline=None)
@given(seed=seeds, prof=profiles, duplication=st.booleans())
def test_after_a_complete_close_both_ends_are_closed_or_in_time_wait(
    seed: int, prof: Profile, duplication: bool
) -> None:
    """Whatever happened before, once the wire delivers again, both applications close and the
    retransmission timers have run, each endpoint is CLOSED or in TIME_WAIT."""
    spec = sample_scenario(random.Random(seed), profile=prof, duplication=duplication)
    spec["steps"] += [
        {"do": "wire", "mode": "auto"},
        {"at": "client", "do": "close"},
        {"at": "server", "do": "close"},
        {"do": "advance", "seconds": 200},
    ]
    lines, _sim = simulate(spec)
    assert set(lines[-1]["states"].values()) <= {"CLOSED", "TIME_WAIT"}, lines[-1]


@settings(max_examples=150, deadline=None)
@given(seed=seeds, prof=profiles, loss=st.booleans(), duplication=st.booleans())
def test_every_segment_has_a_fate(seed: int, prof: Profile, loss: bool, duplication: bool) -> None:
    """Every segment sent is delivered or dropped exactly once, or is still held on the wire; the
    output lists each with a fate."""
    spec = sample_scenario(random.Random(seed), profile=prof, loss=loss, duplication=duplication)
    lines, sim = simulate(spec)
    outcomes: dict[int, list[str]] = {}
    for entry in sim.trace:
        if entry[0] == "send":
            outcomes[entry[2].id] = []
        elif entry[0] in ("deliver", "drop"):
            outcomes[entry[2].id].append(entry[0])
    in_flight = {seg.id for seg in sim.held_segments()}
    for seg_id, fates in outcomes.items():
        assert len(fates) <= 1
        assert fates or seg_id in in_flight
    for line in lines:
        for seg in line["segments"]:
            assert seg["fate"] in ("held", "delivered", "dropped")


@settings(max_examples=150, deadline=None)
@given(seed=seeds, prof=profiles, start=st.sampled_from(list(State)), length=st.integers(1, 20))
def test_sampled_walk_chains_legal_rows(seed: int, prof: Profile, start: State, length: int) -> None:
    """A sampled walk starts where asked, each row leaves from the state the last one entered, and
    the same seed gives the same walk."""
    walk = sample_walk(random.Random(seed), profile=prof, start=start, min_len=length, max_len=length)
    assert walk == sample_walk(random.Random(seed), profile=prof, start=start, min_len=length, max_len=length)
    assert len(walk) == length
    state = start
    rows = prof._rows
    for row in walk:
        assert row.state is state
        assert row in rows
        state = row.next_state
