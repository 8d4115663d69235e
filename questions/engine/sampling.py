"""Samplers: random walks over the table (one endpoint) and random two-endpoint scenarios.

Every sampler takes a ``random.Random`` first and uses nothing else: the same seed and the same
ENGINE_VERSION give the same output. The tables walks are drawn from (rows by state, cumulative
weights, steering for ``must_include``) are pure functions of the profile, a frozen dataclass, so
they are built once per profile and cached.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any, TypeVar

from questions.engine.core import Event, State, Transition
from questions.engine.profiles import RFC9293, Profile, profile, transitions
from questions.engine.simulation import Simulation

Walk = tuple[Transition, ...]
Requirement = str | Transition
T = TypeVar("T")
# Rows a steered walk may take next, each with the requirements met after it (a bit mask), and
# their cumulative weights.
_Choices = tuple[tuple[tuple[Transition, int], ...], tuple[float, ...]]
# One level of ``_steering``: choices and chance of success by (state, requirements met).
_Level = tuple[Mapping[tuple[State, int], _Choices], Mapping[tuple[State, int], float]]


def _weight(row: Transition) -> int:
    # Arcs that move are what students study; failing calls stay possible but rarer.
    if row.next_state is not row.state:
        return 4
    return 1 if row.error else 2


@cache
def _rows_from(prof: Profile) -> Mapping[State, tuple[Transition, ...]]:
    """The rows leaving each state (guarded ones included), built once per profile."""
    rows: dict[State, list[Transition]] = {state: [] for state in State}
    for row in transitions(prof):
        rows[row.state].append(row)
    return {state: tuple(found) for state, found in rows.items()}


@cache
def _cum_weights(prof: Profile) -> Mapping[State, tuple[int, ...]]:
    """The cumulative ``_weight`` of the rows of ``_rows_from(prof)``, built once per profile."""
    rows_from = _rows_from(prof)
    return {state: tuple(accumulate(map(_weight, rows_from[state]))) for state in State}


def _matches(row: Transition, requirement: Requirement) -> bool:
    return row is requirement if isinstance(requirement, Transition) else row.id == requirement


@cache
def _row_ids(prof: Profile) -> frozenset[str]:
    return frozenset(row.id for row in transitions(prof))


def _check_requirements(prof: Profile, must_include: Iterable[Requirement]) -> list[Requirement]:
    required = list(must_include)
    for requirement in required:
        if isinstance(requirement, Transition):
            known = any(row is requirement for row in transitions(prof))
        else:
            known = requirement in _row_ids(prof)
        if not known:
            name = requirement.key if isinstance(requirement, Transition) else requirement
            raise ValueError(f"{name} is not a transition of the {prof.name} profile")
    return required


def _shortest_path(
    rows_from: Mapping[State, tuple[Transition, ...]], start: State, goal: Requirement | set[int]
) -> list[Transition] | None:
    """The shortest walk from ``start`` ending with a row matching ``goal`` (table order breaks ties)."""
    queue: deque[tuple[State, list[Transition]]] = deque([(start, [])])
    seen = {start}
    while queue:
        state, path = queue.popleft()
        for row in rows_from[state]:
            hit = id(row) in goal if isinstance(goal, set) else _matches(row, goal)
            if hit:
                return [*path, row]
        for row in rows_from[state]:
            if row.next_state not in seen:
                seen.add(row.next_state)
                queue.append((row.next_state, [*path, row]))
    return None


def sample_walk(
    rng: random.Random,
    *,
    profile: Profile = RFC9293,
    start: State = State.CLOSED,
    min_len: int = 1,
    max_len: int = 8,
    must_include: Sequence[Requirement] = (),
) -> Walk:
    """A legal event sequence for one endpoint: rows chaining from ``start``.

    The walk is a weighted random walk of a length drawn from [min_len, max_len]. ``must_include``
    lists transition ids (``"t:FIN_WAIT_1:rcv_fin"``) or rows that must appear, in any order: the
    walk is then drawn from the random walks of that length taking them all (the shortest length
    above it when none does). Raises ValueError when the constraints cannot be met.
    """
    if not 0 <= min_len <= max_len:
        raise ValueError("need 0 <= min_len <= max_len")
    required = tuple(_check_requirements(profile, must_include))
    length = rng.randint(min_len, max_len)
    if not required:
        return _random_walk(rng, profile, start, length)
    levels = _steering(profile, required, max_len)
    for steps in range(length, max_len + 1):
        if levels[steps][1][start, 0] > 0.0:
            return _steered_walk(rng, levels, start, steps)
    for requirement in required:
        if _shortest_path(_rows_from(profile), start, requirement) is None:
            raise ValueError(f"{requirement} cannot be reached from {start.name}")
    raise ValueError(f"the required transitions need more than max_len={max_len} steps")


def _pick(rng: random.Random, options: Sequence[T], cum_weights: Sequence[float]) -> T:
    """``rng.choices(options, cum_weights=cum_weights)[0]``, the same draw without the checks."""
    return options[bisect(cum_weights, rng.random() * cum_weights[-1], 0, len(options) - 1)]


def _random_walk(rng: random.Random, prof: Profile, start: State, length: int) -> Walk:
    rows_from, cum_weights = _rows_from(prof), _cum_weights(prof)
    walk: list[Transition] = []
    state = start
    for _ in range(length):
        row = _pick(rng, rows_from[state], cum_weights[state])
        walk.append(row)
        state = row.next_state
    return tuple(walk)


@lru_cache(maxsize=256)
def _steering(prof: Profile, required: tuple[Requirement, ...], max_steps: int) -> tuple[_Level, ...]:
    """How to walk so as to take every row of ``required``: one level per number of steps left.

    Level ``steps`` (0 to ``max_steps``) maps (state, bit mask of the requirements met so far) to
    the chance that a plain random walk of ``steps`` steps from there meets the rest, and to the
    rows that keep that chance above zero, weighted by ``_weight`` times the chance after them.
    Drawing from the levels step by step gives a random walk conditioned on meeting every
    requirement (rejection sampling without the rejections).
    """
    rows_from = _rows_from(prof)
    totals = {state: _cum_weights(prof)[state][-1] for state in State}
    bits = {
        id(row): sum(1 << i for i, requirement in enumerate(required) if _matches(row, requirement))
        for rows in rows_from.values()
        for row in rows
    }
    done = (1 << len(required)) - 1
    keys = [(state, met) for state in State for met in range(done + 1)]
    chance = {key: float(key[1] == done) for key in keys}
    levels: list[_Level] = [({}, chance)]
    for _steps in range(max_steps):
        after = chance
        choices: dict[tuple[State, int], _Choices] = {}
        chance = {}
        for state, met in keys:
            options: list[tuple[Transition, int]] = []
            weights: list[float] = []
            for row in rows_from[state]:
                now_met = met | bits[id(row)]
                weight = _weight(row) * after[row.next_state, now_met]
                if weight > 0.0:
                    options.append((row, now_met))
                    weights.append(weight)
            choices[state, met] = (tuple(options), tuple(accumulate(weights)))
            chance[state, met] = sum(weights) / totals[state]
        levels.append((choices, chance))
    return tuple(levels)


def _steered_walk(rng: random.Random, levels: tuple[_Level, ...], start: State, length: int) -> Walk:
    walk: list[Transition] = []
    state, met = start, 0
    for steps in range(length, 0, -1):
        options, cum_weights = levels[steps][0][state, met]
        row, met = _pick(rng, options, cum_weights)
        walk.append(row)
        state = row.next_state
    return tuple(walk)


def sample_covering_walks(
    rng: random.Random, n: int, *, profile: Profile = RFC9293, max_len: int = 12
) -> list[Walk]:
    """``n`` walks from CLOSED that, together, take every transition of the profile.

    Each walk takes uncovered rows first and heads for the nearest uncovered row otherwise, so
    every walk covers at least one new row while any is left: ``n >= len(transitions(profile))``
    always covers everything, and in practice about 40 walks do. Walks after full coverage are
    random.
    """
    if max_len < 6:
        raise ValueError("max_len must be at least 6 to reach every state from CLOSED")
    rows_from, cum_weights = _rows_from(profile), _cum_weights(profile)
    uncovered = {id(row) for row in transitions(profile)}
    walks: list[Walk] = []
    for _ in range(n):
        if not uncovered:
            walks.append(_random_walk(rng, profile, State.CLOSED, rng.randint(1, max_len)))
            continue
        walk: list[Transition] = []
        state = State.CLOSED
        while len(walk) < max_len:
            fresh = [row for row in rows_from[state] if id(row) in uncovered]
            if fresh:
                row = rng.choice(fresh)
            else:
                path = _shortest_path(rows_from, state, uncovered) if uncovered else None
                if path is not None and len(walk) + len(path) <= max_len:
                    row = path[0]
                else:
                    row = _pick(rng, rows_from[state], cum_weights[state])
            walk.append(row)
            uncovered.discard(id(row))
            state = row.next_state
        walks.append(tuple(walk))
    return walks


# ---------------------------------------------------------------------- two-endpoint scenarios
_NAMES = ("client", "server")


def _default_options(prof: Profile) -> dict[str, Any]:
    defaults = profile(prof.name).options()
    return {k: v for k, v in prof.options().items() if v != defaults[k]}


class _ScenarioBuilder:
    """Chooses steps by looking at a live simulation, so every step it writes is valid."""

    def __init__(
        self, rng: random.Random, prof: Profile, loss: bool, duplication: bool, want: set[str]
    ) -> None:
        self.rng = rng
        self.prof = prof
        self.loss = loss
        self.duplication = duplication
        self.want = want
        self.isn = {name: rng.getrandbits(32) for name in _NAMES}
        self.sim = Simulation(prof, _NAMES, isn=self.isn, rng=random.Random(0))
        self.steps: list[dict[str, Any]] = []

    def run(self, step: dict[str, Any]) -> None:
        sim = self.sim
        do = step["do"]
        if "at" in step:
            event = Event(do)
            arg = step.get("isn", step.get("bytes"))
            sim.call(step["at"], event, arg)
        elif do == "wire":
            sim.set_wire(step["mode"])
        elif do == "deliver":
            sim.deliver(step["from"])
        elif do == "drop":
            sim.drop(step["from"])
        elif do == "deliver_all":
            sim.deliver_all()
        elif do == "advance":
            sim.advance(step["seconds"])
        self.steps.append(step)

    def opening(self) -> None:
        rng = self.rng
        kind = rng.choices(("normal", "hold", "simultaneous", "refused"), weights=(10, 4, 2, 1))[0]
        if kind == "simultaneous":
            self.run({"do": "wire", "mode": "hold"})
            self.run({"at": "client", "do": "connect"})
            self.run({"at": "server", "do": "connect"})
            self.run({"do": "deliver_all"})
            return
        if kind != "refused":
            self.run({"at": "server", "do": "listen"})
        if kind == "hold" or self.loss or self.duplication:
            self.run({"do": "wire", "mode": "hold"})
        self.run({"at": "client", "do": "connect"})

    def _app_options(self, name: str) -> list[tuple[dict[str, Any], int]]:
        ep = self.sim.endpoint(name)
        state = ep.state
        rng = self.rng
        options: list[tuple[dict[str, Any], int]] = []

        def call(do: str, weight: int, **extra: Any) -> None:
            options.append(({"at": name, "do": do, **extra}, weight))

        if ep.orphan:
            return options
        if state is State.CLOSED:
            if name == "server" and not ep.listening:
                call("listen", 4)
            if name == "client":
                call("connect", 3, isn=rng.getrandbits(32))
        elif state in (State.ESTABLISHED, State.CLOSE_WAIT):
            call("send", 4, bytes=rng.randint(1, 200))
            if ep.rcv_buf:
                call("recv", 4)
            if ep.passive and not ep.accepted:
                call("accept", 6)
            call("close", 3)
            call("shutdown", 2)
            call("abort", 1)
        elif state in (State.FIN_WAIT_1, State.FIN_WAIT_2):
            if ep.rcv_buf:
                call("recv", 3)
            call("close", 2)
            call("send", 1, bytes=rng.randint(1, 50))
        elif state is State.SYN_SENT:
            call("close", 1)
        elif state is State.SYN_RECEIVED:
            call("accept", 1)
        elif state in (State.CLOSING, State.LAST_ACK, State.TIME_WAIT):
            call("close", 1)
        elif state is State.LISTEN:
            call("accept", 1)
        # Steer towards required application arcs.
        return [
            (step, weight * 8 if f"t:{state.name}:{step['do']}" in self.want else weight)
            for step, weight in options
        ]

    def _wire_options(self) -> list[tuple[dict[str, Any], int]]:
        sim = self.sim
        options: list[tuple[dict[str, Any], int]] = []
        if sim.wire == "hold":
            for name, queue in zip(_NAMES, sim.held, strict=True):
                if queue:
                    options.append(({"do": "deliver", "from": name}, 8))
                    if self.loss:
                        options.append(({"do": "drop", "from": name}, 3))
            if sim.held_segments():
                options.append(({"do": "deliver_all"}, 2))
            options.append(({"do": "wire", "mode": "auto"}, 1))
        elif self.loss or self.duplication:
            options.append(({"do": "wire", "mode": "hold"}, 1))
        due = sim.next_timer()
        if due is not None and (self.duplication or not sim.held_segments()):
            seconds = round(due - sim.now + 0.25, 2)
            options.append(({"do": "advance", "seconds": seconds}, 3))
        return options

    def step(self) -> bool:
        options = self._wire_options()
        for name in _NAMES:
            options.extend(self._app_options(name))
        if not options:
            return False
        step = self.rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]
        self.run(dict(step))
        return True

    def scenario(self) -> dict[str, Any]:
        return {
            "profile": self.prof.name,
            "options": _default_options(self.prof),
            "endpoints": list(_NAMES),
            "isn": dict(self.isn),
            "wire": "auto",
            "steps": self.steps,
        }

    def covered(self) -> set[str]:
        return {entry[3].id for entry in self.sim.trace if entry[0] == "step"}


def sample_scenario(
    rng: random.Random,
    *,
    profile: Profile = RFC9293,
    min_steps: int = 4,
    max_steps: int = 16,
    loss: bool = False,
    duplication: bool = False,
    must_include: Sequence[str] = (),
    attempts: int = 200,
) -> dict[str, Any]:
    """A two-endpoint scenario in the JSON contract (``run_scenario`` accepts it).

    Endpoints are "client" and "server"; ISNs are drawn from ``rng``. ``loss`` allows dropped
    segments, ``duplication`` allows advancing the clock while segments are held (so retransmissions
    duplicate them). ``must_include`` lists transition ids that must fire somewhere in the trace;
    the sampler steers towards them and retries up to ``attempts`` times, then raises ValueError.
    """
    if not 1 <= min_steps <= max_steps:
        raise ValueError("need 1 <= min_steps <= max_steps")
    required = set(_check_requirements(profile, must_include))
    want = {str(r) for r in required}
    for _attempt in range(attempts):
        builder = _ScenarioBuilder(rng, profile, loss, duplication, want)
        target = rng.randint(min_steps, max_steps)
        builder.opening()
        while len(builder.steps) < target and builder.step():
            pass
        if len(builder.steps) > max_steps or len(builder.steps) < min_steps:
            continue
        if want <= builder.covered():
            return builder.scenario()
    raise ValueError(f"no scenario with {sorted(want)} found in {attempts} attempts")


__all__ = ["sample_covering_walks", "sample_scenario", "sample_walk"]
