"""Table-driven tests over every row of the transition table and over the illegal pairs."""

from __future__ import annotations

import re

import pytest

from questions.engine import (
    APP_EVENTS,
    CONDITIONS,
    ENGINE_VERSION,
    FLAGS,
    LINUX,
    RFC9293,
    TABLE,
    Event,
    IllegalTransition,
    State,
    Transition,
    legal_events,
    profile,
    table_fingerprint,
    transition,
    transitions,
)
from questions.engine.profiles import OPTION_NAMES

PROFILES = {"rfc9293": RFC9293, "linux": LINUX}
ERRNOS = {
    "EADDRINUSE",
    "EAGAIN",
    "EALREADY",
    "ECONNREFUSED",
    "ECONNRESET",
    "EINVAL",
    "EISCONN",
    "ENOTCONN",
    "EPIPE",
    "ETIMEDOUT",
}
# The fingerprint of TABLE and the profile defaults for each ENGINE_VERSION. Changing the table
# or a profile changes the fingerprint: bump ENGINE_VERSION and add the new pair here. A version
# can keep its predecessor's fingerprint: 1.1.0 changed the samplers' and the simulator's output
# for some seeds (steered walks, timers due together firing before delivery), not the table.
# 1.2.0: a SYN in SYN_RECEIVED takes the sequence check first (the in_window condition).
# 1.3.0: next_state tags the same concept skills as every other family (table unchanged).
KNOWN_FINGERPRINTS = {
    "1.0.0": "fbd566ded316a7cc",
    "1.1.0": "fbd566ded316a7cc",
    "1.2.0": "59fa61ba3c3aee64",
    "1.3.0": "59fa61ba3c3aee64",
}


def _option_profile(row: Transition, name: str) -> object:
    return profile(name, **{row.when: True}) if row.when in OPTION_NAMES else PROFILES[name]


@pytest.mark.parametrize("row", TABLE, ids=[row.key for row in TABLE])
def test_row_is_well_formed(row: Transition) -> None:
    """Every row sends flags from SYN ACK FIN RST PSH in canonical order, names an RFC 9293
    section, a known profile, a known errno and a known guard, and says why."""
    assert all(flag in FLAGS for flag in row.sends)
    assert list(row.sends) == sorted(row.sends, key=FLAGS.index)
    assert re.fullmatch(r"3(\.\d+)+", row.rfc)
    assert row.profiles
    assert row.profiles <= {"rfc9293", "linux"}
    assert row.error is None or row.error in ERRNOS
    assert row.note.strip()
    if row.when is not None:
        parts = row.when.split("&")
        assert row.when in OPTION_NAMES or all(part in CONDITIONS for part in parts)
    assert row.id == f"t:{row.state.name}:{row.event.value}"


@pytest.mark.parametrize("row", TABLE, ids=[row.key for row in TABLE])
def test_transition_returns_every_row(row: Transition) -> None:
    """transition() finds each row in each of its profiles (guarded rows with their guard)."""
    for name in sorted(row.profiles):
        prof = _option_profile(row, name)
        if row.when is None or row.when in OPTION_NAMES:
            found = transition(row.state, row.event, prof)  # type: ignore[arg-type]
        else:
            found = transition(row.state, row.event, prof, set(row.when.split("&")))  # type: ignore[arg-type]
        assert found is row
        assert row in transitions(prof)  # type: ignore[arg-type]
        assert row.event in legal_events(row.state, prof)  # type: ignore[arg-type]


def _illegal_pairs() -> list[tuple[str, State, Event]]:
    pairs = []
    for name, prof in PROFILES.items():
        for state in State:
            for event in Event:
                if event not in legal_events(state, prof):
                    pairs.append((name, state, event))
    return pairs


@pytest.mark.parametrize(
    ("name", "state", "event"),
    _illegal_pairs(),
    ids=[f"{n}:{s.name}:{e.value}" for n, s, e in _illegal_pairs()],
)
def test_illegal_pair_raises_naming_state_and_event(name: str, state: State, event: Event) -> None:
    """An event with no row raises IllegalTransition carrying and naming the state and event."""
    with pytest.raises(IllegalTransition) as caught:
        transition(state, event, PROFILES[name])
    assert caught.value.state is state
    assert caught.value.event is event
    assert state.name in str(caught.value)
    assert event.value in str(caught.value)


def test_illegal_pairs_are_segment_or_timer_events() -> None:
    """Application calls are legal in every state (a failing call is a row with an errno)."""
    for _name, _state, event in _illegal_pairs():
        assert event not in APP_EVENTS


def test_every_state_has_every_application_call() -> None:
    """Each of the 11 states answers listen, connect, accept, send, recv, shutdown, close and abort."""
    for prof in PROFILES.values():
        for state in State:
            assert set(APP_EVENTS) <= set(legal_events(state, prof))


