"""Question family "simultaneous": simultaneous open and simultaneous close, run on the engine.

Both sides connect (or close) at the same moment, their SYNs (or FINs) cross; which states does one
side pass through? The key is that side's path in the simulation; distractors are the paths the table
mutants predict for the same events (SYN_RECEIVED skipped, CLOSING skipped, the crossing FIN taken for
a passive close, ...), topped up with the ordinary active and passive paths.

- easy: simultaneous close under RFC 9293;
- medium: simultaneous open under either profile (Linux reaches ESTABLISHED on the crossing SYN+ACK);
- hard: simultaneous open followed by simultaneous close, the whole path, either profile.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from questions.engine import PROFILES, State
from questions.generators import common, misconceptions, scenarios
from questions.generators.base import (
    Difficulty,
    Family,
    NotWellPosed,
    Variant,
    fmt,
    text,
)

NAME = "simultaneous"
S = State

PLAIN: dict[str, tuple[tuple[State, ...], ...]] = {
    "open": (
        (S.CLOSED, S.SYN_SENT, S.ESTABLISHED),
        (S.CLOSED, S.LISTEN, S.SYN_RECEIVED, S.ESTABLISHED),
        (S.CLOSED, S.SYN_SENT, S.SYN_RECEIVED, S.SYN_SENT, S.ESTABLISHED),
    ),
    "close": (
        (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.TIME_WAIT, S.CLOSED),
        (S.ESTABLISHED, S.CLOSE_WAIT, S.LAST_ACK, S.CLOSED),
        (S.ESTABLISHED, S.FIN_WAIT_1, S.CLOSING, S.CLOSED),
    ),
}
LEVELS: dict[Difficulty, tuple[tuple[str, str], ...]] = {
    Difficulty.EASY: (("sim_close", "close"),),
    Difficulty.MEDIUM: (("sim_open", "open"), ("sim_close", "close")),
    Difficulty.HARD: (("sim_open_close", "all"), ("sim_open_close", "open"), ("sim_open_close", "close")),
}


def _part(path: Sequence[State], part: str) -> tuple[State, ...]:
    if part == "all":
        return tuple(path)
    cut = list(path).index(S.ESTABLISHED)
    return tuple(path[: cut + 1]) if part == "open" else tuple(path[cut:])


def _form(path: Sequence[State]) -> str:
    return ">".join(s.name for s in path)


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """Which path does side ``who`` take in the simultaneous scenario?"""
    name, part, who, profile_name = (
        str(params["scenario"]),
        str(params["part"]),
        int(params["who"]),
        str(params["profile"]),
    )
    prof = PROFILES[profile_name]
    run = scenarios.cached_run(name, 0, profile_name)
    if S.ESTABLISHED not in run.paths[who]:
        raise NotWellPosed("never established")
    key = _part(run.paths[who], part)
    candidates: list[common.Option] = []
    for m in misconceptions.TABLE_MUTANTS:
        believed = misconceptions.predict_path(m.id, S.CLOSED, run.events[who], prof)
        if S.ESTABLISHED in believed:
            guess = _part(believed, part)
            candidates.append((_form(guess), common.states_text(guess), m.id))
    for plain in PLAIN.get(part, ()) if part != "all" else (PLAIN["open"][0] + PLAIN["close"][0][1:],):
        candidates.append((_form(plain), common.states_text(plain), None))
    choices, key_id, _forms = common.pick_choices(
        rng, (_form(key), common.states_text(key), None), candidates, "too few distinct paths"
    )
    which = {
        "open": text("from CLOSED until ESTABLISHED", "从 CLOSED 到 ESTABLISHED"),
        "close": text("from ESTABLISHED until the connection is gone", "从 ESTABLISHED 直到连接消失"),
        "all": text("from start to finish", "从头到尾"),
    }[part]
    prompt = fmt(
        text("{p}. {s} Which states does {w} pass through, {which}?", "{p}。{s}{w}{which}依次经过哪些状态？"),
        p=common.PROFILE_LABEL[prof.name],
        s=scenarios.scenario_text(name, 0),
        w=scenarios.who_text(run, who),
        which=which,
    )
    segs = [scenarios.segment_text(g, run) for g in run.segments]
    rows = [s.row for s in run.steps if s.who == who and s.after is not s.before]
    explanation = common.numbered(
        [*(common.row_line(r, prof) for r in rows)],
        head=fmt(
            text(
                "Segments on the wire:\n{g}\nThe engine's rows at {w}:",
                "网络上的报文段：\n{g}\n引擎在{w}处执行的状态行：",
            ),
            g={lang: "\n".join(f"  {x[lang]}" for x in segs) for lang in ("en", "zh-hans")},
            w=scenarios.who_text(run, who),
        ),
    )
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=explanation,
        skills=common.skills(rows, scenarios.SCENARIO_CONCEPTS[name], prof),
        canonical=f"{NAME}|{name}|{part}|{profile_name}",
        params={"scenario": name, "part": part, "who": who, "profile": profile_name},
    )


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    """A scenario and part of ``difficulty``, the side asked about and the profile."""
    name, part = rng.choice(LEVELS[difficulty])
    profile_name = "rfc9293" if difficulty is Difficulty.EASY else rng.choice(("rfc9293", "linux"))
    return {"scenario": name, "part": part, "who": rng.randrange(2), "profile": profile_name}


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build)


FAMILY = Family(
    name=NAME,
    title=text("Simultaneous open and close", "同时打开与同时关闭"),
    generate=generate,
    grade=common.grade_choice,
    two_endpoint=True,
    rebuild=rebuild,
)
