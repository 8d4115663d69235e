"""Question family "which side": in a scenario, who ends in TIME_WAIT, who passes CLOSE_WAIT, CLOSING,
FIN_WAIT_2 or LAST_ACK? The client, the server, both or neither.

The scenario runs on the engine's Simulation; the key is read from both sides' paths. Each wrong
choice is tagged with the table misconception whose mutant, replaying each side's own events,
predicts it (TIME_WAIT given to the passive closer, CLOSE_WAIT and FIN_WAIT_2 swapped, ...).

- easy: the textbook open and close, either side closing first; TIME_WAIT or CLOSE_WAIT;
- medium: simultaneous close, three-segment close, half-close; any of the five states;
- hard: simultaneous open and close, aborts, and Linux.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from questions.engine import PROFILES, State
from questions.generators import common, misconceptions, scenarios
from questions.generators.base import Difficulty, Family, Variant, fmt, text

NAME = "which_side"
S = State

ASKED: dict[str, Any] = {
    "TIME_WAIT": text("Who passes through TIME_WAIT?", "哪一方会经过 TIME_WAIT 状态？"),
    "CLOSE_WAIT": text("Who passes through CLOSE_WAIT?", "哪一方会经过 CLOSE_WAIT 状态？"),
    "CLOSING": text("Who passes through CLOSING?", "哪一方会经过 CLOSING 状态？"),
    "FIN_WAIT_2": text("Who passes through FIN_WAIT_2?", "哪一方会经过 FIN_WAIT_2 状态？"),
    "LAST_ACK": text("Who passes through LAST_ACK?", "哪一方会经过 LAST_ACK 状态？"),
}
ANSWERS: dict[str, Any] = {
    "client": text("the client only", "只有客户端"),
    "server": text("the server only", "只有服务器"),
    "both": text("both sides", "双方都会"),
    "neither": text("neither side", "双方都不会"),
}
LEVELS: dict[Difficulty, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    Difficulty.EASY: (("open_close",), ("TIME_WAIT", "CLOSE_WAIT"), ("rfc9293",)),
    Difficulty.MEDIUM: (
        ("open_close", "sim_close", "three_seg", "half_close"),
        tuple(ASKED),
        ("rfc9293",),
    ),
    Difficulty.HARD: (
        ("sim_open_close", "three_seg", "sim_close", "abort", "half_close"),
        tuple(ASKED),
        ("rfc9293", "linux"),
    ),
}


def _answer(paths: tuple[frozenset[State], frozenset[State]], state: State) -> str:
    a, b = state in paths[0], state in paths[1]
    return "both" if a and b else "client" if a else "server" if b else "neither"


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """Who passes ``params["state"]`` in the named scenario."""
    name, profile_name, asked = str(params["scenario"]), str(params["profile"]), State[str(params["state"])]
    first = 0 if name in scenarios.SYMMETRIC else int(params["first"])
    prof = PROFILES[profile_name]
    run = scenarios.cached_run(name, first, profile_name)
    key = _answer((run.visited(0), run.visited(1)), asked)
    candidates: list[common.Option] = []
    for m in misconceptions.TABLE_MUTANTS:
        believed = tuple(
            frozenset(misconceptions.predict_path(m.id, S.CLOSED, run.events[who], prof)) for who in (0, 1)
        )
        guess = _answer((believed[0], believed[1]), asked)
        if guess != key:
            candidates.append((guess, ANSWERS[guess], m.id))
    candidates.extend((form, ANSWERS[form], None) for form in ANSWERS)
    choices, key_id, _forms = common.pick_choices(rng, (key, ANSWERS[key], None), candidates)
    prompt = fmt(
        text("{p}. {s} {q}", "{p}。{s}{q}"),
        p=common.PROFILE_LABEL[prof.name],
        s=scenarios.scenario_text(name, first),
        q=ASKED[asked.name],
    )
    lines = [
        fmt(
            text("{w}: {path}", "{w}：{path}"),
            w=scenarios.who_text(run, who, cap=True),
            path=common.states_text(run.paths[who]),
        )
        for who in (0, 1)
    ]
    entering = [
        common.row_line(s.row, prof, scenarios.who_text(run, s.who, cap=True))
        for s in run.steps
        if s.after is asked and s.before is not asked
    ]
    explanation = common.numbered(
        [*lines, *entering],
        head=text("The engine's run of this scenario:", "引擎对该场景的模拟："),
    )
    rows = [s.row for s in run.steps if s.after is not s.before]
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=explanation,
        skills=common.skills(rows, scenarios.SCENARIO_CONCEPTS[name], prof),
        canonical=f"{NAME}|{name}|{profile_name}|first={first}|{asked.name}",
        params={"scenario": name, "first": first, "profile": profile_name, "state": asked.name},
    )


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    """A scenario, who closes first, a profile and a state of ``difficulty``."""
    names, states, profiles = LEVELS[difficulty]
    return {
        "scenario": rng.choice(names),
        "first": rng.randrange(2),
        "profile": rng.choice(profiles),
        "state": rng.choice(states),
    }


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build)


FAMILY = Family(
    name=NAME,
    title=text("Which side?", "哪一方？"),
    generate=generate,
    grade=common.grade_choice,
    two_endpoint=True,
    rebuild=rebuild,
)
