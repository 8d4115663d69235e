"""Question family "ladder completion": a ladder diagram of a connection with blank cells (each side's
state as a segment leaves, the segment's flags, seq and ack) to fill in.

Rows and cells come from the engine's Simulation. Grading normalises each cell (state names in any
common spelling or in Chinese, flags in any order and separator, numbers modulo 2^32), scores the
share of cells right and reports the first row with a wrong cell; wrong numbers are matched to the
arithmetic misconceptions.

- easy: the textbook open and close, three blank states;
- medium: with data, five blanks of every kind;
- hard: simultaneous or three-segment close, eight blanks, either profile.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from questions.engine import ENGINE_VERSION, FLAGS, PROFILES, State
from questions.engine.concepts import STATE_NAMES
from questions.generators import common, scenarios
from questions.generators.base import (
    JSON,
    Difficulty,
    Family,
    GradeResult,
    InputKind,
    Variant,
    fmt,
    join,
    parse_answer,
    text,
)

NAME = "ladder"
COLUMNS = ("state_a", "flags", "seq", "ack", "state_b")
LEVELS: dict[Difficulty, tuple[tuple[str, ...], int, tuple[str, ...], tuple[str, ...]]] = {
    # (scenarios, blanks, kinds of cell blanked, profiles)
    Difficulty.EASY: (("open_close",), 3, ("state_a", "state_b"), ("rfc9293",)),
    Difficulty.MEDIUM: (("open_close", "half_close"), 5, COLUMNS, ("rfc9293",)),
    Difficulty.HARD: (("sim_close", "three_seg", "sim_open"), 8, COLUMNS, ("rfc9293", "linux")),
}


def _state_aliases() -> dict[str, str]:
    found: dict[str, str] = {}
    for state in State:
        for spelling in (
            state.name,
            state.name.replace("_", "-"),
            state.name.replace("_", " "),
            *STATE_NAMES[state].values(),
        ):
            found[_squash(spelling)] = state.name
    found[_squash("SYN_RCVD")] = State.SYN_RECEIVED.name
    found[_squash("SYN-RCVD")] = State.SYN_RECEIVED.name
    found[_squash("ESTAB")] = State.ESTABLISHED.name
    return found


def _squash(value: str) -> str:
    return re.sub(r"[\s_\-]", "", value).upper()


STATE_ALIASES = _state_aliases()


def normalise(column: str, value: str) -> str | None:
    """A cell's canonical form, or None when it cannot be read."""
    if column.startswith("state"):
        return STATE_ALIASES.get(_squash(value))
    if column == "flags":
        parts = [p for p in re.split(r"[\s+,/|]+", value.upper()) if p]
        if not parts or any(p not in FLAGS for p in parts) or len(set(parts)) != len(parts):
            return None
        return "+".join(f for f in FLAGS if f in parts)
    text_value = value.strip()
    if not text_value.lstrip("+-").isdigit():
        return None
    return str(int(text_value) % common.MOD)


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    names, _blanks, _kinds, profiles = LEVELS[difficulty]
    data = [] if difficulty is Difficulty.EASY else [[rng.randrange(2), rng.choice((10, 100, 500, 1000))]]
    return {
        "scenario": rng.choice(names),
        "first": rng.randrange(2),
        "profile": rng.choice(profiles),
        "data": data,
        "isn": [rng.randrange(1, 10**6), rng.randrange(1, 10**6)],
        "blank_seed": rng.randrange(1 << 30),
    }


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """The ladder of the scenario with some cells blank."""
    name = str(params["scenario"])
    first = 0 if name in scenarios.SYMMETRIC else int(params["first"])
    data = tuple((int(w), int(n)) for w, n in params["data"]) if name != "half_close" else ()
    isn = (int(params["isn"][0]), int(params["isn"][1]))
    run = scenarios.cached_run(name, first, str(params["profile"]), isn, data)
    _names, count, kinds, _profiles = LEVELS[difficulty]
    cells: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for g in run.segments:
        values = {
            "state_a": g.states[0].name,
            "flags": g.label,
            "seq": str(g.seq),
            "ack": "" if g.ack is None else str(g.ack),
            "state_b": g.states[1].name,
        }
        for column, value in values.items():
            if value:
                cells[f"r{g.n}.{column}"] = value
        rows.append({"n": g.n, "from": run.names[g.src], "len": g.length, "fate": g.fate, "values": values})
    picker = random.Random(int(params["blank_seed"]))
    candidates = sorted(c for c in cells if c.split(".")[1] in kinds)
    blanks = sorted(
        picker.sample(candidates, min(count, len(candidates))), key=lambda c: (int(c.split(".")[0][1:]), c)
    )
    shown_rows = [
        {
            "n": r["n"],
            "from": r["from"],
            "len": r["len"],
            "fate": r["fate"],
            "cells": {
                column: (None if f"r{r['n']}.{column}" in blanks else (value or "-"))
                for column, value in r["values"].items()
            },
        }
        for r in rows
    ]
    key = {b: cells[b] for b in blanks}
    believed: dict[str, dict[str, str]] = {}
    for mid in scenarios.arith_misconceptions():
        numbers = scenarios.believed_numbers(run, mid)
        guess = dict(key)
        for b in blanks:
            row_n, column = int(b.split(".")[0][1:]), b.split(".")[1]
            if column in ("seq", "ack"):
                number = numbers[row_n - 1][0 if column == "seq" else 1]
                if number is not None:
                    guess[b] = str(number)
        if guess != key:
            believed[mid] = guess
    prof = PROFILES[str(params["profile"])]
    prompt = fmt(
        text(
            "{p}. {s} Client ISN = {x}, server ISN = {y}{d}. Complete the ladder diagram: for each segment, "
            "the client's and the server's state as it is sent, its flags, seq and ack.",
            "{p}。{s}客户端初始序号 = {x}，服务器初始序号 = {y}{d}。"
            "请补全下面的时序图：每个报文段发出时客户端和服务器"
            "所处的状态，以及它的标志位、seq 和 ack。",
        ),
        p=common.PROFILE_LABEL[prof.name],
        s=scenarios.scenario_text(name, first),
        x=isn[0],
        y=isn[1],
        d=join(
            [
                fmt(
                    text("; {w} sends {n} bytes after the handshake", "；握手后{w}发送 {n} 字节"),
                    w=scenarios.who_text(run, w),
                    n=n,
                )
                for w, n in data
            ]
        )
        if data
        else text("", ""),
    )
    lines = [
        fmt(
            text("{s} — client {a}, server {b}", "{s} —— 客户端 {a}，服务器 {b}"),
            s=scenarios.segment_text(g, run),
            a=common.state_text(g.states[0]),
            b=common.state_text(g.states[1]),
        )
        for g in run.segments
    ]
    rows_fired = [s.row for s in run.steps if s.after is not s.before]
    explanation = common.numbered(lines, head=text("The engine's ladder:", "引擎给出的时序图："))
    return Variant(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.LADDER,
        prompt=prompt,
        choices=(),
        key={"cells": key},
        explanation=explanation,
        skills=common.skills(rows_fired, ("c:seq_ack", *scenarios.SCENARIO_CONCEPTS[name]), prof),
        canonical=f"{NAME}|{name}|{prof.name}|first={first}|{','.join(blanks)}",
        params={**params, "believed": believed},
        widget={
            "names": {"a": scenarios.who_text(run, 0, cap=True), "b": scenarios.who_text(run, 1, cap=True)},
            "columns": list(COLUMNS),
            "rows": shown_rows,
            "blanks": blanks,
            "options": {"state": [s.name for s in State], "flags": list(FLAGS)},
        },
        diagram_svg=None,
    )


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build, recomputed=("believed",))


