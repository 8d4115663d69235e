"""Endpoints and the two-endpoint simulator: sequence numbers, buffers, timers, errors, the wire."""

from __future__ import annotations

import random

import pytest

from questions.engine import LINUX, RFC9293, Event, Profile, Simulation, State, WireError, profile
from questions.engine.simulation import Segment


def _established(prof: Profile = RFC9293, client_isn: int = 1000, server_isn: int = 5000) -> Simulation:
    sim = Simulation(prof, isn={"client": client_isn, "server": server_isn})
    sim.listen("server")
    sim.connect("client")
    sim.accept("server")
    return sim


def _sent(sim: Simulation, start: int = 0) -> list[Segment]:
    return [entry[2] for entry in sim.trace[start:] if entry[0] == "send"]


def test_handshake_sets_the_send_and_receive_variables() -> None:
    """After the handshake: ISS/IRS as chosen, SND.UNA = SND.NXT = ISS+1, RCV.NXT = IRS+1."""
    sim = _established()
    client, server = sim.endpoints
    assert (client.iss, client.snd_una, client.snd_nxt, client.irs, client.rcv_nxt) == (
        1000,
        1001,
        1001,
        5000,
        5001,
    )
    assert (server.iss, server.snd_una, server.snd_nxt, server.irs, server.rcv_nxt) == (
        5000,
        5001,
        5001,
        1000,
        1001,
    )


def test_syn_and_fin_each_consume_one_sequence_number() -> None:
    """SYN and FIN take one number each; data takes its length."""
    sim = _established()
    sim.send("client", 7)
    sim.close("client")
    client, server = sim.endpoints
    assert client.snd_nxt == 1000 + 1 + 7 + 1
    assert server.rcv_nxt == client.snd_nxt


def test_sequence_numbers_wrap_modulo_2_32() -> None:
    """An ISN of 2**32-1: the SYN is 4294967295, the SYN+ACK acks 0, data continues from 0."""
    sim = _established(client_isn=2**32 - 1)
    syn, syn_ack, ack = _sent(sim)
    assert (syn.seq, syn_ack.ack, ack.seq) == (2**32 - 1, 0, 0)
    mark = len(sim.trace)
    sim.send("client", 10)
    data, data_ack = _sent(sim, mark)
    assert (data.seq, data_ack.ack) == (0, 10)
    assert sim.endpoint("client").snd_una == 10


def test_isn_is_drawn_from_the_callers_random() -> None:
    """Without a given ISN, the ISN comes from the simulation's random.Random."""
    first = Simulation(RFC9293, rng=random.Random(5), wire="hold")
    first.connect("client")
    second = Simulation(RFC9293, rng=random.Random(5), wire="hold")
    second.connect("client")
    assert first.endpoint("client").iss == second.endpoint("client").iss == random.Random(5).getrandbits(32)
    assert _sent(first)[0].seq == first.endpoint("client").iss


def test_buffers_count_unread_and_unacknowledged_bytes() -> None:
    """Received bytes wait in the receive buffer until recv; unacknowledged bytes in the send buffer."""
    sim = _established()
    sim.set_wire("hold")
    sim.send("client", 30)
    assert sim.endpoint("client").snd_buf == 30
    sim.deliver("client")
    assert sim.endpoint("server").rcv_buf == 30
    sim.deliver("server")
    assert sim.endpoint("client").snd_buf == 0
    sim.call("server", Event.RECV, 12)
    assert sim.endpoint("server").rcv_buf == 18
    sim.recv("server")
    assert sim.endpoint("server").rcv_buf == 0


@pytest.mark.parametrize(
    ("prof", "calls", "errno"),
    [
        (RFC9293, ["shutdown", "send"], "EPIPE"),
        (LINUX, ["shutdown", "send"], "EPIPE"),
        (RFC9293, ["connect"], "EISCONN"),
        (LINUX, ["listen"], "EINVAL"),
    ],
)
def test_failing_calls_return_their_errno(prof: Profile, calls: list[str], errno: str) -> None:
    """A call that fails returns the errno the application sees and the run goes on."""
    sim = _established(prof)
    result = None
    for call in calls:
        result = sim.call("client", Event(call))
    assert result == errno
    assert sim.endpoint("client").error == errno


def test_send_on_a_fresh_socket() -> None:
    """send() before connect: ENOTCONN in the RFC profile, EPIPE on Linux (observed)."""
    assert Simulation(RFC9293).send("client") == "ENOTCONN"
    assert Simulation(LINUX).send("client") == "EPIPE"


def test_linux_calls_after_close_see_ebadf() -> None:
    """On Linux close() releases the socket: later calls get EBADF until the connection is gone."""
    sim = _established(LINUX)
    sim.close("client")
    assert sim.state("client") is State.FIN_WAIT_2
    assert sim.recv("client") == "EBADF"
    assert sim.connect("client") == "EADDRINUSE"


