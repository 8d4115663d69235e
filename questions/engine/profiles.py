"""Profiles (rfc9293, linux) with every timer and switch as an option, and the step function."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from questions.engine.core import (
    LINUX_NAME,
    PROFILE_NAMES,
    RFC9293_NAME,
    Effect,
    Event,
    IllegalTransition,
    State,
    Transition,
    flags_mask,
)
from questions.engine.table import TABLE

# Facts about an endpoint (or the segment arriving at it) that a row's ``when`` may name (see table.py).
CONDITIONS: tuple[str, ...] = (
    "passive",
    "unaccepted",
    "unread_data",
    "orphan",
    "listening",
    "retries_exhausted",
    "probes_exhausted",
    "in_window",
)

# One compiled row for the simulator: (conditions, row, next state, flag mask, effects).
CompiledRow = tuple[tuple[str, ...], Transition, State, int, tuple[Effect, ...]]


@dataclass(frozen=True)
class Profile:
    """A TCP flavour and its options. Build one with ``profile(name, **options)``.

    Times are in seconds of simulated time. ``time_wait_s`` is 2 x ``msl_s`` for rfc9293 and a
    fixed 60 s for linux; ``fin_timeout_s`` (the orphaned FIN_WAIT_2 timeout) exists only in linux.
    ``keepalive`` is SO_KEEPALIVE (off by default, as in both RFC 1122 and Linux).
    """

    name: str
    msl_s: float = 120.0
    time_wait_s: float = 240.0
    fin_timeout_s: float = 60.0
    rfc1337: bool = False
    keepalive: bool = False
    keepalive_time_s: float = 7200.0
    keepalive_intvl_s: float = 75.0
    keepalive_probes: int = 9
    initial_rto_s: float = 1.0
    rto_max_s: float = 120.0
    syn_retries: int = 6
    synack_retries: int = 5
    retries2: int = 15
    invalid_ratelimit_s: float = 0.5
    rcv_wnd: int = 65535
    tw_isn_offset: int = 65537
    _arcs: dict[tuple[State, Event], Transition] = field(init=False, repr=False, compare=False, hash=False)
    _plan: dict[tuple[State, Event], tuple[CompiledRow, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _rows: tuple[Transition, ...] = field(init=False, repr=False, compare=False, hash=False)
    _events: dict[State, tuple[Event, ...]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.name not in PROFILE_NAMES:
            raise ValueError(f"unknown profile {self.name!r}; expected one of: {', '.join(PROFILE_NAMES)}")
        switches = tuple(getattr(self, option) for option in _GUARD_OPTIONS)
        arcs, plan, rows, events = _INDEXES[self.name, switches]
        object.__setattr__(self, "_arcs", arcs)
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_events", events)

    def options(self) -> dict[str, Any]:
        """Every option and its value (no name), e.g. for a scenario's "options"."""
        return {name: getattr(self, name) for name in OPTION_NAMES}


OPTION_NAMES: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(Profile) if f.init and f.name != "name"
)
_BOOL_OPTIONS = frozenset(f.name for f in dataclasses.fields(Profile) if f.type in ("bool", bool))
_INT_OPTIONS = frozenset(f.name for f in dataclasses.fields(Profile) if f.type in ("int", int))

_DEFAULTS: dict[str, dict[str, Any]] = {
    RFC9293_NAME: {},
    LINUX_NAME: {"time_wait_s": 60.0},
}


def _conditions(when: str | None) -> tuple[str, ...]:
    return tuple(when.split("&")) if when else ()


Index = tuple[
    dict[tuple[State, Event], Transition],
    dict[tuple[State, Event], tuple[CompiledRow, ...]],
    tuple[Transition, ...],
    dict[State, tuple[Event, ...]],
]


def _index(name: str, switches: dict[str, bool]) -> Index:
    """The lookups of one profile: unguarded arcs, compiled candidates, its rows, legal events."""
    arcs: dict[tuple[State, Event], Transition] = {}
    guarded: dict[tuple[State, Event], list[Transition]] = {}
    for row in TABLE:
        if name not in row.profiles:
            continue
        key = (row.state, row.event)
        if row.when is None:
            if key in arcs:
                raise ValueError(f"two unguarded rows for {row.id} in {name}")
            arcs[key] = row
        elif row.when in _BOOL_OPTIONS:
            continue
        else:
            guarded.setdefault(key, []).append(row)
    # An option guard replaces the unguarded row when the option is on.
    for row in TABLE:
        if name in row.profiles and row.when in _BOOL_OPTIONS and switches[row.when]:
            arcs[(row.state, row.event)] = row
    chosen = set(map(id, arcs.values()))
    rows = tuple(
        row
        for row in TABLE
        if id(row) in chosen or any(row is g for g in guarded.get((row.state, row.event), ()))
    )
    plan: dict[tuple[State, Event], tuple[CompiledRow, ...]] = {}
    for key, default in arcs.items():
        # The most specific guard is tried first; the unguarded row last.
        candidates = sorted(guarded.get(key, ()), key=lambda r: -len(_conditions(r.when)))
        plan[key] = tuple(
            (_conditions(r.when), r, r.next_state, flags_mask(r.sends), r.effects)
            for r in (*candidates, default)
        )
    for key in guarded:
        if key not in arcs:
            raise ValueError(f"guarded rows for {key} without an unguarded row in {name}")
    events = {state: tuple(event for event in Event if (state, event) in arcs) for state in State}
    return arcs, plan, rows, events


