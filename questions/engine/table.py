"""THE transition table: every (state, event, profile) arc of TCP, as data.

Read with /work/shared/TCP.md (RFC 9293 vs Linux, row by row). One row per arc; where RFC 9293 and
Linux differ there is one row per profile; where an option or a fact about the endpoint decides,
the row carries ``when`` (see ``Transition``). Segment flags are written in canonical order
(SYN ACK FIN RST PSH). Arriving segments are classified by the receiver (see endpoint.py):

- ``rcv_bad_ack`` in CLOSED and LISTEN is any ACK-bearing segment (there is nothing it could ack);
- ``rcv_fin_ack`` is a FIN that also acknowledges our still-unacknowledged FIN (FIN_WAIT_1 only);
- a segment carrying data and/or FIN is processed in RFC order: its ACK (when that changes the
  state, e.g. SYN_RECEIVED -> ESTABLISHED), then its text (``rcv_data``), then its FIN.

Endpoint conditions used in ``when``: ``passive`` (the connection came from a listener),
``unaccepted`` (passive and not yet accept()ed), ``unread_data`` (bytes wait in the receive buffer),
``orphan`` (the application called close(); Linux), ``listening`` (a listener exists),
``retries_exhausted`` and ``probes_exhausted`` (the timer has used up its retries), and one about
the arriving segment: ``in_window`` (RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, so a SYN there is new).
"""

# ruff: noqa: E501  (a table of data reads best one row per line)
from __future__ import annotations

from questions.engine.core import LINUX_NAME, RFC9293_NAME, Effect, Event, State, Transition

_BOTH = frozenset({RFC9293_NAME, LINUX_NAME})
_RFC = frozenset({RFC9293_NAME})
_LINUX = frozenset({LINUX_NAME})

S = State
E = Event
X = Effect


def _t(
    state: State,
    event: Event,
    next_state: State,
    sends: str,
    rfc: str,
    note: str,
    *,
    profiles: frozenset[str] = _BOTH,
    error: str | None = None,
    when: str | None = None,
    effects: tuple[Effect, ...] = (),
) -> Transition:
    order = ("SYN", "ACK", "FIN", "RST", "PSH")
    flags = tuple(sorted(sends.split(), key=order.index))
    return Transition(state, event, next_state, flags, rfc, profiles, error, note, when, effects)


def _synchronized_calls(state: State) -> tuple[Transition, ...]:
    """listen/connect/accept/send in a state past the handshake where the send side is closed."""
    return (
        _t(
            state,
            E.LISTEN,
            state,
            "",
            "3.10.1",
            "OPEN on an existing connection: error",
            profiles=_RFC,
            error="EISCONN",
        ),
        _t(
            state,
            E.LISTEN,
            state,
            "",
            "3.10.1",
            "listen() on a connected socket fails",
            profiles=_LINUX,
            error="EINVAL",
        ),
        _t(state, E.CONNECT, state, "", "3.10.1", "the connection already exists", error="EISCONN"),
        _t(state, E.ACCEPT, state, "", "3.10.1", "nothing to accept on a connected socket", error="EINVAL"),
        _t(
            state, E.SEND, state, "", "3.10.2", "the send side is closed: 'connection closing'", error="EPIPE"
        ),
        _t(
            state,
            E.RECV,
            state,
            "",
            "3.10.3",
            "reads what is buffered (EOF once the peer's FIN is read)",
            effects=(X.READ,),
        ),
        _t(
            state,
            E.SHUTDOWN,
            state,
            "",
            "3.10.4",
            "already closing: no second FIN ('connection closing' or ok)",
        ),
    )


def _challenge_acks(state: State) -> tuple[Transition, ...]:
    """A SYN in a synchronized state: challenge ACK (RFC 5961 §4, adopted by RFC 9293)."""
    note = "SYN in a synchronized state: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 5961 §4)"
    return (
        _t(state, E.RCV_SYN, state, "ACK", "3.10.7.4", note),
        _t(state, E.RCV_SYN_ACK, state, "ACK", "3.10.7.4", note + "; also repairs a lost handshake ACK"),
    )


def _bad_ack(state: State) -> Transition:
    return _t(
        state,
        E.RCV_BAD_ACK,
        state,
        "ACK",
        "3.10.7.4",
        "ACK of something not yet sent: send ACK, drop the segment",
        effects=(X.RATE_LIMITED,),
    )


def _abort_rst(state: State) -> tuple[Transition, ...]:
    return (
        _t(
            state,
            E.ABORT,
            S.CLOSED,
            "RST",
            "3.10.5",
            "ABORT: send <SEQ=SND.NXT><CTL=RST>, delete the TCB",
            profiles=_RFC,
        ),
        _t(
            state,
            E.ABORT,
            S.CLOSED,
            "ACK RST",
            "3.10.5",
            "SO_LINGER {1,0} + close(): RST+ACK, no TIME_WAIT; the peer gets ECONNRESET",
            profiles=_LINUX,
        ),
    )


def _close_unread(state: State) -> Transition:
    return _t(
        state,
        E.CLOSE,
        S.CLOSED,
        "ACK RST",
        "3.10.4",
        "close() with unread received data sends RST, not FIN (RFC 2525 §2.17, __tcp_close)",
        profiles=_LINUX,
        when="unread_data",
    )


def _unaccepted_close_reset(state: State) -> Transition:
    return _t(
        state,
        E.CLOSE,
        S.CLOSED,
        "ACK RST",
        "3.10.4",
        "never accept()ed: closing the listener resets completed connections still in the accept queue",
        profiles=_LINUX,
        when="unaccepted",
        effects=(X.LISTEN_OFF,),
    )


