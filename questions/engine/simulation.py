"""Endpoints with sequence numbers and timers, joined by a wire the caller drives step by step.

Every state change goes through the table (``Profile._plan``); this module only classifies
arriving segments into events (RFC 9293 §3.10.7 processing order), fills in sequence numbers and
runs the timers. The trace is a list of tuples (cheap to build), turned into dicts on demand:

- ``("send", t, seg)`` / ``("deliver", t, seg)`` / ``("drop", t, seg)``: a segment's fate;
- ``("call", t, i, event, arg)``: an application call at endpoint ``i``;
- ``("timer", t, i, event)``: a timer expired at endpoint ``i``;
- ``("step", t, i, row, before, after)``: a table row fired (``before``/``after`` are the reported states);
- ``("discard", t, i, seg, reason)``: a segment dropped before the table (RFC 9293 §3.10.7.4 checks);
- ``("read", t, i, nbytes)``: the application read bytes;
- ``("error", t, i, errno)``: the application sees an error.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from questions.engine.core import (
    ACK,
    FIN,
    PSH,
    RST,
    SYN,
    Effect,
    Event,
    State,
    Transition,
    flag_names,
    flags_mask,
)
from questions.engine.profiles import RFC9293, CompiledRow, Profile

MOD = 1 << 32
MASK = MOD - 1
HALF = 1 << 31

_CLOSED = State.CLOSED
_LISTEN = State.LISTEN
_SYN_SENT = State.SYN_SENT
_SYN_RECEIVED = State.SYN_RECEIVED
_ESTABLISHED = State.ESTABLISHED
_FIN_WAIT_1 = State.FIN_WAIT_1
_FIN_WAIT_2 = State.FIN_WAIT_2
_TIME_WAIT = State.TIME_WAIT

_E = Event
# Calls about the connection itself: once it is gone they meet CLOSED, not the listener.
_CONNECTION_CALLS = frozenset({Event.SEND, Event.RECV, Event.SHUTDOWN})
WIRE_MODES: tuple[str, ...] = ("auto", "hold")
# Timers that fall due at the same instant fire in this order, the first-named endpoint first.
TIMER_ORDER: tuple[Event, ...] = (
    Event.TIMEOUT_RTO,
    Event.TIMEOUT_TIME_WAIT,
    Event.TIMEOUT_FIN_WAIT_2,
    Event.TIMEOUT_KEEPALIVE,
)
TraceEntry = tuple[Any, ...]


class WireError(ValueError):
    """A wire operation that cannot be done (e.g. deliver with nothing held from that sender)."""


class Segment:
    """One TCP segment on the wire. ``ack`` is None when ACK is not set."""

    __slots__ = ("ack", "dst", "flags", "id", "injected", "length", "seq", "src")

    def __init__(
        self,
        id: int,
        src: int,
        dst: int,
        flags: int,
        seq: int,
        ack: int | None,
        length: int,
        injected: bool = False,
    ) -> None:
        self.id = id
        self.src = src
        self.dst = dst
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.length = length
        self.injected = injected

    @property
    def flag_names(self) -> tuple[str, ...]:
        """Flags in canonical order (SYN ACK FIN RST PSH)."""
        return flag_names(self.flags)

    @property
    def end(self) -> int:
        """SEG.SEQ + SEG.LEN, counting SYN and FIN, modulo 2**32: what an ACK of it carries."""
        return (
            self.seq + self.length + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)
        ) & MASK

    def __repr__(self) -> str:
        return (
            f"Segment(#{self.id} {self.src}->{self.dst} {'+'.join(self.flag_names) or '-'} "
            f"seq={self.seq} ack={self.ack} len={self.length}{' injected' if self.injected else ''})"
        )


def _after(a: int, b: int) -> bool:
    """a > b in sequence space (RFC 9293 §3.4, modulo 2**32)."""
    return 0 < ((a - b) & MASK) < HALF


class Endpoint:
    """One TCP endpoint: its connection's TCB, a listener flag, buffers, timers, the last app error."""

    __slots__ = (
        "_ack_due",
        "_coalesce",
        "_fin_pending",
        "_text",
        "accepted",
        "error",
        "fin_rcvd",
        "fin_seq",
        "fw2_at",
        "index",
        "irs",
        "iss",
        "ka_at",
        "ka_n",
        "last_invalid_ack",
        "listening",
        "name",
        "orphan",
        "passive",
        "plan",
        "profile",
        "rcv_buf",
        "rcv_nxt",
        "rto_at",
        "rto_cur",
        "rto_n",
        "sim",
        "snd_buf",
        "snd_nxt",
        "snd_una",
        "state",
        "syn_acked",
        "tw_at",
    )

    sim: Simulation
    index: int
    name: str
    profile: Profile
    plan: dict[tuple[State, Event], tuple[CompiledRow, ...]]
    state: State
    listening: bool
    passive: bool
    accepted: bool
    orphan: bool
    error: str | None
    iss: int
    irs: int
    snd_una: int
    snd_nxt: int
    rcv_nxt: int
    syn_acked: bool
    fin_seq: int | None
    fin_rcvd: bool
    snd_buf: int
    rcv_buf: int
    rto_at: float | None
    rto_n: int
    rto_cur: float
    tw_at: float | None
    fw2_at: float | None
    ka_at: float | None
    ka_n: int
    last_invalid_ack: float

    def __init__(self, sim: Simulation, index: int, name: str) -> None:
        self.sim = sim
        self.index = index
        self.name = name
        self.profile = sim.profile
        self.plan = sim.profile._plan
        self.state = _CLOSED
        self.listening = False
        self.error = None
        self.last_invalid_ack = -1e18
        self._coalesce = False
        self._ack_due = False
        self._text = 0
        self._fin_pending = False
        self._reset_tcb()

    def _reset_tcb(self) -> None:
        self.passive = False
        self.accepted = True
        self.orphan = False
        self.iss = self.irs = self.snd_una = self.snd_nxt = self.rcv_nxt = 0
        self.syn_acked = False
        self.fin_seq = None
        self.fin_rcvd = False
        self.snd_buf = 0
        self.rcv_buf = 0
        self.rto_at = None
        self.rto_n = 0
        self.rto_cur = self.profile.initial_rto_s
        self.tw_at = None
        self.fw2_at = None
        self.ka_at = None
        self.ka_n = 0

    def __repr__(self) -> str:
        return (
            f"Endpoint({self.name} {self.state.name} iss={self.iss} snd_una={self.snd_una} "
            f"snd_nxt={self.snd_nxt} irs={self.irs} rcv_nxt={self.rcv_nxt})"
        )

    # ------------------------------------------------------------------ the table
    def _fire(self, event: Event, seg: Segment | None, arg: Any) -> Transition | None:
        """Apply the row for ``event`` in the current state; None when there is none."""
        state = self.state
        proxy = state is _CLOSED and self.listening and event not in _CONNECTION_CALLS
        candidates = self.plan.get((_LISTEN if proxy else state, event))
        if candidates is None:
            return None
        count = len(candidates)
        chosen: CompiledRow = candidates[count - 1]
        if count > 1:
            tests = _CONDITION_TESTS
            for i in range(count - 1):  # guarded rows, most specific first; the last is unguarded
                candidate = candidates[i]
                for condition in candidate[0]:
                    if not tests[condition](self, seg):
                        break
                else:
                    chosen = candidate
                    break
        _conds, row, nxt, mask, effects = chosen
        if proxy and nxt is _LISTEN:
            nxt = _CLOSED  # the listener handled it; the connection is still gone
        sim = self.sim
        sim.trace.append(("step", sim.now, self.index, row, state, nxt))
        for effect in effects:
            if effect is Effect.RATE_LIMITED:
                if sim.now - self.last_invalid_ack < self.profile.invalid_ratelimit_s:
                    mask = 0
                else:
                    self.last_invalid_ack = sim.now
            else:
                _EFFECTS[effect](self, event, seg, arg)
        if mask:
            self._emit(event, mask, seg, arg)
        if row.error is not None:
            self._report(row.error)
        if nxt is not state:
            self._enter(nxt)
        return row

    def _report(self, errno: str) -> None:
        self.error = errno
        if not self.orphan:
            sim = self.sim
            sim.trace.append(("error", sim.now, self.index, errno))

    def _enter(self, nxt: State) -> None:
        self.state = nxt
        if nxt is _CLOSED or nxt is _LISTEN:
            self._reset_tcb()
            return
        now = self.sim.now
        prof = self.profile
        if nxt is _TIME_WAIT:
            self.tw_at = now + prof.time_wait_s
            self.fw2_at = self.ka_at = self.rto_at = None
            return
        self.tw_at = None
        if nxt is _FIN_WAIT_2:
            if self.orphan and (nxt, _E.TIMEOUT_FIN_WAIT_2) in self.plan:
                self.fw2_at = now + prof.fin_timeout_s
        else:
            self.fw2_at = None
        if prof.keepalive and (nxt, _E.TIMEOUT_KEEPALIVE) in self.plan:
            if self.ka_at is None:
                self.ka_at = now + prof.keepalive_time_s
                self.ka_n = 0
        else:
            self.ka_at = None

    # ------------------------------------------------------------------ sending
    def _emit(self, event: Event, mask: int, seg: Segment | None, arg: Any) -> None:
        """Build and send the row's segment (RFC 9293 §3.10.7 formats)."""
        if self._coalesce and mask == ACK and event is not _E.TIMEOUT_KEEPALIVE:
            self._ack_due = True  # one ACK for everything this segment asked for
            return
        length = 0
        ack: int | None = None
        if mask & RST:
            if seg is not None:  # a reply: <SEQ=SEG.ACK><CTL=RST> or <SEQ=0><ACK=end><CTL=RST,ACK>
                seq = seg.ack if seg.ack is not None and not mask & ACK else 0
                if mask & ACK:
                    ack = seg.end
            else:
                seq = self.snd_nxt
                if mask & ACK:
                    ack = self.rcv_nxt
        elif event is _E.TIMEOUT_RTO:
            if mask & SYN:
                seq = self.iss
            else:
                seq = self.snd_una
                outstanding = (self.snd_nxt - seq) & MASK
                fin_out = self.fin_seq is not None and outstanding > 0
                length = outstanding - 1 if fin_out else outstanding
                mask = ACK | (FIN if fin_out else 0) | (PSH if length else 0)
            if mask & ACK:
                ack = self.rcv_nxt
            prof = self.profile
            self.rto_n += 1
            self.rto_cur = min(self.rto_cur * 2, prof.rto_max_s)
            self.rto_at = self.sim.now + self.rto_cur
        elif event is _E.TIMEOUT_KEEPALIVE:
            seq = (self.snd_nxt - 1) & MASK
            ack = self.rcv_nxt
            self.ka_n += 1
            self.ka_at = self.sim.now + self.profile.keepalive_intvl_s
        else:
            if mask & SYN:
                seq = self.iss
                if self.snd_nxt == self.iss and not self.syn_acked:
                    self.snd_nxt = (self.iss + 1) & MASK
            elif mask & FIN:
                seq = self.snd_nxt
                self.fin_seq = seq
                self.snd_nxt = (seq + 1) & MASK
            elif mask & PSH:
                length = arg if isinstance(arg, int) and arg > 0 else 1
                seq = self.snd_nxt
                self.snd_nxt = (seq + length) & MASK
                self.snd_buf += length
            else:
                seq = self.snd_nxt
            if mask & ACK:
                ack = self.rcv_nxt
            if mask & (SYN | FIN | PSH) and self.rto_at is None:
                self.rto_at = self.sim.now + self.rto_cur
        self.sim._transmit(self.index, mask, seq, ack, length)

    def _send_ack(self) -> None:
        self.sim._transmit(self.index, ACK, self.snd_nxt, self.rcv_nxt, 0)

    def _invalid(self, seg: Segment, reason: str, reply: bool) -> None:
        """RFC 9293 §3.10.7.4 first check: an unacceptable segment is dropped (and ACKed, rate limited)."""
        sim = self.sim
        sim.trace.append(("discard", sim.now, self.index, seg, reason))
        if reply and sim.now - self.last_invalid_ack >= self.profile.invalid_ratelimit_s:
            self.last_invalid_ack = sim.now
            self._send_ack()

    # ------------------------------------------------------------------ acknowledgments
    def _take_ack(self, ack: int) -> None:
        """SND.UNA = SEG.ACK (the caller checked SND.UNA < SEG.ACK =< SND.NXT)."""
        self.snd_una = ack
        self.syn_acked = True
        if ack == self.snd_nxt:
            self.snd_buf = 0
            self.rto_at = None
        else:
            outstanding = (self.snd_nxt - ack) & MASK
            self.snd_buf = outstanding - 1 if self.fin_seq is not None else outstanding
            self.rto_at = self.sim.now + self.profile.initial_rto_s
        self.rto_n = 0
        self.rto_cur = self.profile.initial_rto_s

    # ------------------------------------------------------------------ arriving segments
    def receive(self, seg: Segment) -> None:
        """Classify an arriving segment into events and run them through the table."""
        state = self.state
        f = seg.flags
        if state is _CLOSED or state is _LISTEN:
            if f & RST:
                event = _E.RCV_RST
            elif f & ACK:
                event = _E.RCV_BAD_ACK
            elif f & SYN:
                event = _E.RCV_SYN
            elif f & FIN:
                event = _E.RCV_FIN
            else:
                event = _E.RCV_DATA
            self._fire(event, seg, None)
        elif state is _SYN_SENT:
            self._receive_syn_sent(seg, f)
        else:
            self._receive_synchronized(seg, f)

    def _receive_syn_sent(self, seg: Segment, f: int) -> None:
        # RFC 9293 §3.10.7.3: ACK, then RST, then SYN.
        if f & ACK:
            d = (seg.ack - self.iss) & MASK  # type: ignore[operator]
            if not 0 < d <= ((self.snd_nxt - self.iss) & MASK):
                if f & RST:
                    self._invalid(seg, "RST with an unacceptable ACK", False)
                else:
                    self._fire(_E.RCV_BAD_ACK, seg, None)
                return
        if f & RST:
            if f & ACK:
                self._fire(_E.RCV_RST, seg, None)
            else:
                self._invalid(seg, "RST without ACK in SYN_SENT", False)
        elif f & SYN:
            self._fire(_E.RCV_SYN_ACK if f & ACK else _E.RCV_SYN, seg, None)
        elif f & FIN:
            self._fire(_E.RCV_FIN, seg, None)
        elif seg.length:
            self._fire(_E.RCV_DATA, seg, None)
        elif f & ACK:
            self._fire(_E.RCV_ACK, seg, None)
        else:
            self._invalid(seg, "no SYN, RST or ACK", False)

    def _receive_synchronized(self, seg: Segment, f: int) -> None:
        state = self.state
        rcv_nxt = self.rcv_nxt
        seq = seg.seq
        if f & RST:
            d = (seq - rcv_nxt) & MASK
            if d == 0:
                self._fire(_E.RCV_RST, seg, None)
            elif d < self.profile.rcv_wnd:
                self._invalid(
                    seg, "RST in the window but not at RCV.NXT: challenge ACK (RFC 5961 §3.2)", True
                )
            else:
                self._invalid(seg, "RST outside the window", False)
            return
        if f & SYN:
            if state is _TIME_WAIT and not f & ACK:
                self._fire(_E.RCV_SYN if _after(seq, rcv_nxt) else _E.RCV_BAD_ACK, seg, None)
            elif state is _SYN_RECEIVED and f & ACK:
                d = (seg.ack - self.snd_una) & MASK  # type: ignore[operator]
                if 0 < d <= ((self.snd_nxt - self.snd_una) & MASK):
                    self._fire(_E.RCV_SYN_ACK, seg, None)
                else:
                    self._fire(_E.RCV_BAD_ACK, seg, None)
            else:
                self._fire(_E.RCV_SYN_ACK if f & ACK else _E.RCV_SYN, seg, None)
            return
        # First, check the sequence number (RFC 9293 §3.10.7.4).
        length = seg.length
        fin = f & FIN
        seglen = length + (1 if fin else 0)
        old_fin = False
        out_of_order = False
        d = (seq - rcv_nxt) & MASK
        if d:
            if d >= HALF:  # starts before RCV.NXT
                back = MOD - d
                if fin and back == seglen and self.fin_rcvd:
                    old_fin = True  # a retransmitted FIN: the table answers it
                    length = 0
                elif back < seglen:
                    length = max(length - back, 0)  # trim what we already have
                elif state is _TIME_WAIT:
                    self._fire(_E.RCV_BAD_ACK, seg, None)
                    return
                else:
                    self._invalid(seg, "old duplicate: SEG.SEQ + SEG.LEN =< RCV.NXT", True)
                    return
            elif d >= self.profile.rcv_wnd or state is _TIME_WAIT:
                if state is _TIME_WAIT:
                    self._fire(_E.RCV_BAD_ACK, seg, None)
                else:
                    self._invalid(seg, "beyond the receive window", True)
                return
            elif seglen:
                out_of_order = True  # no reassembly queue: keep the ACK field, drop the text
        if not f & ACK:
            self._invalid(seg, "no ACK bit", False)
            return
        ack: int = seg.ack  # type: ignore[assignment]
        snd_una = self.snd_una
        da = (ack - snd_una) & MASK
        span = (self.snd_nxt - snd_una) & MASK
        ack_event: Event | None
        if state is _SYN_RECEIVED:
            if not 0 < da <= span:
                self._fire(_E.RCV_BAD_ACK, seg, None)
                return
            self._take_ack(ack)
            ack_event = _E.RCV_ACK
        elif da > span:
            if da < HALF:  # acks something not yet sent
                self._fire(_E.RCV_BAD_ACK, seg, None)
                return
            ack_event = None  # an old ACK: ignore the field (RFC 9293 §3.10.7.4 fifth)
        else:
            if da:
                self._take_ack(ack)
            ack_event = _E.RCV_ACK if ack == self.snd_nxt else _E.RCV_ACK_PARTIAL
        if self.ka_at is not None:
            self.ka_at = self.sim.now + self.profile.keepalive_time_s
            self.ka_n = 0
        if out_of_order:
            if ack_event is not None:
                self._fire(ack_event, seg, None)
            self._invalid(seg, "out of order (no reassembly queue): text dropped, duplicate ACK", True)
            return
        events: list[Event] = []
        if state is _FIN_WAIT_1 and fin and not old_fin and ack_event is _E.RCV_ACK:
            if length:
                events.append(_E.RCV_DATA)
            events.append(_E.RCV_FIN_ACK)
        elif length or fin:
            if ack_event is not None:
                candidates = self.plan.get((state, ack_event))
                if candidates is not None and candidates[-1][2] is not state:
                    events.append(ack_event)
            if length:
                events.append(_E.RCV_DATA)
            if fin:
                events.append(_E.RCV_FIN)
        elif ack_event is not None:
            events.append(ack_event)
        else:
            self._invalid(seg, "an old ACK with nothing new", False)
            return
        self._text = length
        self._fin_pending = bool(fin) and not old_fin
        self._coalesce = True
        self._ack_due = False
        first = True
        for event in events:
            if not first and (self.state is _CLOSED or self.state is _LISTEN):
                break
            first = False
            if self._fire(event, seg, None) is None:
                self._invalid(seg, f"no row for {event.value} in {self.state.name}", False)
                break
        self._coalesce = False
        if self._ack_due and self.state is not _CLOSED and self.state is not _LISTEN:
            self._send_ack()
        self._ack_due = False

    # ------------------------------------------------------------------ timers
    def due_timers(self) -> tuple[tuple[float, int, Event], ...]:
        """(due time, order, event) for every armed timer."""
        timers = []
        for order, (at, event) in enumerate(
            (
                (self.rto_at, _E.TIMEOUT_RTO),
                (self.tw_at, _E.TIMEOUT_TIME_WAIT),
                (self.fw2_at, _E.TIMEOUT_FIN_WAIT_2),
                (self.ka_at, _E.TIMEOUT_KEEPALIVE),
            )
        ):
            if at is not None:
                timers.append((at, order, event))
        return tuple(timers)

    def expire(self, event: Event) -> None:
        """A timer fired: run its row."""
        if event is _E.TIMEOUT_RTO:
            self.rto_at = None
        elif event is _E.TIMEOUT_TIME_WAIT:
            self.tw_at = None
        elif event is _E.TIMEOUT_FIN_WAIT_2:
            self.fw2_at = None
        else:
            self.ka_at = None
        sim = self.sim
        sim.trace.append(("timer", sim.now, self.index, event))
        if self._fire(event, None, None) is None:
            sim.trace.append(
                ("discard", sim.now, self.index, None, f"no row for {event.value} in {self.state.name}")
            )

    # ------------------------------------------------------------------ application calls
    def call(self, event: Event, arg: Any = None) -> str | None:
        """An application call; returns the error the application sees (or None)."""
        sim = self.sim
        sim.trace.append(("call", sim.now, self.index, event, arg))
        if self.orphan:
            # Linux close() released the socket: a new one cannot take the address, the old fd is gone.
            errno = "EADDRINUSE" if event is _E.CONNECT or event is _E.LISTEN else "EBADF"
            self.error = errno
            sim.trace.append(("error", sim.now, self.index, errno))
            return errno
        mark = len(sim.trace)
        row = self._fire(event, None, arg)
        if row is None:  # pragma: no cover - every application call has a row in every state
            raise AssertionError(f"no row for {event.value} in {self.state.name}")
        for entry in sim.trace[mark:]:
            if entry[0] == "error" and entry[2] == self.index:
                return str(entry[3])
        return None