def test_guarded_rows_have_an_unguarded_sibling() -> None:
    """A guarded row always overrides an unguarded row of the same (state, event, profile)."""
    for row in TABLE:
        if row.when is None:
            continue
        for name in row.profiles:
            assert any(
                r.when is None and r.state is row.state and r.event is row.event and name in r.profiles
                for r in TABLE
            ), row.key


def test_unguarded_rows_are_unique_per_profile() -> None:
    """At most one unguarded row per (state, event, profile): the table is a function."""
    seen: set[tuple[State, Event, str]] = set()
    for row in TABLE:
        if row.when is None:
            for name in row.profiles:
                key = (row.state, row.event, name)
                assert key not in seen, row.key
                seen.add(key)


@pytest.mark.parametrize(
    ("state", "event", "next_state", "sends"),
    [
        (State.CLOSED, Event.LISTEN, State.LISTEN, ()),
        (State.CLOSED, Event.CONNECT, State.SYN_SENT, ("SYN",)),
        (State.LISTEN, Event.RCV_SYN, State.SYN_RECEIVED, ("SYN", "ACK")),
        (State.SYN_SENT, Event.RCV_SYN_ACK, State.ESTABLISHED, ("ACK",)),
        (State.SYN_RECEIVED, Event.RCV_ACK, State.ESTABLISHED, ()),
        (State.ESTABLISHED, Event.CLOSE, State.FIN_WAIT_1, ("ACK", "FIN")),
        (State.ESTABLISHED, Event.RCV_FIN, State.CLOSE_WAIT, ("ACK",)),
        (State.FIN_WAIT_1, Event.RCV_ACK, State.FIN_WAIT_2, ()),
        (State.CLOSE_WAIT, Event.CLOSE, State.LAST_ACK, ("ACK", "FIN")),
        (State.FIN_WAIT_2, Event.RCV_FIN, State.TIME_WAIT, ("ACK",)),
        (State.LAST_ACK, Event.RCV_ACK, State.CLOSED, ()),
        (State.TIME_WAIT, Event.TIMEOUT_TIME_WAIT, State.CLOSED, ()),
        (State.SYN_SENT, Event.RCV_SYN, State.SYN_RECEIVED, ("SYN", "ACK")),
        (State.FIN_WAIT_1, Event.RCV_FIN, State.CLOSING, ("ACK",)),
        (State.CLOSING, Event.RCV_ACK, State.TIME_WAIT, ()),
        (State.FIN_WAIT_1, Event.RCV_FIN_ACK, State.TIME_WAIT, ("ACK",)),
    ],
)
def test_textbook_path_is_the_same_in_both_profiles(
    state: State, event: Event, next_state: State, sends: tuple[str, ...]
) -> None:
    """The textbook path (TCP.md §1 and its variants) holds in both profiles."""
    for prof in PROFILES.values():
        row = transition(state, event, prof)
        assert (row.next_state, row.sends) == (next_state, sends)


@pytest.mark.parametrize(
    ("name", "conditions", "next_state", "sends"),
    [
        # The retransmitted SYN (SEG.SEQ = IRS < RCV.NXT) fails the sequence check: ACK, drop, stay.
        ("rfc9293", set(), State.SYN_RECEIVED, ("ACK",)),
        ("rfc9293", {"passive"}, State.SYN_RECEIVED, ("ACK",)),
        # Only an in-window SYN reaches the SYN-bit check: challenge ACK, or passive -> LISTEN.
        ("rfc9293", {"in_window"}, State.SYN_RECEIVED, ("ACK",)),
        ("rfc9293", {"passive", "in_window"}, State.LISTEN, ()),
        ("linux", set(), State.SYN_RECEIVED, ("ACK",)),
        # A request sock answers the retransmitted SYN with its SYN+ACK, a new in-window SYN with RST.
        ("linux", {"passive"}, State.SYN_RECEIVED, ("SYN", "ACK")),
        ("linux", {"in_window"}, State.SYN_RECEIVED, ("ACK",)),
        ("linux", {"passive", "in_window"}, State.CLOSED, ("ACK", "RST")),
    ],
    ids=lambda value: "+".join(sorted(value)) if isinstance(value, set) else None,
)
def test_syn_in_syn_received_is_sequence_checked_first(
    name: str, conditions: set[str], next_state: State, sends: tuple[str, ...]
) -> None:
    """A SYN in SYN_RECEIVED: a retransmitted one is acknowledged and dropped (RFC 9293 §3.10.7.4,
    "first, check sequence number"); only an in-window SYN returns a passive connection to LISTEN."""
    row = transition(State.SYN_RECEIVED, Event.RCV_SYN, PROFILES[name], conditions)
    assert (row.next_state, row.sends, row.rfc) == (next_state, sends, "3.10.7.4")