def test_syn_retries_give_up_with_etimedout_after_127_seconds() -> None:
    """Unanswered SYNs are resent at 1, 3, 7, 15, 31, 63 s; at 127 s connect fails (ETIMEDOUT)."""
    sim = Simulation(LINUX, wire="hold")
    sim.connect("client")
    sim.advance(126.9)
    assert sim.state("client") is State.SYN_SENT
    sim.advance(0.1)
    assert sim.state("client") is State.CLOSED
    assert sim.endpoint("client").error == "ETIMEDOUT"
    times = [entry[1] for entry in sim.trace if entry[0] == "send"]
    assert times == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]


def test_timers_fire_in_order_within_one_advance() -> None:
    """One advance fires every timer due before the new time, in order: the client's lost FIN is
    resent at 1 s (the server, in FIN_WAIT_2, enters TIME_WAIT; the client leaves CLOSING), then both
    TIME_WAITs expire at 61 s."""
    sim = _established(LINUX)
    sim.set_wire("hold")
    sim.close("client")
    sim.drop("client")
    sim.set_wire("auto")
    sim.close("server")
    assert (sim.state("client"), sim.state("server")) == (State.CLOSING, State.FIN_WAIT_2)
    sim.advance(100)
    assert (sim.state("client"), sim.state("server")) == (State.CLOSED, State.CLOSED)
    steps = [(entry[3].id, entry[1]) for entry in sim.trace if entry[0] == "step" and entry[1] > 0]
    assert steps == [
        ("t:CLOSING:timeout_rto", 1.0),
        ("t:FIN_WAIT_2:rcv_fin", 1.0),
        ("t:CLOSING:rcv_ack", 1.0),
        ("t:TIME_WAIT:timeout_time_wait", 61.0),
        ("t:TIME_WAIT:timeout_time_wait", 61.0),
    ]


@pytest.mark.parametrize("prof", [RFC9293, LINUX], ids=["rfc9293", "linux"])
def test_lost_syn_ack_fires_both_retransmission_timers(prof: Profile) -> None:
    """When the SYN+ACK is lost, both sides' RTOs fall due at 1 s and both fire before anything they
    send arrives: the client resends its SYN, then the server its SYN+ACK (ties: first-named
    endpoint first), even on an auto wire."""
    sim = Simulation(prof, isn={"client": 1000, "server": 5000})
    sim.listen("server")
    sim.set_wire("hold")
    sim.connect("client")
    sim.deliver("client")
    sim.drop("server")
    sim.set_wire("auto")
    mark = len(sim.trace)
    sim.advance(1.0)
    kinds = [(entry[0], entry[1]) for entry in sim.trace[mark:] if entry[0] in ("timer", "send", "deliver")]
    assert kinds[:5] == [("timer", 1.0), ("send", 1.0), ("timer", 1.0), ("send", 1.0), ("deliver", 1.0)]
    timers = [sim.names[entry[2]] for entry in sim.trace[mark:] if entry[0] == "timer"]
    assert timers == ["client", "server"]
    resent = [(sim.names[seg.src], seg.flag_names) for seg in _sent(sim, mark)[:2]]
    assert resent == [("client", ("SYN",)), ("server", ("SYN", "ACK"))]


def _lost_syn_ack(prof: Profile) -> Simulation:
    sim = Simulation(prof, isn={"client": 1000, "server": 5000})
    sim.listen("server")
    sim.set_wire("hold")
    sim.connect("client")
    sim.deliver("client")
    sim.drop("server")
    sim.set_wire("auto")
    return sim


def test_lost_syn_ack_duplicate_syn_is_acked_and_the_handshake_completes() -> None:
    """RFC 9293, lost SYN+ACK, both RTOs at 1 s: the repeated SYN (SEG.SEQ = IRS) is answered with
    <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped, the server stays SYN_RECEIVED, its own
    retransmitted SYN+ACK completes the handshake; no RST, no return to LISTEN."""
    sim = _lost_syn_ack(RFC9293)
    mark = len(sim.trace)
    sim.advance(1.0)
    sent = [(sim.names[s.src], s.flag_names, s.seq, s.ack) for s in _sent(sim, mark)]
    assert sent == [
        ("client", ("SYN",), 1000, None),
        ("server", ("SYN", "ACK"), 5000, 1001),
        ("server", ("ACK",), 5001, 1001),
        ("client", ("ACK",), 1001, 5001),
    ]
    server_steps = [(e[3].id, e[5]) for e in sim.trace[mark:] if e[0] == "step" and e[2] == 1]
    assert ("t:SYN_RECEIVED:rcv_syn", State.SYN_RECEIVED) in server_steps
    assert all(after is not State.LISTEN for _id, after in server_steps)
    assert sim.states() == {"client": "ESTABLISHED", "server": "ESTABLISHED"}
    assert sim.endpoint("client").error is None