def _ack_updates(state: State) -> tuple[Transition, ...]:
    """ACKs in a state whose send side is open: they only move SND.UNA (§3.10.7.4)."""
    return (
        _t(state, E.RCV_ACK, state, "", "3.10.7.4", "update SND.UNA: everything sent is acknowledged"),
        _t(
            state,
            E.RCV_ACK_PARTIAL,
            state,
            "",
            "3.10.7.4",
            "update SND.UNA: some data is still unacknowledged",
        ),
    )


def _rto(state: State, sends: str, what: str, retries: str) -> tuple[Transition, ...]:
    return (
        _t(
            state,
            E.TIMEOUT_RTO,
            state,
            sends,
            "3.10.8",
            f"retransmission timeout: resend {what}; the RTO doubles",
        ),
        _t(
            state,
            E.TIMEOUT_RTO,
            S.CLOSED,
            "",
            "3.8.3",
            f"{retries} retransmissions without an ACK: give up (R2), the application gets ETIMEDOUT",
            error="ETIMEDOUT",
            when="retries_exhausted",
        ),
    )


def _keepalive(state: State) -> tuple[Transition, ...]:
    return (
        _t(
            state,
            E.TIMEOUT_KEEPALIVE,
            state,
            "ACK",
            "3.8.4",
            "idle for keepalive_time_s: probe <SEQ=SND.NXT-1>, the peer answers with an ACK",
        ),
        _t(
            state,
            E.TIMEOUT_KEEPALIVE,
            S.CLOSED,
            "",
            "3.8.4",
            "keepalive_probes probes unanswered: the connection is dead (ETIMEDOUT)",
            profiles=_RFC,
            error="ETIMEDOUT",
            when="probes_exhausted",
        ),
        _t(
            state,
            E.TIMEOUT_KEEPALIVE,
            S.CLOSED,
            "ACK RST",
            "3.8.4",
            "tcp_keepalive_probes unanswered: RST+ACK and ETIMEDOUT (tcp_keepalive_timer)",
            profiles=_LINUX,
            error="ETIMEDOUT",
            when="probes_exhausted",
        ),
    )