# Boolean options that guard rows; every combination is indexed once, at import.
_GUARD_OPTIONS: tuple[str, ...] = tuple(
    sorted({row.when for row in TABLE if row.when is not None and row.when in _BOOL_OPTIONS})
)
_INDEXES: dict[tuple[str, tuple[bool, ...]], Index] = {
    (name, switches): _index(name, dict(zip(_GUARD_OPTIONS, switches, strict=True)))
    for name in PROFILE_NAMES
    for switches in itertools.product((False, True), repeat=len(_GUARD_OPTIONS))
}


def profile(name: str, **options: Any) -> Profile:
    """Build a profile by name ("rfc9293" or "linux") with options overriding its defaults.

    For rfc9293, ``time_wait_s`` follows ``msl_s`` (2 x MSL) unless given. Raises ValueError on an
    unknown name or option or a value of the wrong type.
    """
    if name not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {name!r}; expected one of: {', '.join(PROFILE_NAMES)}")
    values: dict[str, Any] = dict(_DEFAULTS[name])
    for key, value in options.items():
        if key not in OPTION_NAMES:
            raise ValueError(
                f"unknown option {key!r} for profile {name!r}; known options: {', '.join(OPTION_NAMES)}"
            )
        if key in _BOOL_OPTIONS:
            if not isinstance(value, bool):
                raise ValueError(f"option {key!r} must be true or false, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"option {key!r} must be a number, not {value!r}")
        elif key in _INT_OPTIONS and not isinstance(value, int):
            raise ValueError(f"option {key!r} must be a whole number, not {value!r}")
        elif value < 0:
            raise ValueError(f"option {key!r} must not be negative, not {value!r}")
        values[key] = float(value) if key not in _INT_OPTIONS else value
    if name == RFC9293_NAME and "time_wait_s" not in options:
        values["time_wait_s"] = 2 * float(values.get("msl_s", 120.0))
    return Profile(name=name, **values)


RFC9293 = profile(RFC9293_NAME)
LINUX = profile(LINUX_NAME)
PROFILES: dict[str, Profile] = {RFC9293_NAME: RFC9293, LINUX_NAME: LINUX}


def transition(
    state: State, event: Event, profile: Profile = RFC9293, conditions: Collection[str] = ()
) -> Transition:
    """The row that ``event`` takes in ``state`` under ``profile``; raises IllegalTransition.

    ``conditions`` names the endpoint facts that hold (e.g. ``{"orphan"}``); without them the
    unguarded row is returned.
    """
    if conditions:
        return _guarded(state, event, profile, conditions)
    try:
        return profile._arcs[state, event]
    except KeyError:
        raise IllegalTransition(state, event, profile.name) from None


def _guarded(state: State, event: Event, prof: Profile, conditions: Collection[str]) -> Transition:
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; known: {', '.join(CONDITIONS)}")
    try:
        candidates = prof._plan[state, event]
    except KeyError:
        raise IllegalTransition(state, event, prof.name) from None
    for conds, row, _next, _mask, _effects in candidates:
        if all(c in conditions for c in conds):
            return row
    raise AssertionError("the unguarded row always matches")  # pragma: no cover


def transitions(profile: Profile = RFC9293) -> tuple[Transition, ...]:
    """Every row that applies under ``profile`` (its options resolved), in table order."""
    return profile._rows


def legal_events(state: State, profile: Profile = RFC9293) -> tuple[Event, ...]:
    """The events that have a row in ``state`` under ``profile``, in Event order."""
    return profile._events[state]


def table_fingerprint() -> str:
    """A digest of the table and the profile defaults; it changes whenever either changes."""
    rows = [
        (
            r.state.name,
            r.event.value,
            r.next_state.name,
            r.sends,
            r.rfc,
            sorted(r.profiles),
            r.error,
            r.note,
            r.when,
            [e.value for e in r.effects],
        )
        for r in TABLE
    ]
    defaults = {name: sorted(PROFILES[name].options().items()) for name in PROFILE_NAMES}
    return hashlib.sha256(repr((rows, defaults, CONDITIONS)).encode()).hexdigest()[:16]