@pytest.mark.parametrize("prof", [RFC9293, LINUX], ids=["rfc9293", "linux"])
def test_lost_syn_ack_ends_established_and_quiet(prof: Profile) -> None:
    """Whatever each profile answers to the repeated SYN, both sides end ESTABLISHED with no error
    and no timer left to fire."""
    sim = _lost_syn_ack(prof)
    sim.advance(1.0)
    mark = len(sim.trace)
    sim.advance(300.0)
    assert sim.states() == {"client": "ESTABLISHED", "server": "ESTABLISHED"}
    assert (sim.endpoint("client").error, sim.endpoint("server").error) == (None, None)
    assert _sent(sim, mark) == []


@pytest.mark.parametrize(
    ("prof", "state", "flags"),
    [(RFC9293, State.LISTEN, ()), (LINUX, State.CLOSED, ("ACK", "RST"))],
    ids=["rfc9293", "linux"],
)
def test_in_window_syn_ends_a_passive_syn_received(
    prof: Profile, state: State, flags: tuple[str, ...]
) -> None:
    """A SYN at RCV.NXT (a new sequence number, not the retransmission) reaches the SYN-bit check:
    RFC 9293 returns the passive connection to LISTEN; a Linux request sock answers RST and is
    dropped while the listener stays."""
    sim = Simulation(prof, isn={"client": 1000, "server": 5000})
    sim.listen("server")
    sim.set_wire("hold")
    sim.connect("client")
    sim.deliver("client")
    sim.drop("server")
    sim.inject("server", ["SYN"], 1001)
    sim.deliver("client")
    assert sim.state("server") is state
    assert [seg.flag_names for seg in sim.held[1]] == ([flags] if flags else [])
    assert sim.endpoint("server").listening


def test_keepalive_probes_then_gives_up() -> None:
    """With keepalive on, an idle connection is probed after 7200 s and every 75 s; 9 unanswered
    probes end it with ETIMEDOUT (Linux also sends RST)."""
    prof = profile("linux", keepalive=True)
    sim = _established(prof)
    mark = len(sim.trace)
    sim.advance(7200)
    probe, answer = _sent(sim, mark)[:2]
    assert probe.seq == sim.endpoint("client").snd_nxt - 1
    assert answer.ack == sim.endpoint("client").snd_nxt
    assert sim.state("client") is State.ESTABLISHED
    sim.set_wire("hold")
    sim.advance(7200 + 75 * 9 - 1)
    assert sim.state("client") is State.ESTABLISHED
    sim.advance(1)
    assert sim.state("client") is State.CLOSED
    assert sim.endpoint("client").error == "ETIMEDOUT"
    assert _sent(sim)[-1].flag_names == ("ACK", "RST")


def test_duplicate_segment_is_acked_not_delivered_twice() -> None:
    """A retransmission of data already received is an old duplicate: ACKed, not delivered again."""
    sim = _established()
    sim.set_wire("hold")
    sim.send("client", 10)
    sim.advance(1.0)  # the RTO resends the data while the original is still on the wire
    assert len(sim.held[0]) == 2
    sim.deliver_all()
    assert sim.endpoint("server").rcv_buf == 10
    assert [s.ack for s in sim.held[1]] == [1011, 1011]


def test_ack_storm_is_cut_by_rate_limiting() -> None:
    """Injected data the client never sent makes the ends disagree; rate limiting stops the ACK war."""
    sim = _established()
    sim.inject("server", ["ACK", "PSH"], seq=1001, ack=5001, length=50)
    assert sim.state("server") is State.ESTABLISHED


def test_wire_errors() -> None:
    """deliver or drop with nothing held from that sender is a WireError."""
    sim = Simulation(RFC9293, wire="hold")
    with pytest.raises(WireError):
        sim.deliver("client")
    with pytest.raises(WireError):
        sim.drop("server")
    with pytest.raises(WireError):
        sim.set_wire("slow")


def test_an_event_without_a_row_leaves_the_state_unchanged() -> None:
    """A timer event with no row in the state changes nothing and is recorded as discarded."""
    sim = _established()
    sim.endpoint("client").expire(Event.TIMEOUT_TIME_WAIT)
    assert sim.state("client") is State.ESTABLISHED
    assert sim.trace[-1][0] == "discard"


def test_trace_dicts_describe_every_entry() -> None:
    """The trace turns into JSON-able dicts with a kind and a time."""
    sim = _established()
    kinds = {d["kind"] for d in sim.trace_dicts()}
    assert {"call", "step", "send", "deliver"} <= kinds
    step = next(d for d in sim.trace_dicts() if d["kind"] == "step")
    assert step == {
        "kind": "step",
        "time": 0.0,
        "endpoint": "server",
        "id": "t:CLOSED:listen",
        "before": "CLOSED",
        "after": "LISTEN",
        "sends": [],
        "error": None,
        "note": step["note"],
        "rfc": "3.10.1",
    }
