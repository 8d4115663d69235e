"""The vocabulary of the engine: states, events, flags, effects and one transition row.

Names follow RFC 9293 (states) and docs/contracts.md (events). Everything here is immutable.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

ENGINE_VERSION = "1.3.0"

RFC9293_NAME = "rfc9293"
LINUX_NAME = "linux"
PROFILE_NAMES: tuple[str, ...] = (RFC9293_NAME, LINUX_NAME)


class State(enum.Enum):
    """The eleven TCP connection states (RFC 9293 §3.3.2), value = name."""

    # Members are singletons, so identity hashing is exact and much faster than Enum's name hash.
    __hash__ = object.__hash__

    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN_SENT"
    SYN_RECEIVED = "SYN_RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN_WAIT_1"
    FIN_WAIT_2 = "FIN_WAIT_2"
    CLOSE_WAIT = "CLOSE_WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"


class Event(enum.Enum):
    """Application calls, arriving segments (classified by the receiver) and timer expiries."""

    __hash__ = object.__hash__

    LISTEN = "listen"
    CONNECT = "connect"
    ACCEPT = "accept"
    SEND = "send"
    RECV = "recv"
    SHUTDOWN = "shutdown"
    CLOSE = "close"
    ABORT = "abort"
    RCV_SYN = "rcv_syn"
    RCV_SYN_ACK = "rcv_syn_ack"
    RCV_ACK = "rcv_ack"
    RCV_ACK_PARTIAL = "rcv_ack_partial"
    RCV_BAD_ACK = "rcv_bad_ack"
    RCV_FIN = "rcv_fin"
    RCV_FIN_ACK = "rcv_fin_ack"
    RCV_RST = "rcv_rst"
    RCV_DATA = "rcv_data"
    TIMEOUT_RTO = "timeout_rto"
    TIMEOUT_TIME_WAIT = "timeout_time_wait"
    TIMEOUT_FIN_WAIT_2 = "timeout_fin_wait_2"
    TIMEOUT_KEEPALIVE = "timeout_keepalive"


APP_EVENTS: tuple[Event, ...] = (
    Event.LISTEN,
    Event.CONNECT,
    Event.ACCEPT,
    Event.SEND,
    Event.RECV,
    Event.SHUTDOWN,
    Event.CLOSE,
    Event.ABORT,
)
SEGMENT_EVENTS: tuple[Event, ...] = (
    Event.RCV_SYN,
    Event.RCV_SYN_ACK,
    Event.RCV_ACK,
    Event.RCV_ACK_PARTIAL,
    Event.RCV_BAD_ACK,
    Event.RCV_FIN,
    Event.RCV_FIN_ACK,
    Event.RCV_RST,
    Event.RCV_DATA,
)
TIMER_EVENTS: tuple[Event, ...] = (
    Event.TIMEOUT_RTO,
    Event.TIMEOUT_TIME_WAIT,
    Event.TIMEOUT_FIN_WAIT_2,
    Event.TIMEOUT_KEEPALIVE,
)

# Canonical flag order, used everywhere a flag set is written out.
FLAGS: tuple[str, ...] = ("SYN", "ACK", "FIN", "RST", "PSH")
FLAG_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(FLAGS)}
SYN, ACK, FIN, RST, PSH = (FLAG_BITS[name] for name in FLAGS)


def flags_mask(flags: tuple[str, ...] | list[str]) -> int:
    """The bit mask of a collection of flag names."""
    mask = 0
    for name in flags:
        mask |= FLAG_BITS[name]
    return mask


def flag_names(mask: int) -> tuple[str, ...]:
    """Flag names of a bit mask, in canonical order (SYN ACK FIN RST PSH)."""
    return _NAMES_BY_MASK[mask]


_NAMES_BY_MASK: tuple[tuple[str, ...], ...] = tuple(
    tuple(name for name in FLAGS if mask & FLAG_BITS[name]) for mask in range(1 << len(FLAGS))
)


class Effect(enum.Enum):
    """What a row does to the endpoint besides changing state and sending its segment."""

    __hash__ = object.__hash__

    LISTEN_ON = "listen_on"  # a listener now exists
    LISTEN_OFF = "listen_off"  # the listener is closed
    OPEN = "open"  # active open: choose the ISS (call's isn, scenario isn, or drawn)
    PASSIVE_OPEN = "passive_open"  # a SYN reached the listener: new TCB, ISS chosen, IRS taken
    REOPEN = "reopen"  # a SYN revives TIME_WAIT: ISS = old SND.NXT + tw_isn_offset (Linux)
    SYNC = "sync"  # take IRS from the SYN (and SND.UNA from a SYN+ACK's ACK)
    TAKE_ACK = "take_ack"  # the segment's ACK counts although it carries a SYN (Linux crossing SYN+ACK)
    WRITE = "write"  # the call's bytes join the send buffer
    READ = "read"  # the application reads the receive buffer
    ACCEPT = "accept"  # the application now holds the passive connection
    DELIVER = "deliver"  # the segment's text and FIN are consumed (RCV.NXT advances)
    ORPHAN = "orphan"  # close(): the application lets go of the socket (Linux)
    RESTART_TIME_WAIT = "restart_time_wait"  # the TIME_WAIT timer starts again
    RATE_LIMITED = "rate_limited"  # the ACK answers an invalid segment: at most one per invalid_ratelimit_s


@dataclass(frozen=True)
class Transition:
    """One arc of the table: in ``state``, ``event`` leads to ``next_state`` sending ``sends``.

    ``when`` guards the row: it names a boolean profile option (``"rfc1337"``) or one or more
    endpoint conditions joined by ``&`` (``"retries_exhausted&passive"``). The unguarded row for
    the same (state, event, profile) applies when no guarded row does.
    """

    state: State
    event: Event
    next_state: State
    sends: tuple[str, ...]
    rfc: str
    profiles: frozenset[str]
    error: str | None
    note: str
    when: str | None = None
    effects: tuple[Effect, ...] = ()

    @property
    def id(self) -> str:
        """The skill id, e.g. ``t:FIN_WAIT_1:rcv_fin``."""
        return f"t:{self.state.name}:{self.event.value}"

    @property
    def key(self) -> str:
        """A unique key for the row: id, profiles and guard, e.g. ``t:TIME_WAIT:rcv_rst[linux|rfc1337]``."""
        profiles = ",".join(sorted(self.profiles))
        guard = f"|{self.when}" if self.when else ""
        return f"{self.id}[{profiles}{guard}]"


class IllegalTransition(Exception):
    """An event that cannot happen in a state; the state is left unchanged."""

    def __init__(self, state: State, event: Event, profile: str | None = None) -> None:
        where = f" ({profile} profile)" if profile else ""
        super().__init__(f"event {event.value!r} is not legal in state {state.name}{where}")
        self.state = state
        self.event = event
        self.profile = profile