# fmt: off
TABLE: tuple[Transition, ...] = (
    # ------------------------------------------------------------------ CLOSED (no TCB)
    _t(S.CLOSED, E.LISTEN, S.LISTEN, "", "3.10.1", "passive OPEN: create a TCB, wait for a SYN, send nothing", effects=(X.LISTEN_ON,)),
    _t(S.CLOSED, E.CONNECT, S.SYN_SENT, "SYN", "3.10.1", "active OPEN: choose the ISS, send SYN <SEQ=ISS>", effects=(X.OPEN,)),
    _t(S.CLOSED, E.ACCEPT, S.CLOSED, "", "3.10.1", "accept() on a socket that is not listening", error="EINVAL"),
    _t(S.CLOSED, E.SEND, S.CLOSED, "", "3.10.2", "SEND: 'connection does not exist'", profiles=_RFC, error="ENOTCONN"),
    _t(S.CLOSED, E.SEND, S.CLOSED, "", "3.10.2", "send() on an unconnected socket: EPIPE (observed)", profiles=_LINUX, error="EPIPE"),
    _t(S.CLOSED, E.RECV, S.CLOSED, "", "3.10.3", "RECEIVE: 'connection does not exist'", error="ENOTCONN"),
    _t(S.CLOSED, E.SHUTDOWN, S.CLOSED, "", "3.10.4", "nothing to shut down", error="ENOTCONN"),
    _t(S.CLOSED, E.CLOSE, S.CLOSED, "", "3.10.4", "CLOSE: 'connection does not exist'", profiles=_RFC, error="ENOTCONN"),
    _t(S.CLOSED, E.CLOSE, S.CLOSED, "", "3.10.4", "close() just frees the socket; nothing is sent", profiles=_LINUX),
    _t(S.CLOSED, E.ABORT, S.CLOSED, "", "3.10.5", "ABORT: 'connection does not exist'", profiles=_RFC, error="ENOTCONN"),
    _t(S.CLOSED, E.ABORT, S.CLOSED, "", "3.10.5", "nothing to abort; the socket is freed", profiles=_LINUX),
    _t(S.CLOSED, E.RCV_SYN, S.CLOSED, "ACK RST", "3.10.7.1", "no listener: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>; the peer gets ECONNREFUSED"),
    _t(S.CLOSED, E.RCV_BAD_ACK, S.CLOSED, "RST", "3.10.7.1", "no TCB: an ACK-bearing segment (ACK, SYN+ACK, FIN+ACK, data) gets <SEQ=SEG.ACK><CTL=RST>"),
    _t(S.CLOSED, E.RCV_FIN, S.CLOSED, "ACK RST", "3.10.7.1", "no TCB: a FIN without ACK gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"),
    _t(S.CLOSED, E.RCV_DATA, S.CLOSED, "ACK RST", "3.10.7.1", "no TCB: data without ACK gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"),
    _t(S.CLOSED, E.RCV_RST, S.CLOSED, "", "3.10.7.1", "an incoming RST is discarded, never answered"),
    # ------------------------------------------------------------------ LISTEN
    _t(S.LISTEN, E.LISTEN, S.LISTEN, "", "3.10.1", "already listening (Linux just updates the backlog)"),
    _t(S.LISTEN, E.CONNECT, S.SYN_SENT, "SYN", "3.10.2", "SEND with a foreign socket: the passive TCB becomes active", profiles=_RFC, effects=(X.LISTEN_OFF, X.OPEN)),
    _t(S.LISTEN, E.CONNECT, S.LISTEN, "", "3.10.1", "connect() on a listening socket fails (observed)", profiles=_LINUX, error="EISCONN"),
    _t(S.LISTEN, E.ACCEPT, S.LISTEN, "", "3.10.1", "no completed connection yet: a non-blocking accept() returns EAGAIN", error="EAGAIN"),
    _t(S.LISTEN, E.SEND, S.LISTEN, "", "3.10.2", "SEND without a foreign socket: 'foreign socket unspecified'", profiles=_RFC, error="ENOTCONN"),
    _t(S.LISTEN, E.SEND, S.LISTEN, "", "3.10.2", "send() on a listening socket (observed)", profiles=_LINUX, error="EPIPE"),
    _t(S.LISTEN, E.RECV, S.LISTEN, "", "3.10.3", "nothing can arrive yet: the RECEIVE waits (non-blocking: EAGAIN)", profiles=_RFC, error="EAGAIN"),
    _t(S.LISTEN, E.RECV, S.LISTEN, "", "3.10.3", "recv() on a listening socket (observed)", profiles=_LINUX, error="ENOTCONN"),
    _t(S.LISTEN, E.SHUTDOWN, S.CLOSED, "", "3.10.4", "CLOSE in LISTEN: delete the TCB", profiles=_RFC, effects=(X.LISTEN_OFF,)),
    _t(S.LISTEN, E.SHUTDOWN, S.LISTEN, "", "3.10.4", "shutdown(SHUT_WR) on a listener does nothing (observed)", profiles=_LINUX),
    _t(S.LISTEN, E.CLOSE, S.CLOSED, "", "3.10.4", "delete the TCB; nothing is sent", profiles=_RFC, effects=(X.LISTEN_OFF,)),
    _t(S.LISTEN, E.CLOSE, S.CLOSED, "", "3.10.4", "the listener goes; accepted connections are unaffected (observed)", profiles=_LINUX, effects=(X.LISTEN_OFF,)),
    _t(S.LISTEN, E.ABORT, S.CLOSED, "", "3.10.5", "delete the TCB; nothing is sent", effects=(X.LISTEN_OFF,)),
    _t(S.LISTEN, E.RCV_SYN, S.SYN_RECEIVED, "SYN ACK", "3.10.7.2", "send <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>", profiles=_RFC, effects=(X.PASSIVE_OPEN,)),
    _t(
        S.LISTEN,
        E.RCV_SYN,
        S.SYN_RECEIVED,
        "SYN ACK",
        "3.10.7.2",
        "a request sock (TCP_NEW_SYN_RECV) answers SYN+ACK; the listener itself stays LISTEN",
        profiles=_LINUX,
        effects=(X.PASSIVE_OPEN,),
    ),
    _t(S.LISTEN, E.RCV_BAD_ACK, S.LISTEN, "RST", "3.10.7.2", "any ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>"),
    _t(S.LISTEN, E.RCV_FIN, S.LISTEN, "", "3.10.7.2", "a FIN without ACK is dropped"),
    _t(S.LISTEN, E.RCV_DATA, S.LISTEN, "", "3.10.7.2", "text without ACK is dropped"),
    _t(S.LISTEN, E.RCV_RST, S.LISTEN, "", "3.10.7.2", "an incoming RST is ignored"),
    # ------------------------------------------------------------------ SYN_SENT
    _t(S.SYN_SENT, E.LISTEN, S.SYN_SENT, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.SYN_SENT, E.LISTEN, S.SYN_SENT, "", "3.10.1", "listen() on a connecting socket (observed)", profiles=_LINUX, error="EINVAL"),
    _t(S.SYN_SENT, E.CONNECT, S.SYN_SENT, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.SYN_SENT, E.CONNECT, S.SYN_SENT, "", "3.10.1", "a second connect() while the first is in progress (observed)", profiles=_LINUX, error="EALREADY"),
    _t(S.SYN_SENT, E.ACCEPT, S.SYN_SENT, "", "3.10.1", "accept() on a socket that is not listening", error="EINVAL"),
    _t(S.SYN_SENT, E.SEND, S.SYN_SENT, "", "3.10.2", "not yet established: the RFC queues the data; a non-blocking send() returns EAGAIN", error="EAGAIN"),
    _t(S.SYN_SENT, E.RECV, S.SYN_SENT, "", "3.10.3", "nothing to read yet (non-blocking: EAGAIN, observed)", error="EAGAIN"),
    _t(S.SYN_SENT, E.SHUTDOWN, S.CLOSED, "", "3.10.4", "CLOSE in SYN_SENT: delete the TCB, nothing is sent", profiles=_RFC),
    _t(S.SYN_SENT, E.SHUTDOWN, S.CLOSED, "", "3.10.4", "tcp_disconnect(): CLOSED, no RST", profiles=_LINUX),
    _t(S.SYN_SENT, E.CLOSE, S.CLOSED, "", "3.10.4", "delete the TCB, nothing is sent; a late SYN+ACK meets CLOSED and gets RST (observed)"),
    _t(S.SYN_SENT, E.ABORT, S.CLOSED, "", "3.10.5", "delete the TCB, nothing is sent"),
    _t(S.SYN_SENT, E.RCV_SYN, S.SYN_RECEIVED, "SYN ACK", "3.10.7.3", "simultaneous open: send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (same ISS)", effects=(X.SYNC,)),
    _t(S.SYN_SENT, E.RCV_SYN_ACK, S.ESTABLISHED, "ACK", "3.10.7.3", "our SYN is acked and theirs arrives: send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>", effects=(X.SYNC,)),
    _t(S.SYN_SENT, E.RCV_ACK, S.SYN_SENT, "", "3.10.7.3", "an acceptable ACK without SYN or RST: drop"),
    _t(S.SYN_SENT, E.RCV_BAD_ACK, S.SYN_SENT, "RST", "3.10.7.3", "SEG.ACK =< ISS or > SND.NXT: <SEQ=SEG.ACK><CTL=RST> (Linux wants SEG.ACK == SND.NXT)"),
    _t(S.SYN_SENT, E.RCV_FIN, S.SYN_SENT, "", "3.10.7.3", "no SYN: the FIN is not processed, drop"),
    _t(S.SYN_SENT, E.RCV_DATA, S.SYN_SENT, "", "3.10.7.3", "no SYN: drop"),
    _t(S.SYN_SENT, E.RCV_RST, S.CLOSED, "", "3.10.7.3", "RST with an acceptable ACK: 'connection reset'", profiles=_RFC, error="ECONNRESET"),
    _t(S.SYN_SENT, E.RCV_RST, S.CLOSED, "", "3.10.7.3", "RST with an acceptable ACK: connect() fails with ECONNREFUSED (observed)", profiles=_LINUX, error="ECONNREFUSED"),
    *_rto(S.SYN_SENT, "SYN", "the SYN", "syn_retries"),
    # ------------------------------------------------------------------ SYN_RECEIVED
    _t(S.SYN_RECEIVED, E.LISTEN, S.SYN_RECEIVED, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.SYN_RECEIVED, E.LISTEN, S.SYN_RECEIVED, "", "3.10.1", "listen() on a connecting socket", profiles=_LINUX, error="EINVAL"),
    _t(S.SYN_RECEIVED, E.CONNECT, S.SYN_RECEIVED, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.SYN_RECEIVED, E.CONNECT, S.SYN_RECEIVED, "", "3.10.1", "connect() while the handshake is in progress", profiles=_LINUX, error="EALREADY"),
    _t(S.SYN_RECEIVED, E.ACCEPT, S.SYN_RECEIVED, "", "3.10.1", "the handshake is not complete: nothing to accept yet", error="EAGAIN"),
    _t(S.SYN_RECEIVED, E.SEND, S.SYN_RECEIVED, "", "3.10.2", "not yet established: the RFC queues the data; a non-blocking send() returns EAGAIN", error="EAGAIN"),
    _t(S.SYN_RECEIVED, E.RECV, S.SYN_RECEIVED, "", "3.10.3", "nothing to read yet", error="EAGAIN"),
    _t(S.SYN_RECEIVED, E.SHUTDOWN, S.FIN_WAIT_1, "ACK FIN", "3.10.4", "nothing queued: send FIN"),
    _t(S.SYN_RECEIVED, E.CLOSE, S.FIN_WAIT_1, "ACK FIN", "3.10.4", "nothing queued: send FIN", profiles=_RFC),
    _t(
        S.SYN_RECEIVED,
        E.CLOSE,
        S.FIN_WAIT_1,
        "ACK FIN",
        "3.10.4",
        "simultaneous-open socket: new_state[SYN_RECV] = FIN_WAIT1 + FIN",
        profiles=_LINUX,
        effects=(X.ORPHAN,),
    ),
    _t(
        S.SYN_RECEIVED,
        E.CLOSE,
        S.CLOSED,
        "",
        "3.10.4",
        "passive: the application holds only the listener; closing it drops the request sock, nothing is sent",
        profiles=_LINUX,
        when="passive",
        effects=(X.LISTEN_OFF,),
    ),
    _t(S.SYN_RECEIVED, E.ABORT, S.CLOSED, "RST", "3.10.5", "send <SEQ=SND.NXT><CTL=RST>, delete the TCB", profiles=_RFC),
    _t(S.SYN_RECEIVED, E.ABORT, S.CLOSED, "ACK RST", "3.10.5", "tcp_need_reset() includes SYN_RECV: RST+ACK", profiles=_LINUX),
    _t(
        S.SYN_RECEIVED,
        E.ABORT,
        S.CLOSED,
        "",
        "3.10.5",
        "passive: aborting the listener drops the request sock, nothing is sent",
        profiles=_LINUX,
        when="passive",
        effects=(X.LISTEN_OFF,),
    ),
    # §3.10.7.4 checks the sequence number before the SYN bit: a retransmitted SYN (SEG.SEQ = IRS) is
    # an old duplicate, and only an in-window SYN reaches "fourth, check the SYN bit".
    _t(
        S.SYN_RECEIVED,
        E.RCV_SYN,
        S.SYN_RECEIVED,
        "ACK",
        "3.10.7.4",
        "a retransmitted SYN has SEG.SEQ = IRS < RCV.NXT, not acceptable: send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drop it",
    ),
    _t(S.SYN_RECEIVED, E.RCV_SYN, S.SYN_RECEIVED, "ACK", "3.10.7.4", "active (simultaneous open): an in-window SYN gets a challenge ACK (RFC 5961 §4)", when="in_window"),
    _t(
        S.SYN_RECEIVED,
        E.RCV_SYN,
        S.LISTEN,
        "",
        "3.10.7.4",
        "passive: an in-window SYN, not a retransmission, returns the connection to LISTEN (fourth, check the SYN bit)",
        profiles=_RFC,
        when="passive&in_window",
    ),
    _t(
        S.SYN_RECEIVED,
        E.RCV_SYN,
        S.SYN_RECEIVED,
        "SYN ACK",
        "3.10.7.4",
        "request sock: the retransmitted SYN (SEG.SEQ = IRS) gets the SYN+ACK again (tcp_check_req)",
        profiles=_LINUX,
        when="passive",
    ),
    _t(
        S.SYN_RECEIVED,
        E.RCV_SYN,
        S.CLOSED,
        "ACK RST",
        "3.10.7.4",
        "request sock: an in-window SYN other than the retransmitted one gets RST and the request is dropped; the listener stays (tcp_check_req)",
        profiles=_LINUX,
        when="passive&in_window",
    ),
    _t(
        S.SYN_RECEIVED,
        E.RCV_SYN_ACK,
        S.SYN_RECEIVED,
        "ACK",
        "3.10.7.4",
        "crossing SYN+ACK has SEQ = RCV.NXT-1, not acceptable: send ACK, drop; ESTABLISHED on the peer's ACK",
        profiles=_RFC,
    ),
    _t(
        S.SYN_RECEIVED,
        E.RCV_SYN_ACK,
        S.ESTABLISHED,
        "ACK",
        "3.10.7.4",
        "simultaneous-open shortcut: tcp_validate_incoming() accepts the crossing SYN+ACK (observed)",
        profiles=_LINUX,
        effects=(X.TAKE_ACK,),
    ),
    _t(S.SYN_RECEIVED, E.RCV_ACK, S.ESTABLISHED, "", "3.10.7.4", "SND.UNA < SEG.ACK =< SND.NXT: the handshake is complete"),
    _t(S.SYN_RECEIVED, E.RCV_BAD_ACK, S.SYN_RECEIVED, "RST", "3.10.7.4", "unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>"),
    _t(S.SYN_RECEIVED, E.RCV_FIN, S.CLOSE_WAIT, "ACK", "3.10.7.4", "a FIN (with an acceptable ACK): enter CLOSE_WAIT", effects=(X.DELIVER,)),
    _t(S.SYN_RECEIVED, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "active open: 'connection refused'", profiles=_RFC, error="ECONNREFUSED"),
    _t(S.SYN_RECEIVED, E.RCV_RST, S.LISTEN, "", "3.10.7.4", "passive open: return to LISTEN (Figure 5 note 1)", profiles=_RFC, when="passive"),
    _t(S.SYN_RECEIVED, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "simultaneous-open socket: CLOSED, ECONNRESET (tcp_reset)", profiles=_LINUX, error="ECONNRESET"),
    _t(
        S.SYN_RECEIVED,
        E.RCV_RST,
        S.CLOSED,
        "",
        "3.10.7.4",
        "the request sock is removed, the listener still listens; the application never saw it",
        profiles=_LINUX,
        when="passive",
    ),
    _t(S.SYN_RECEIVED, E.TIMEOUT_RTO, S.SYN_RECEIVED, "SYN ACK", "3.10.8", "retransmission timeout: resend the SYN+ACK; the RTO doubles"),
    _t(
        S.SYN_RECEIVED,
        E.TIMEOUT_RTO,
        S.CLOSED,
        "",
        "3.8.3",
        "synack_retries retransmissions without an ACK: give up (ETIMEDOUT)",
        error="ETIMEDOUT",
        when="retries_exhausted",
    ),
    _t(
        S.SYN_RECEIVED,
        E.TIMEOUT_RTO,
        S.CLOSED,
        "",
        "3.8.3",
        "tcp_synack_retries exhausted: the request sock is dropped silently",
        profiles=_LINUX,
        when="retries_exhausted&passive",
    ),
    # ------------------------------------------------------------------ ESTABLISHED
    _t(S.ESTABLISHED, E.LISTEN, S.ESTABLISHED, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.ESTABLISHED, E.LISTEN, S.ESTABLISHED, "", "3.10.1", "listen() on a connected socket (observed)", profiles=_LINUX, error="EINVAL"),
    _t(S.ESTABLISHED, E.CONNECT, S.ESTABLISHED, "", "3.10.1", "already connected (observed)", error="EISCONN"),
    _t(S.ESTABLISHED, E.ACCEPT, S.ESTABLISHED, "", "3.10.1", "nothing to accept on a connected socket (observed)", error="EINVAL"),
    _t(S.ESTABLISHED, E.ACCEPT, S.ESTABLISHED, "", "3.10.1", "accept() returns the completed connection", when="unaccepted", effects=(X.ACCEPT,)),
    _t(S.ESTABLISHED, E.SEND, S.ESTABLISHED, "ACK PSH", "3.10.2", "segmentize and send <SEQ=SND.NXT><ACK=RCV.NXT>", effects=(X.WRITE,)),
    _t(S.ESTABLISHED, E.RECV, S.ESTABLISHED, "", "3.10.3", "reads what is buffered", effects=(X.READ,)),
    _t(S.ESTABLISHED, E.SHUTDOWN, S.FIN_WAIT_1, "ACK FIN", "3.10.4", "half-close: send FIN after the queued data; the socket stays readable"),
    _t(S.ESTABLISHED, E.CLOSE, S.FIN_WAIT_1, "ACK FIN", "3.10.4", "send FIN after the queued data", profiles=_RFC),
    _t(S.ESTABLISHED, E.CLOSE, S.FIN_WAIT_1, "ACK FIN", "3.10.4", "new_state[ESTABLISHED] = FIN_WAIT1 + FIN; the socket is orphaned", profiles=_LINUX, effects=(X.ORPHAN,)),
    _close_unread(S.ESTABLISHED),
    _unaccepted_close_reset(S.ESTABLISHED),
    *_abort_rst(S.ESTABLISHED),
    *_challenge_acks(S.ESTABLISHED),
    *_ack_updates(S.ESTABLISHED),
    _bad_ack(S.ESTABLISHED),
    _t(S.ESTABLISHED, E.RCV_FIN, S.CLOSE_WAIT, "ACK", "3.10.7.4", "the peer has finished sending: ACK the FIN, enter CLOSE_WAIT (half-closed)", effects=(X.DELIVER,)),
    _t(S.ESTABLISHED, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "RST with SEQ = RCV.NXT: 'connection reset'", error="ECONNRESET"),
    _t(S.ESTABLISHED, E.RCV_DATA, S.ESTABLISHED, "ACK", "3.10.7.4", "deliver the text, advance RCV.NXT, send ACK", effects=(X.DELIVER,)),
    *_rto(S.ESTABLISHED, "ACK PSH", "the unacknowledged data", "retries2"),
    *_keepalive(S.ESTABLISHED),
    # ------------------------------------------------------------------ FIN_WAIT_1
    *_synchronized_calls(S.FIN_WAIT_1),
    _t(S.FIN_WAIT_1, E.CLOSE, S.FIN_WAIT_1, "", "3.10.4", "FIN already sent: no second FIN ('connection closing' or ok)", profiles=_RFC),
    _t(S.FIN_WAIT_1, E.CLOSE, S.FIN_WAIT_1, "", "3.10.4", "the socket becomes an orphan, stays FIN_WAIT_1, no second FIN", profiles=_LINUX, effects=(X.ORPHAN,)),
    _close_unread(S.FIN_WAIT_1),
    *_abort_rst(S.FIN_WAIT_1),
    *_challenge_acks(S.FIN_WAIT_1),
    _t(S.FIN_WAIT_1, E.RCV_ACK, S.FIN_WAIT_2, "", "3.10.7.4", "our FIN is acknowledged: enter FIN_WAIT_2"),
    _t(S.FIN_WAIT_1, E.RCV_ACK_PARTIAL, S.FIN_WAIT_1, "", "3.10.7.4", "an ACK that does not yet cover our FIN"),
    _bad_ack(S.FIN_WAIT_1),
    _t(S.FIN_WAIT_1, E.RCV_FIN, S.CLOSING, "ACK", "3.10.7.4", "simultaneous close: their FIN before the ACK of ours; ACK it, enter CLOSING", effects=(X.DELIVER,)),
    _t(
        S.FIN_WAIT_1,
        E.RCV_FIN_ACK,
        S.TIME_WAIT,
        "ACK",
        "3.10.7.4",
        "three-segment close: a FIN that also acks our FIN; ACK it, enter TIME_WAIT (Figure 5 note 2)",
        effects=(X.DELIVER,),
    ),
    _t(S.FIN_WAIT_1, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "'connection reset'", error="ECONNRESET"),
    _t(S.FIN_WAIT_1, E.RCV_DATA, S.FIN_WAIT_1, "ACK", "3.10.7.4", "half-closed: the receive side is open, deliver and ACK", effects=(X.DELIVER,)),
    _t(
        S.FIN_WAIT_1,
        E.RCV_DATA,
        S.CLOSED,
        "RST",
        "3.10.7.4",
        "data after close(): nobody can read it, RST (RFC 1122 4.2.2.13, TCPAbortOnData)",
        profiles=_LINUX,
        when="orphan",
    ),
    *_rto(S.FIN_WAIT_1, "ACK FIN", "the FIN", "retries2"),
    # ------------------------------------------------------------------ FIN_WAIT_2
    *_synchronized_calls(S.FIN_WAIT_2),
    _t(S.FIN_WAIT_2, E.CLOSE, S.FIN_WAIT_2, "", "3.10.4", "FIN already sent and acked: nothing to do", profiles=_RFC),
    _t(
        S.FIN_WAIT_2,
        E.CLOSE,
        S.FIN_WAIT_2,
        "",
        "3.10.4",
        "orphaned: a FIN_WAIT2 minisock with the tcp_fin_timeout timer (60 s)",
        profiles=_LINUX,
        effects=(X.ORPHAN,),
    ),
    _close_unread(S.FIN_WAIT_2),
    *_abort_rst(S.FIN_WAIT_2),
    *_challenge_acks(S.FIN_WAIT_2),
    _t(
        S.FIN_WAIT_2,
        E.RCV_SYN,
        S.CLOSED,
        "ACK RST",
        "3.10.7.4",
        "an orphaned FIN_WAIT2 minisock answers a SYN with RST and dies (tcp_timewait_state_process)",
        profiles=_LINUX,
        when="orphan",
    ),
    _t(S.FIN_WAIT_2, E.RCV_ACK, S.FIN_WAIT_2, "", "3.10.7.4", "nothing new: wait for the peer's FIN"),
    _bad_ack(S.FIN_WAIT_2),
    _t(S.FIN_WAIT_2, E.RCV_FIN, S.TIME_WAIT, "ACK", "3.10.7.4", "ACK the peer's FIN, enter TIME_WAIT and start the 2MSL timer", effects=(X.DELIVER,)),
    _t(S.FIN_WAIT_2, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "'connection reset'", error="ECONNRESET"),
    _t(S.FIN_WAIT_2, E.RCV_DATA, S.FIN_WAIT_2, "ACK", "3.10.7.4", "half-closed: deliver and ACK", effects=(X.DELIVER,)),
    _t(
        S.FIN_WAIT_2,
        E.RCV_DATA,
        S.CLOSED,
        "RST",
        "3.10.7.4",
        "data after close(): RST (RFC 1122 4.2.2.13, TCPAbortOnData)",
        profiles=_LINUX,
        when="orphan",
    ),
    _t(
        S.FIN_WAIT_2,
        E.TIMEOUT_FIN_WAIT_2,
        S.CLOSED,
        "",
        "3.10.8",
        "not in RFC 9293: an orphan waits tcp_fin_timeout (60 s) for the FIN, then vanishes silently",
        profiles=_LINUX,
    ),
    # ------------------------------------------------------------------ CLOSE_WAIT
    _t(S.CLOSE_WAIT, E.LISTEN, S.CLOSE_WAIT, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.CLOSE_WAIT, E.LISTEN, S.CLOSE_WAIT, "", "3.10.1", "listen() on a connected socket", profiles=_LINUX, error="EINVAL"),
    _t(S.CLOSE_WAIT, E.CONNECT, S.CLOSE_WAIT, "", "3.10.1", "already connected", error="EISCONN"),
    _t(S.CLOSE_WAIT, E.ACCEPT, S.CLOSE_WAIT, "", "3.10.1", "nothing to accept on a connected socket", error="EINVAL"),
    _t(S.CLOSE_WAIT, E.ACCEPT, S.CLOSE_WAIT, "", "3.10.1", "accept() returns the connection, already half-closed by the peer", when="unaccepted", effects=(X.ACCEPT,)),
    _t(S.CLOSE_WAIT, E.SEND, S.CLOSE_WAIT, "ACK PSH", "3.10.2", "half-closed by the peer: our send side is still open (observed)", effects=(X.WRITE,)),
    _t(S.CLOSE_WAIT, E.RECV, S.CLOSE_WAIT, "", "3.10.3", "reads what is buffered, then EOF", effects=(X.READ,)),
    _t(S.CLOSE_WAIT, E.SHUTDOWN, S.LAST_ACK, "ACK FIN", "3.10.4", "send our FIN, enter LAST_ACK; the socket stays open"),
    _t(S.CLOSE_WAIT, E.CLOSE, S.LAST_ACK, "ACK FIN", "3.10.4", "send our FIN, enter LAST_ACK", profiles=_RFC),
    _t(S.CLOSE_WAIT, E.CLOSE, S.LAST_ACK, "ACK FIN", "3.10.4", "new_state[CLOSE_WAIT] = LAST_ACK + FIN; the socket is orphaned", profiles=_LINUX, effects=(X.ORPHAN,)),
    _close_unread(S.CLOSE_WAIT),
    _unaccepted_close_reset(S.CLOSE_WAIT),
    *_abort_rst(S.CLOSE_WAIT),
    *_challenge_acks(S.CLOSE_WAIT),
    *_ack_updates(S.CLOSE_WAIT),
    _bad_ack(S.CLOSE_WAIT),
    _t(S.CLOSE_WAIT, E.RCV_FIN, S.CLOSE_WAIT, "ACK", "3.10.7.4", "a retransmitted FIN (our ACK was lost): ACK it again"),
    _t(S.CLOSE_WAIT, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "'connection reset'", profiles=_RFC, error="ECONNRESET"),
    _t(S.CLOSE_WAIT, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "tcp_reset() in CLOSE_WAIT reports EPIPE", profiles=_LINUX, error="EPIPE"),
    _t(S.CLOSE_WAIT, E.RCV_DATA, S.CLOSE_WAIT, "", "3.10.7.4", "text after the peer's FIN should not occur: ignore it"),
    *_rto(S.CLOSE_WAIT, "ACK PSH", "the unacknowledged data", "retries2"),
    *_keepalive(S.CLOSE_WAIT),
    # ------------------------------------------------------------------ CLOSING
    *_synchronized_calls(S.CLOSING),
    _t(S.CLOSING, E.CLOSE, S.CLOSING, "", "3.10.4", "FIN already sent ('connection closing' or ok)", profiles=_RFC),
    _t(S.CLOSING, E.CLOSE, S.CLOSING, "", "3.10.4", "orphaned, stays CLOSING", profiles=_LINUX, effects=(X.ORPHAN,)),
    _t(S.CLOSING, E.ABORT, S.CLOSED, "", "3.10.5", "delete the TCB; no RST is sent in CLOSING"),
    *_challenge_acks(S.CLOSING),
    _t(S.CLOSING, E.RCV_ACK, S.TIME_WAIT, "", "3.10.7.4", "our FIN is acknowledged: enter TIME_WAIT"),
    _t(S.CLOSING, E.RCV_ACK_PARTIAL, S.CLOSING, "", "3.10.7.4", "an ACK that does not yet cover our FIN"),
    _bad_ack(S.CLOSING),
    _t(S.CLOSING, E.RCV_FIN, S.CLOSING, "ACK", "3.10.7.4", "a retransmitted FIN: ACK it again"),
    _t(S.CLOSING, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "enter CLOSED, delete the TCB", profiles=_RFC),
    _t(S.CLOSING, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "tcp_reset(): ECONNRESET if the application still holds the socket", profiles=_LINUX, error="ECONNRESET"),
    _t(S.CLOSING, E.RCV_DATA, S.CLOSING, "", "3.10.7.4", "text after the peer's FIN should not occur: ignore it"),
    *_rto(S.CLOSING, "ACK FIN", "the FIN (with the current ACK)", "retries2"),
    # ------------------------------------------------------------------ LAST_ACK
    *_synchronized_calls(S.LAST_ACK),
    _t(S.LAST_ACK, E.CLOSE, S.LAST_ACK, "", "3.10.4", "FIN already sent ('connection closing' or ok)", profiles=_RFC),
    _t(S.LAST_ACK, E.CLOSE, S.LAST_ACK, "", "3.10.4", "orphaned, stays LAST_ACK", profiles=_LINUX, effects=(X.ORPHAN,)),
    _t(S.LAST_ACK, E.ABORT, S.CLOSED, "", "3.10.5", "delete the TCB; no RST is sent in LAST_ACK"),
    *_challenge_acks(S.LAST_ACK),
    _t(S.LAST_ACK, E.RCV_ACK, S.CLOSED, "", "3.10.7.4", "the ACK of our FIN: delete the TCB, CLOSED"),
    _t(S.LAST_ACK, E.RCV_ACK_PARTIAL, S.LAST_ACK, "", "3.10.7.4", "an ACK that does not yet cover our FIN"),
    _bad_ack(S.LAST_ACK),
    _t(S.LAST_ACK, E.RCV_FIN, S.LAST_ACK, "ACK", "3.10.7.4", "a retransmitted FIN: ACK it again"),
    _t(S.LAST_ACK, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "enter CLOSED, delete the TCB", profiles=_RFC),
    _t(S.LAST_ACK, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "tcp_reset(): ECONNRESET if the application still holds the socket", profiles=_LINUX, error="ECONNRESET"),
    _t(S.LAST_ACK, E.RCV_DATA, S.LAST_ACK, "", "3.10.7.4", "text after the peer's FIN should not occur: ignore it"),
    *_rto(S.LAST_ACK, "ACK FIN", "the FIN", "retries2"),
    # ------------------------------------------------------------------ TIME_WAIT
    _t(S.TIME_WAIT, E.LISTEN, S.TIME_WAIT, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(S.TIME_WAIT, E.LISTEN, S.TIME_WAIT, "", "3.10.1", "the address is held by the TIME_WAIT minisock", profiles=_LINUX, error="EADDRINUSE"),
    _t(S.TIME_WAIT, E.CONNECT, S.TIME_WAIT, "", "3.10.1", "OPEN: 'connection already exists'", profiles=_RFC, error="EISCONN"),
    _t(
        S.TIME_WAIT,
        E.CONNECT,
        S.TIME_WAIT,
        "",
        "3.10.1",
        "the 4-tuple is held by TIME_WAIT (tcp_tw_reuse would allow it on loopback with timestamps)",
        profiles=_LINUX,
        error="EADDRINUSE",
    ),
    _t(S.TIME_WAIT, E.ACCEPT, S.TIME_WAIT, "", "3.10.1", "nothing to accept", error="EINVAL"),
    _t(S.TIME_WAIT, E.SEND, S.TIME_WAIT, "", "3.10.2", "'connection closing'", error="EPIPE"),
    _t(S.TIME_WAIT, E.RECV, S.TIME_WAIT, "", "3.10.3", "reads what is buffered, then EOF", effects=(X.READ,)),
    _t(S.TIME_WAIT, E.SHUTDOWN, S.TIME_WAIT, "", "3.10.4", "'connection closing' (or ok)", profiles=_RFC),
    _t(S.TIME_WAIT, E.SHUTDOWN, S.TIME_WAIT, "", "3.10.4", "the fd reports CLOSED: shutdown() fails", profiles=_LINUX, error="ENOTCONN"),
    _t(S.TIME_WAIT, E.CLOSE, S.TIME_WAIT, "", "3.10.4", "'connection closing' (or ok); TIME_WAIT runs on", profiles=_RFC),
    _t(S.TIME_WAIT, E.CLOSE, S.TIME_WAIT, "", "3.10.4", "the fd is already detached from the TIME_WAIT minisock", profiles=_LINUX),
    _t(S.TIME_WAIT, E.ABORT, S.CLOSED, "", "3.10.5", "delete the TCB", profiles=_RFC),
    _t(S.TIME_WAIT, E.ABORT, S.TIME_WAIT, "", "3.10.5", "no socket is left to abort: the minisock runs its 60 s", profiles=_LINUX),
    _t(S.TIME_WAIT, E.RCV_SYN, S.TIME_WAIT, "ACK", "3.10.7.4", "a SYN in TIME_WAIT: challenge ACK (RFC 6191 would allow a new incarnation)", profiles=_RFC),
    _t(S.TIME_WAIT, E.RCV_SYN, S.TIME_WAIT, "ACK", "3.10.7.4", "no listener for a new incarnation: ACK (TCP_TW_ACK)", profiles=_LINUX),
    _t(
        S.TIME_WAIT,
        E.RCV_SYN,
        S.SYN_RECEIVED,
        "SYN ACK",
        "3.10.7.4",
        "a new SYN above RCV.NXT reopens TIME_WAIT: new connection with ISN = old SND.NXT + 65537 (observed)",
        profiles=_LINUX,
        when="listening",
        effects=(X.REOPEN,),
    ),
    _t(S.TIME_WAIT, E.RCV_SYN_ACK, S.TIME_WAIT, "ACK", "3.10.7.4", "not acceptable: ACK it"),
    _t(S.TIME_WAIT, E.RCV_ACK, S.TIME_WAIT, "", "3.10.7.4", "only a FIN is expected here: nothing to do", profiles=_RFC),
    _t(
        S.TIME_WAIT,
        E.RCV_ACK,
        S.TIME_WAIT,
        "",
        "3.10.7.4",
        "an in-window bare ACK silently restarts the 60 s timer (observed)",
        profiles=_LINUX,
        effects=(X.RESTART_TIME_WAIT,),
    ),
    _t(S.TIME_WAIT, E.RCV_BAD_ACK, S.TIME_WAIT, "ACK", "3.10.7.4", "an unacceptable segment: send ACK, drop", profiles=_RFC, effects=(X.RATE_LIMITED,)),
    _t(
        S.TIME_WAIT,
        E.RCV_BAD_ACK,
        S.TIME_WAIT,
        "ACK",
        "3.10.7.4",
        "an out-of-window segment: ACK (rate limited) and restart the 60 s timer (observed)",
        profiles=_LINUX,
        effects=(X.RATE_LIMITED, X.RESTART_TIME_WAIT),
    ),
    _t(S.TIME_WAIT, E.RCV_FIN, S.TIME_WAIT, "ACK", "3.10.7.4", "the peer retransmitted its FIN (our ACK was lost): ACK it, restart 2MSL", effects=(X.RESTART_TIME_WAIT,)),
    _t(S.TIME_WAIT, E.RCV_RST, S.CLOSED, "", "3.10.7.4", "RST kills TIME_WAIT (the RFC 1337 'TIME-WAIT assassination' hazard)"),
    _t(S.TIME_WAIT, E.RCV_RST, S.TIME_WAIT, "", "3.10.7.4", "rfc1337 on: a RST in TIME_WAIT is ignored (RFC 1337)", when="rfc1337"),
    _t(S.TIME_WAIT, E.RCV_DATA, S.TIME_WAIT, "", "3.10.7.4", "text after the peer's FIN should not occur: ignore it", profiles=_RFC),
    _t(
        S.TIME_WAIT,
        E.RCV_DATA,
        S.TIME_WAIT,
        "ACK",
        "3.10.7.4",
        "the minisock ACKs it and restarts the 60 s timer",
        profiles=_LINUX,
        effects=(X.RATE_LIMITED, X.RESTART_TIME_WAIT),
    ),
    _t(S.TIME_WAIT, E.TIMEOUT_TIME_WAIT, S.CLOSED, "", "3.10.8", "2MSL = 2 x 120 s = 240 s have passed: delete the TCB", profiles=_RFC),
    _t(S.TIME_WAIT, E.TIMEOUT_TIME_WAIT, S.CLOSED, "", "3.10.8", "TCP_TIMEWAIT_LEN = 60 s fixed (not 2MSL, not tcp_fin_timeout)", profiles=_LINUX),
)
# fmt: on