def _cond_retries_exhausted(ep: Endpoint, seg: Segment | None) -> bool:
    prof = ep.profile
    state = ep.state
    limit = (
        prof.syn_retries
        if state is _SYN_SENT
        else prof.synack_retries
        if state is _SYN_RECEIVED
        else prof.retries2
    )
    return ep.rto_n >= limit


def _cond_in_window(ep: Endpoint, seg: Segment | None) -> bool:
    # RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND: a SYN there is new; the retransmitted one sits at IRS.
    return seg is not None and ((seg.seq - ep.rcv_nxt) & MASK) < ep.profile.rcv_wnd


# A condition is a fact about the endpoint or about the segment arriving at it (None for calls, timers).
_CONDITION_TESTS: dict[str, Callable[[Endpoint, Segment | None], bool]] = {
    "passive": lambda ep, seg: ep.passive,
    "unaccepted": lambda ep, seg: ep.passive and not ep.accepted,
    "unread_data": lambda ep, seg: ep.rcv_buf > 0,
    "orphan": lambda ep, seg: ep.orphan,
    "listening": lambda ep, seg: ep.listening,
    "retries_exhausted": _cond_retries_exhausted,
    "probes_exhausted": lambda ep, seg: ep.ka_n >= ep.profile.keepalive_probes,
    "in_window": _cond_in_window,
}