def test_linux_deviations_are_rows() -> None:
    """Each Linux deviation of TCP.md §3 is a row (or an option) of the linux profile."""
    s, e = State, Event
    assert transition(s.ESTABLISHED, e.CLOSE, LINUX, {"unread_data"}).sends == ("ACK", "RST")
    assert transition(s.ESTABLISHED, e.CLOSE, RFC9293, {"unread_data"}).sends == ("ACK", "FIN")
    assert transition(s.FIN_WAIT_1, e.RCV_DATA, LINUX, {"orphan"}).next_state is s.CLOSED
    assert transition(s.FIN_WAIT_2, e.RCV_DATA, LINUX, {"orphan"}).sends == ("RST",)
    assert transition(s.FIN_WAIT_2, e.TIMEOUT_FIN_WAIT_2, LINUX).next_state is s.CLOSED
    with pytest.raises(IllegalTransition):
        transition(s.FIN_WAIT_2, e.TIMEOUT_FIN_WAIT_2, RFC9293)
    assert transition(s.TIME_WAIT, e.RCV_RST, LINUX).next_state is s.CLOSED
    assert transition(s.TIME_WAIT, e.RCV_RST, profile("linux", rfc1337=True)).next_state is s.TIME_WAIT
    assert transition(s.SYN_RECEIVED, e.RCV_SYN_ACK, LINUX).next_state is s.ESTABLISHED
    assert transition(s.SYN_RECEIVED, e.RCV_SYN_ACK, RFC9293).next_state is s.SYN_RECEIVED
    assert transition(s.TIME_WAIT, e.RCV_SYN, LINUX, {"listening"}).next_state is s.SYN_RECEIVED
    assert transition(s.TIME_WAIT, e.RCV_SYN, RFC9293, {"listening"}).next_state is s.TIME_WAIT
    assert transition(s.SYN_SENT, e.RCV_RST, LINUX).error == "ECONNREFUSED"
    assert transition(s.CLOSE_WAIT, e.RCV_RST, LINUX).error == "EPIPE"
    assert transition(s.LISTEN, e.CONNECT, LINUX).error == "EISCONN"
    assert transition(s.ESTABLISHED, e.ABORT, LINUX).sends == ("ACK", "RST")
    assert transition(s.ESTABLISHED, e.ABORT, RFC9293).sends == ("RST",)


def test_profile_defaults() -> None:
    """Timer values and switches default to TCP.md's figures."""
    assert (RFC9293.msl_s, RFC9293.time_wait_s) == (120.0, 240.0)
    assert (LINUX.time_wait_s, LINUX.fin_timeout_s, LINUX.rfc1337) == (60.0, 60.0, False)
    for prof in PROFILES.values():
        assert (prof.keepalive_time_s, prof.keepalive_intvl_s, prof.keepalive_probes) == (7200.0, 75.0, 9)
        assert (prof.initial_rto_s, prof.syn_retries, prof.synack_retries, prof.retries2) == (1.0, 6, 5, 15)


def test_profile_time_wait_follows_msl_only_in_rfc9293() -> None:
    """rfc9293: TIME_WAIT = 2 x MSL; linux: a fixed 60 s whatever the MSL."""
    assert profile("rfc9293", msl_s=30).time_wait_s == 60.0
    assert profile("linux", msl_s=30).time_wait_s == 60.0
    assert profile("rfc9293", msl_s=30, time_wait_s=5).time_wait_s == 5.0


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("bsd", {}, "unknown profile 'bsd'"),
        ("linux", {"tw_len": 3}, "unknown option 'tw_len'"),
        ("linux", {"rfc1337": 1}, "'rfc1337' must be true or false"),
        ("linux", {"time_wait_s": "60"}, "'time_wait_s' must be a number"),
        ("linux", {"syn_retries": 2.5}, "'syn_retries' must be a whole number"),
        ("linux", {"msl_s": -1}, "'msl_s' must not be negative"),
    ],
)
def test_profile_rejects_unknown_names_and_bad_options(
    name: str, options: dict[str, object], message: str
) -> None:
    """profile() raises ValueError with a clear message."""
    with pytest.raises(ValueError, match=re.escape(message)):
        profile(name, **options)


def test_transition_rejects_unknown_conditions() -> None:
    """A misspelt condition is an error, not a silent default."""
    with pytest.raises(ValueError, match="unknown condition"):
        transition(State.ESTABLISHED, Event.CLOSE, LINUX, {"unread"})


def test_engine_version_matches_the_table() -> None:
    """ENGINE_VERSION changes whenever the table or a profile changes."""
    assert re.fullmatch(r"\d+\.\d+\.\d+", ENGINE_VERSION)
    assert KNOWN_FINGERPRINTS.get(ENGINE_VERSION) == table_fingerprint(), (
        "the table or a profile changed: bump ENGINE_VERSION and record the new fingerprint"
    )