def grade(variant: Variant, answer: JSON) -> GradeResult:
    """Each cell normalised and compared; the score is the share of cells right."""
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    key: Mapping[str, str] = variant.key["cells"]
    given: dict[str, str] = {}
    for cell, value in parsed.items():
        column = cell.split(".")[1]
        norm = normalise(column, value)
        if norm is None:
            return common.format_error_cell(cell, value)
        given[cell] = norm
    wrong = [c for c in variant.widget["blanks"] if given[c] != normalise(c.split(".")[1], key[c])]
    if not wrong:
        return GradeResult(
            score=1.0, feedback=text("Correct: every cell is right.", "正确：所有格子都填对了。")
        )
    believed: Mapping[str, Mapping[str, str]] = variant.params.get("believed", {})
    mid = next((m for m, values in believed.items() if all(given[c] == values.get(c) for c in wrong)), None)
    summary = text(
        "{r} of {n} cells right; the first wrong one is in row {s}.",
        "{n} 个格子中对了 {r} 个；第一个错误在第 {s} 行。",
    )
    return common.partial_credit(len(key), wrong, summary, mid)


FAMILY = Family(
    name=NAME,
    title=text("Ladder completion", "补全时序图"),
    generate=generate,
    grade=grade,
    two_endpoint=True,
    rebuild=rebuild,
)
