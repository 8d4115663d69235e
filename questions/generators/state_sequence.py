"""Question family "state sequence": put in order the states one endpoint passes through.

The states come from the engine: a two-endpoint scenario run on the Simulation (active or passive
closer, simultaneous open or close, three-segment close, half-close) or, at hard, a random walk
through the table (``sample_walk``). Grading is semantic: the answer is replayed against the table,
every order the table allows from the start to the end is accepted, and the first impossible step is
reported (with the misconception whose mutant table would allow it, if one does).

- easy: the textbook lifecycle (RFC 9293), client or server, either side closing first;
- medium: simultaneous open or close, three-segment close, half-close, either profile;
- hard: simultaneous open and close together, and random walks that must take a rare row.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from questions.engine import ENGINE_VERSION, PROFILES, Event, Profile, State, sample_walk, transitions
from questions.generators import common, diagrams, misconceptions, scenarios
from questions.generators.base import (
    JSON,
    Difficulty,
    Family,
    GradeResult,
    InputKind,
    NotWellPosed,
    Text,
    Variant,
    fmt,
    format_error,
    join,
    parse_answer,
    resample,
    text,
)

NAME = "state_sequence"
S = State

EASY = ("open_close",)
MEDIUM = ("sim_open", "sim_close", "three_seg", "half_close")
HARD = ("sim_open_close", "three_seg", "sim_close")
# Rare rows a hard walk must take (one of them, per profile).
RARE: dict[str, tuple[str, ...]] = {
    "rfc9293": (
        "t:SYN_SENT:rcv_syn",
        "t:FIN_WAIT_1:rcv_fin",
        "t:FIN_WAIT_1:rcv_fin_ack",
        "t:LISTEN:connect",
        "t:CLOSING:rcv_ack",
        "t:SYN_RECEIVED:close",
    ),
    "linux": (
        "t:SYN_SENT:rcv_syn",
        "t:SYN_RECEIVED:rcv_syn_ack",
        "t:FIN_WAIT_1:rcv_fin",
        "t:FIN_WAIT_1:rcv_fin_ack",
        "t:FIN_WAIT_2:timeout_fin_wait_2",
    ),
}


@cache
def successors(prof: Profile) -> dict[State, frozenset[State]]:
    """Every state one row (guarded or not) can lead to, per state."""
    found: dict[State, set[State]] = {s: set() for s in State}
    for row in transitions(prof):
        if row.next_state is not row.state:
            found[row.state].add(row.next_state)
    return {s: frozenset(n) for s, n in found.items()}


def valid_orders_count(
    items: Sequence[str], start: str, end: str | None, prof: Profile, limit: int = 50
) -> int:
    """How many orders of ``items`` the table allows (up to ``limit``); for tests and well-posedness."""
    nxt = successors(prof)
    count = 0

    def walk(state: State, left: frozenset[str]) -> None:
        nonlocal count
        if count >= limit:
            return
        if not left:
            if end is None or State[end] in nxt[state]:
                count += 1
            return
        for name in left:
            if State[name] in nxt[state]:
                walk(State[name], left - {name})

    walk(State[start], frozenset(items))
    return count


def _variant(
    difficulty: Difficulty,
    seed: int,
    prof: Profile,
    path: Sequence[State],
    events: Sequence[Event],
    rows: Sequence[Any],
    setting: Text,
    who: Text,
    concepts: Sequence[str],
    canonical: str,
    params: Mapping[str, Any],
    rng: random.Random,
) -> Variant:
    ends_closed = len(path) > 2 and path[-1] is S.CLOSED
    middle = list(path[1:-1] if ends_closed else path[1:])
    if len(middle) < 3 or len(set(middle)) != len(middle) or S.CLOSED in middle:
        raise NotWellPosed("path too short or repeats a state")
    end = S.CLOSED.name if ends_closed else None
    shuffled = list(middle)
    for _ in range(8):
        rng.shuffle(shuffled)
        if shuffled != middle:
            break
    items = [{"id": s.name, "text": common.state_text(s)} for s in shuffled]
    ending = (
        text("and finally returns to CLOSED", "最终回到 CLOSED")
        if ends_closed
        else fmt(text("and ends in the last state of your list", "并停在你所排列表的最后一个状态"))
    )
    prompt = fmt(
        text(
            "{p}. {s} Put in order the states {w} passes through: it starts in CLOSED, goes through "
            "each listed state once, {e}.",
            "{p}。{s}请按顺序排列{w}经过的状态：它从 CLOSED 出发，每个列出的状态各经过一次，{e}。",
        ),
        p=common.PROFILE_LABEL[prof.name],
        s=setting,
        w=who,
        e=ending,
    )
    lines = [common.row_line(r, prof) for r in rows]
    explanation = common.numbered(
        lines,
        head=fmt(text("The engine's trace for {w}:", "引擎给出的{w}的轨迹："), w=who),
        tail=fmt(text("So the order is {p}.", "所以顺序是 {p}。"), p=common.states_text(path)),
    )
    mutant_paths = misconceptions.path_predictors(path[0], events, prof, tuple(path))
    stored = {
        **params,
        "start": S.CLOSED.name,
        "end": end,
        "mutant_orders": {
            mid: [s.name for s in (p[1:-1] if ends_closed else p[1:])] for p, mid in mutant_paths.items()
        },
    }
    return Variant(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.ORDER,
        prompt=prompt,
        choices=(),
        key={"order": [s.name for s in middle]},
        explanation=explanation,
        skills=common.skills(rows, concepts, prof),
        canonical=canonical,
        params=stored,
        widget={"items": items, "start": {"id": "CLOSED", "text": common.state_text(S.CLOSED)}, "end": end},
        diagram_svg=diagrams.state_diagram(),
        diagrams=diagrams.state_diagrams(),
    )


def build_scenario(
    rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]
) -> Variant:
    """The states endpoint ``who`` passes in the named scenario."""
    name, who, profile_name = str(params["scenario"]), int(params["who"]), str(params["profile"])
    first = 0 if name in scenarios.SYMMETRIC else int(params["first"])
    prof = PROFILES[profile_name]
    run = scenarios.cached_run(name, first, profile_name)
    rows = [r for r in run.rows(who) if r.next_state is not r.state]
    return _variant(
        difficulty,
        seed,
        prof,
        run.paths[who],
        run.events[who],
        rows,
        scenarios.scenario_text(name, first),
        scenarios.who_text(run, who),
        scenarios.SCENARIO_CONCEPTS[name],
        f"{NAME}|{name}|{profile_name}|first={first}|who={who}",
        {"mode": "scenario", "scenario": name, "first": first, "who": who, "profile": profile_name},
        rng,
    )


def build_walk(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """The states of a walk through the table (events not shown)."""
    prof = PROFILES[str(params["profile"])]
    state = S.CLOSED
    path = [state]
    rows = []
    events = []
    for key in params["rows"]:
        row = common.row_for_key(str(key))
        if row.state is not state:
            raise NotWellPosed("the stored walk does not chain")
        rows.append(row)
        events.append(row.event)
        state = row.next_state
        if state is not path[-1]:
            path.append(state)
    moving = [r for r in rows if r.next_state is not r.state]
    setting = text(
        "An endpoint goes through a series of events (application calls, arriving segments, timers).",
        "一个端点经历了一系列事件（应用调用、到达的报文段、计时器）。",
    )
    key = "|".join(s.name for s in path)
    return _variant(
        difficulty,
        seed,
        prof,
        path,
        events,
        moving,
        setting,
        text("the endpoint", "该端点"),
        ("c:state_diagram",),
        f"{NAME}|walk|{prof.name}|{key}",
        {"mode": "walk", "profile": prof.name, "rows": list(params["rows"])},
        rng,
    )


def _walk_params(rng: random.Random) -> dict[str, Any]:
    profile_name = rng.choice(("rfc9293", "linux"))
    prof = PROFILES[profile_name]
    walk = sample_walk(
        rng, profile=prof, min_len=4, max_len=10, must_include=[rng.choice(RARE[profile_name])]
    )
    return {"mode": "walk", "profile": profile_name, "rows": [row.key for row in walk]}


def generate(rng: random.Random, difficulty: Difficulty, seed: int) -> Variant:
    """An ordering question of ``difficulty``."""

    def draw() -> Variant:
        if difficulty is Difficulty.HARD and rng.random() < 0.6:
            return build_walk(rng, difficulty, seed, _walk_params(rng))
        names = {Difficulty.EASY: EASY, Difficulty.MEDIUM: MEDIUM, Difficulty.HARD: HARD}[difficulty]
        params = {
            "mode": "scenario",
            "scenario": rng.choice(names),
            "first": rng.randrange(2),
            "who": rng.randrange(2),
            "profile": "rfc9293" if difficulty is Difficulty.EASY else rng.choice(("rfc9293", "linux")),
        }
        return build_scenario(rng, difficulty, seed, params)

    return resample(draw)


def rebuild(params: Mapping[str, JSON], difficulty: Difficulty, seed: int) -> Variant:
    """The same scenario or walk with the current engine."""
    rng = random.Random(f"{NAME}|{seed}")
    if params.get("mode") == "walk":
        return build_walk(rng, difficulty, seed, params)
    return build_scenario(rng, difficulty, seed, params)


def grade(variant: Variant, answer: JSON) -> GradeResult:
    """Replay the order against the table: any order the table allows is right."""
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    order: list[str] = parsed
    items = [item["id"] for item in variant.widget["items"]]
    if sorted(order) != sorted(items):
        return format_error(
            "Put every listed state in the order, each once.", "请把列出的每个状态都排进顺序中，每个一次。"
        )
    prof = PROFILES[str(variant.params["profile"])]
    nxt = successors(prof)
    end = variant.params.get("end")
    path = [str(variant.params["start"]), *order, *([end] if end else [])]
    for i in range(1, len(path)):
        before, after = State[path[i - 1]], State[path[i]]
        if after not in nxt[before]:
            position = min(i, len(order))
            mid = misconceptions.mutant_steps(prof).get((before, after))
            whole = variant.params.get("mutant_orders", {})
            mid = next((m for m, o in whole.items() if list(o) == order), mid)
            parts: list[Text] = [
                fmt(
                    text(
                        "Step {n} is impossible: no event takes {a} to {b} ({p}).",
                        "第 {n} 步不可能：没有任何事件能使 {a} 进入 {b}（{p}）。",
                    ),
                    n=position,
                    a=common.state_text(before),
                    b=common.state_text(after),
                    p=common.PROFILE_LABEL[prof.name],
                )
            ]
            if mid:
                parts.append(common.misconception_note(mid))
            right = sum(1 for a, b in zip(order, variant.key["order"], strict=False) if a == b)
            return GradeResult(
                score=right / len(order) * 0.5,
                feedback=join(parts, sep=" "),
                misconception=mid,
                first_wrong_step=position,
            )
    if order == list(variant.key["order"]):
        return GradeResult(score=1.0, feedback=text("Correct.", "正确。"))
    return GradeResult(
        score=1.0,
        feedback=text(
            "Correct: this order differs from the scenario's but every step is possible.",
            "正确：这个顺序与题中场景不同，但每一步都是可能的。",
        ),
    )


FAMILY = Family(
    name=NAME,
    title=text("State sequence", "状态序列"),
    generate=generate,
    grade=grade,
    rebuild=rebuild,
)