def _choose_isn(ep: Endpoint, arg: Any) -> int:
    if isinstance(arg, int):
        return arg & MASK
    sim = ep.sim
    isn = sim.isn.get(ep.name)
    if isn is not None:
        return isn & MASK
    if sim.rng is None:
        sim.rng = random.Random(0)
    return sim.rng.getrandbits(32)


def _open(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    listening = ep.listening
    ep._reset_tcb()
    ep.listening = listening
    ep.iss = ep.snd_una = ep.snd_nxt = _choose_isn(ep, arg)


def _new_connection(ep: Endpoint, seg: Segment, iss: int) -> None:
    ep._reset_tcb()
    ep.iss = ep.snd_una = ep.snd_nxt = iss
    ep.irs = seg.seq
    ep.rcv_nxt = (seg.seq + 1) & MASK
    ep.passive = True
    ep.accepted = False


def _passive_open(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    assert seg is not None
    _new_connection(ep, seg, _choose_isn(ep, None))


def _reopen(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    assert seg is not None
    _new_connection(ep, seg, (ep.snd_nxt + ep.profile.tw_isn_offset) & MASK)


def _sync(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    assert seg is not None
    ep.irs = seg.seq
    ep.rcv_nxt = (seg.seq + 1) & MASK
    if event is _E.RCV_SYN_ACK and seg.ack is not None:
        ep._take_ack(seg.ack)


def _take_crossing_ack(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    if seg is not None and seg.ack is not None:
        ep._take_ack(seg.ack)


def _read(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    n = ep.rcv_buf if arg is None else min(arg, ep.rcv_buf)
    ep.rcv_buf -= n
    sim = ep.sim
    sim.trace.append(("read", sim.now, ep.index, n))


def _deliver(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    if ep._text:
        ep.rcv_nxt = (ep.rcv_nxt + ep._text) & MASK
        ep.rcv_buf += ep._text
        ep._text = 0
    if ep._fin_pending and (event is _E.RCV_FIN or event is _E.RCV_FIN_ACK):
        ep.rcv_nxt = (ep.rcv_nxt + 1) & MASK
        ep.fin_rcvd = True
        ep._fin_pending = False


def _orphan(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    ep.orphan = True
    if ep.state is _FIN_WAIT_2 and (_FIN_WAIT_2, _E.TIMEOUT_FIN_WAIT_2) in ep.plan:
        ep.fw2_at = ep.sim.now + ep.profile.fin_timeout_s


def _restart_time_wait(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    ep.tw_at = ep.sim.now + ep.profile.time_wait_s


def _listen_on(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    ep.listening = True


def _listen_off(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    ep.listening = False


def _accept(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    ep.accepted = True


def _nothing(ep: Endpoint, event: Event, seg: Segment | None, arg: Any) -> None:
    return None


_EFFECTS: dict[Effect, Callable[[Endpoint, Event, Segment | None, Any], None]] = {
    Effect.LISTEN_ON: _listen_on,
    Effect.LISTEN_OFF: _listen_off,
    Effect.OPEN: _open,
    Effect.PASSIVE_OPEN: _passive_open,
    Effect.REOPEN: _reopen,
    Effect.SYNC: _sync,
    Effect.TAKE_ACK: _take_crossing_ack,
    Effect.WRITE: _nothing,  # the data segment itself is built by _emit
    Effect.READ: _read,
    Effect.ACCEPT: _accept,
    Effect.DELIVER: _deliver,
    Effect.ORPHAN: _orphan,
    Effect.RESTART_TIME_WAIT: _restart_time_wait,
}


class Simulation:
    """Two named endpoints joined by a wire, driven step by step, with a trace of everything.

    The wire is "auto" (every segment is delivered as soon as it is sent, and what that triggers,
    until the wire is quiet) or "hold" (segments wait, per sender, until ``deliver``/``drop``).
    """

    __slots__ = (
        "_next_id",
        "_pending",
        "endpoints",
        "held",
        "isn",
        "names",
        "now",
        "profile",
        "rng",
        "trace",
        "wire",
    )

    def __init__(
        self,
        profile: Profile = RFC9293,
        names: Sequence[str] = ("client", "server"),
        isn: Mapping[str, int] | None = None,
        rng: random.Random | None = None,
        wire: str = "auto",
    ) -> None:
        if len(names) != 2 or names[0] == names[1]:
            raise ValueError("a simulation has exactly two endpoints with different names")
        if wire not in WIRE_MODES:
            raise ValueError(f"unknown wire mode {wire!r}; expected auto or hold")
        self.profile = profile
        self.names = (names[0], names[1])
        self.isn: dict[str, int] = dict(isn) if isn else {}
        self.rng: random.Random | None = rng  # drawn from only when an ISN is not given
        self.now = 0.0
        self.trace: list[TraceEntry] = []
        self.wire = wire
        self.held: tuple[deque[Segment], deque[Segment]] = (deque(), deque())
        self._pending: deque[Segment] = deque()
        self._next_id = 1
        self.endpoints = (Endpoint(self, 0, self.names[0]), Endpoint(self, 1, self.names[1]))

    # ------------------------------------------------------------------ lookup
    def index(self, name: str) -> int:
        """The index (0 or 1) of the endpoint called ``name``; KeyError if unknown."""
        if name == self.names[0]:
            return 0
        if name == self.names[1]:
            return 1
        raise KeyError(name)

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint called ``name``."""
        return self.endpoints[self.index(name)]

    def state(self, name: str) -> State:
        """The state of ``name``'s connection (CLOSED once it is gone, even while listening)."""
        return self.endpoints[self.index(name)].state

    def states(self) -> dict[str, str]:
        """Both endpoints' states, by name."""
        a, b = self.endpoints
        return {a.name: a.state.value, b.name: b.state.value}

    # ------------------------------------------------------------------ application calls
    def call(self, name: str, event: Event, arg: Any = None) -> str | None:
        """Run an application call at ``name``; returns the error its application sees, or None."""
        errno = self.endpoints[self.index(name)].call(event, arg)
        if self._pending:
            self._pump()
        return errno

    def listen(self, name: str) -> str | None:
        """listen() (passive open)."""
        return self.call(name, Event.LISTEN)

    def connect(self, name: str, isn: int | None = None) -> str | None:
        """connect() (active open), with this connection's own ISN if given."""
        return self.call(name, Event.CONNECT, isn)

    def accept(self, name: str) -> str | None:
        """accept(): EAGAIN while no connection is complete (non-blocking)."""
        return self.call(name, Event.ACCEPT)

    def send(self, name: str, nbytes: int = 1) -> str | None:
        """send() of ``nbytes`` bytes, sent at once as one segment."""
        return self.call(name, Event.SEND, nbytes)

    def recv(self, name: str, nbytes: int | None = None) -> str | None:
        """recv(): reads up to ``nbytes`` (default all) buffered bytes."""
        return self.call(name, Event.RECV, nbytes)

    def shutdown(self, name: str) -> str | None:
        """shutdown(SHUT_WR): half-close."""
        return self.call(name, Event.SHUTDOWN)

    def close(self, name: str) -> str | None:
        """close()."""
        return self.call(name, Event.CLOSE)

    def abort(self, name: str) -> str | None:
        """Abort (SO_LINGER {1,0} + close())."""
        return self.call(name, Event.ABORT)

    # ------------------------------------------------------------------ the wire
    def _transmit(self, src: int, flags: int, seq: int, ack: int | None, length: int) -> None:
        seg = Segment(self._next_id, src, 1 - src, flags, seq, ack, length)
        self._next_id += 1
        self.trace.append(("send", self.now, seg))
        if self.wire == "auto":
            self._pending.append(seg)
        else:
            self.held[src].append(seg)

    def _pump(self) -> None:
        pending = self._pending
        endpoints = self.endpoints
        trace = self.trace
        budget = 100_000
        while pending:
            seg = pending.popleft()
            trace.append(("deliver", self.now, seg))
            endpoints[seg.dst].receive(seg)
            budget -= 1
            if budget == 0:  # pragma: no cover - rate limiting makes ACK wars impossible
                raise RuntimeError("the wire never went quiet")

    def set_wire(self, mode: str) -> None:
        """Switch the wire to "auto" (delivering what is held, in order) or "hold"."""
        if mode not in WIRE_MODES:
            raise WireError(f"unknown wire mode {mode!r}; expected auto or hold")
        self.wire = mode
        if mode == "auto":
            self._pending.extend(self._take_all_held())
            self._pump()

    def _take_all_held(self) -> list[Segment]:
        a, b = self.held
        segments = sorted((*a, *b), key=lambda s: s.id)
        a.clear()
        b.clear()
        return segments

    def deliver(self, sender: str) -> Segment:
        """Deliver the oldest segment held from ``sender``; what it triggers follows the mode."""
        queue = self.held[self.index(sender)]
        if not queue:
            raise WireError(f"nothing is held from {sender!r}")
        seg = queue.popleft()
        self.trace.append(("deliver", self.now, seg))
        self.endpoints[seg.dst].receive(seg)
        if self._pending:
            self._pump()
        return seg

    def drop(self, sender: str) -> Segment:
        """Lose the oldest segment held from ``sender``."""
        queue = self.held[self.index(sender)]
        if not queue:
            raise WireError(f"nothing is held from {sender!r}")
        seg = queue.popleft()
        self.trace.append(("drop", self.now, seg))
        return seg

    def deliver_all(self) -> list[Segment]:
        """Deliver everything held at this moment, in the order sent."""
        segments = self._take_all_held()
        for seg in segments:
            self.trace.append(("deliver", self.now, seg))
            self.endpoints[seg.dst].receive(seg)
            if self._pending:
                self._pump()
        return segments

    def inject(
        self, to: str, flags: Sequence[str], seq: int, ack: int | None = None, length: int = 0
    ) -> Segment:
        """Put a forged segment on the wire towards ``to`` (as if from its peer)."""
        dst = self.index(to)
        mask = flags_mask(list(flags))
        seg = Segment(
            self._next_id,
            1 - dst,
            dst,
            mask,
            seq & MASK,
            (ack or 0) & MASK if mask & ACK else None,
            length,
            True,
        )
        self._next_id += 1
        self.trace.append(("send", self.now, seg))
        if self.wire == "auto":
            self._pending.append(seg)
            self._pump()
        else:
            self.held[seg.src].append(seg)
        return seg

    def held_segments(self) -> tuple[Segment, ...]:
        """Everything in flight on a held wire, in the order sent."""
        a, b = self.held
        return tuple(sorted((*a, *b), key=lambda s: s.id))

    # ------------------------------------------------------------------ the clock
    def next_timer(self) -> float | None:
        """When the next armed timer falls due, or None."""
        times = [t[0] for ep in self.endpoints for t in ep.due_timers()]
        return min(times) if times else None

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer due at or before the new time, in order.

        Timers fire by due time; ties by ``TIMER_ORDER``, then the first-named endpoint first.
        Every timer due at one instant fires before anything sent at that instant is delivered
        (a segment takes some time on the wire): when a lost SYN+ACK leaves both sides' RTOs due
        at 1 s, both retransmit, and the client's SYN does not reach the server before its timer.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self.now + seconds
        while True:
            best: tuple[float, int, int, Event] | None = None
            for ep in self.endpoints:
                for at, order, event in ep.due_timers():
                    if at <= target and (best is None or (at, order, ep.index) < best[:3]):
                        best = (at, order, ep.index, event)
            if self._pending and (best is None or best[0] > self.now):
                self._pump()  # the instant's timers have all fired: deliver what they sent
                continue
            if best is None:
                break
            self.now = max(self.now, best[0])
            self.endpoints[best[2]].expire(best[3])
        self.now = target

    # ------------------------------------------------------------------ the trace
    def trace_dicts(self, start: int = 0) -> list[dict[str, Any]]:
        """The trace from ``start`` as JSON-able dicts."""
        return [trace_entry_dict(entry, self.names) for entry in self.trace[start:]]


def segment_dict(seg: Segment, names: Sequence[str], fate: str | None = None) -> dict[str, Any]:
    """A segment as in the scenario contract, with its ``fate`` when given (before "injected")."""
    out: dict[str, Any] = {
        "from": names[seg.src],
        "to": names[seg.dst],
        "flags": list(flag_names(seg.flags)),
        "seq": seg.seq,
        "ack": seg.ack,
        "len": seg.length,
    }
    if fate is not None:
        out["fate"] = fate
    if seg.injected:
        out["injected"] = True
    return out


def trace_entry_dict(entry: TraceEntry, names: Sequence[str]) -> dict[str, Any]:
    """One trace tuple as a dict (see the module docstring for the kinds)."""
    kind, time = entry[0], entry[1]
    out: dict[str, Any] = {"kind": kind, "time": time}
    if kind in ("send", "deliver", "drop"):
        out["segment"] = segment_dict(entry[2], names)
    elif kind == "step":
        row: Transition = entry[3]
        out.update(endpoint=names[entry[2]], id=row.id, before=entry[4].value, after=entry[5].value)
        out.update(sends=list(row.sends), error=row.error, note=row.note, rfc=row.rfc)
    elif kind == "call":
        out.update(endpoint=names[entry[2]], event=entry[3].value, arg=entry[4])
    elif kind == "timer":
        out.update(endpoint=names[entry[2]], event=entry[3].value)
    elif kind == "discard":
        seg = entry[3]
        out.update(
            endpoint=names[entry[2]], reason=entry[4], segment=segment_dict(seg, names) if seg else None
        )
    elif kind == "read":
        out.update(endpoint=names[entry[2]], bytes=entry[3])
    elif kind == "error":
        out.update(endpoint=names[entry[2]], error=entry[3])
    return out
