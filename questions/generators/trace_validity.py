"""Question family "trace validity": here is one endpoint's trace (state, event, next state, segment
sent) step by step; which is the first impossible step, or is the trace valid?

Traces are walks through the engine's table (``sample_walk``). An invalid trace has one step replaced
by what a misconception's mutant table says (e.g. FIN_WAIT_1 —receives FIN→ TIME_WAIT), the rest of
the walk continuing legally from there. Grading replays the shown trace against the table (every row
of the profile, guarded ones included), so the key is whatever the engine finds first; a student who
passes over the impossible step is told which misconception makes it look right.

- easy: short walks through the textbook handshake and close (RFC 9293);
- medium: longer walks, either profile;
- hard: long walks that must take a rare row, more often valid.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from questions.engine import ENGINE_VERSION, PROFILES, Event, Profile, State, sample_walk, transitions
from questions.generators import common, diagrams, misconceptions
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
    join,
    parse_answer,
    text,
)

NAME = "trace_validity"
S = State

LEVELS: dict[Difficulty, tuple[int, int, float, tuple[str, ...]]] = {
    # (min length, max length, chance of a valid trace, rows one of which the walk must take)
    Difficulty.EASY: (
        4,
        6,
        0.2,
        ("t:ESTABLISHED:close", "t:ESTABLISHED:rcv_fin", "t:LISTEN:rcv_syn", "t:SYN_SENT:rcv_syn_ack"),
    ),
    Difficulty.MEDIUM: (
        6,
        8,
        0.25,
        ("t:FIN_WAIT_1:rcv_ack", "t:CLOSE_WAIT:close", "t:FIN_WAIT_2:rcv_fin", "t:LAST_ACK:rcv_ack"),
    ),
    Difficulty.HARD: (
        8,
        10,
        0.35,
        (
            "t:SYN_SENT:rcv_syn",
            "t:FIN_WAIT_1:rcv_fin",
            "t:FIN_WAIT_1:rcv_fin_ack",
            "t:CLOSING:rcv_ack",
            "t:TIME_WAIT:rcv_fin",
        ),
    ),
}
Step = tuple[State, Event, State, tuple[str, ...]]


@cache
def legal(prof: Profile) -> frozenset[Step]:
    """Every (state, event, next state, flags) some row of ``prof`` allows."""
    return frozenset((r.state, r.event, r.next_state, r.sends) for r in transitions(prof))


def first_impossible(steps: Sequence[Step], prof: Profile) -> int | None:
    """The 1-based index of the first step no row allows (or that does not continue), None if valid."""
    allowed = legal(prof)
    state = S.CLOSED
    for i, step in enumerate(steps, 1):
        if step[0] is not state or step not in allowed:
            return i
        state = step[2]
    return None


def _step_dict(i: int, step: Step) -> dict[str, Any]:
    state, event, nxt, sends = step
    return {
        "n": i,
        "state": state.name,
        "event": event.value,
        "event_text": common.event_text(event),
        "next": nxt.name,
        "sends": list(sends),
    }


def _step_text(step: Step) -> Text:
    state, event, nxt, sends = step
    return fmt(
        text("{s} —{e}→ {n}, {f}", "{s} —{e}→ {n}，{f}"),
        s=common.state_text(state),
        e=common.event_text(event),
        n=common.state_text(nxt),
        f=common.sends_phrase(sends),
    )


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    lo, hi, valid_chance, must = LEVELS[difficulty]
    profile_name = "rfc9293" if difficulty is Difficulty.EASY else rng.choice(("rfc9293", "linux"))
    prof = PROFILES[profile_name]
    walk = sample_walk(rng, profile=prof, min_len=lo, max_len=hi, must_include=[rng.choice(must)])
    if any(r.error for r in walk):
        raise NotWellPosed("a failing call in the walk")
    mutate: list[Any] = []
    if rng.random() >= valid_chance:
        spots = [
            (i, mid, out)
            for i, row in enumerate(walk)
            for mid, out in misconceptions.mutant_diffs(prof).get((row.state, row.event), ())
            if out is not None and (row.state, row.event, out[0], out[1]) not in legal(prof)
        ]
        if not spots:
            raise NotWellPosed("nothing to mutate")
        i, mid, _out = rng.choice(spots)
        mutate = [i, mid]
    return {"profile": profile_name, "rows": [r.key for r in walk], "mutate": mutate}


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """The trace of ``params["rows"]``, with step ``mutate[0]`` replaced by mutant ``mutate[1]``."""
    prof = PROFILES[str(params["profile"])]
    rows = [common.row_for_key(str(k)) for k in params["rows"]]
    steps: list[Step] = [(r.state, r.event, r.next_state, r.sends) for r in rows]
    mutant_id: str | None = None
    if params["mutate"]:
        index, mutant_id = int(params["mutate"][0]), str(params["mutate"][1])
        state, event = steps[index][0], steps[index][1]
        out = misconceptions.predict(mutant_id, state, event, prof)
        if out is None:
            raise NotWellPosed("mutant has no row")
        steps[index] = (state, event, out[0], out[1])
        # Continue legally from the mutant's state: the same events, replayed on the real table.
        table = misconceptions.base_table(prof)
        current = out[0]
        for j in range(index + 1, len(steps)):
            row = table.get((current, steps[j][1]))
            if row is None:
                steps = steps[:j]
                break
            steps[j] = (current, steps[j][1], row[0], row[1])
            current = row[0]
    key = first_impossible(steps, prof)
    if params["mutate"] and key != int(params["mutate"][0]) + 1:
        raise NotWellPosed("the mutation is not the first impossible step")
    widget_steps = [_step_dict(i, s) for i, s in enumerate(steps, 1)]
    prompt = join(
        [
            fmt(
                text(
                    "One endpoint's trace ({p}), starting in CLOSED. Which is the first impossible step? "
                    "Answer “valid” if every step is possible.",
                    "下面是一个端点（{p}）从 CLOSED 开始的轨迹。"
                    "第一个不可能发生的步骤是哪一步？如果每一步都可能，"
                    "请回答“有效”。",
                ),
                p=common.PROFILE_LABEL[prof.name],
            ),
            common.numbered([_step_text(s) for s in steps]),
        ],
        sep="\n",
    )
    lines: list[Text] = []
    for i, step in enumerate(steps, 1):
        if key is not None and i == key:
            real = misconceptions.base_table(prof).get((step[0], step[1]))
            lines.append(
                fmt(
                    text(
                        "Step {i} is impossible: in {s}, “{e}” gives {r}, not {n}.",
                        "第 {i} 步不可能：在 {s} 中，“{e}”的结果是 {r}，而不是 {n}。",
                    ),
                    i=i,
                    s=common.state_text(step[0]),
                    e=common.event_text(step[1]),
                    r=common.outcome_text(real[0], real[1])
                    if real
                    else text("no row at all", "没有任何状态行"),
                    n=common.outcome_text(step[2], step[3]),
                )
            )
            if mutant_id:
                lines.append(common.misconception_note(mutant_id))
            break
        legal_row = next(r for r in transitions(prof) if (r.state, r.event, r.next_state, r.sends) == step)
        lines.append(common.row_line(legal_row, prof))
    if key is None:
        lines.append(
            text(
                "Every step is a row of the table: the trace is valid.",
                "每一步都是状态表中的一行：轨迹有效。",
            )
        )
    shown_rows = [r for r in rows if (r.state, r.event, r.next_state, r.sends) in set(steps)]
    return Variant(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.TRACE_STEP,
        prompt=prompt,
        choices=(),
        key={"step": key},
        explanation=common.numbered(
            lines, head=text("Replaying the trace on the engine:", "在引擎上重放该轨迹：")
        ),
        skills=common.skills(shown_rows or rows, ("c:state_diagram",), prof),
        canonical=f"{NAME}|{prof.name}|" + ";".join(f"{s[0].name}:{s[1].value}>{s[2].name}" for s in steps),
        params={**params, "mutant": mutant_id},
        widget={"steps": widget_steps, "valid_label": text("The trace is valid", "轨迹有效")},
        diagram_svg=diagrams.state_diagram(),
        diagrams=diagrams.state_diagrams(),
    )


def _shown(variant: Variant) -> list[Step]:
    return [
        (State[s["state"]], Event(s["event"]), State[s["next"]], tuple(s["sends"]))
        for s in variant.widget["steps"]
    ]


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build, recomputed=("mutant",))


def grade(variant: Variant, answer: JSON) -> GradeResult:
    """Replay the shown trace on the engine; the first impossible step (or "valid") is right."""
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    prof = PROFILES[str(variant.params["profile"])]
    steps = _shown(variant)
    right = first_impossible(steps, prof)
    if parsed == right:
        return GradeResult(score=1.0, feedback=text("Correct.", "正确。"))
    mutant = variant.params.get("mutant")
    if parsed is not None and (right is None or parsed < right):
        step = steps[parsed - 1]
        row = next(r for r in transitions(prof) if (r.state, r.event, r.next_state, r.sends) == step)
        feedback = fmt(
            text("Step {n} is possible: {r}.", "第 {n} 步是可能的：{r}。"),
            n=parsed,
            r=common.row_line(row, prof),
        )
        return GradeResult(score=0.0, feedback=feedback, first_wrong_step=right)
    parts: list[Text] = [
        fmt(
            text("Step {n} is the first impossible one.", "第 {n} 步才是第一个不可能的步骤。"),
            n=right,
        )
    ]
    if isinstance(mutant, str):
        parts.append(common.misconception_note(mutant))
    return GradeResult(
        score=0.0,
        feedback=join(parts, sep=" "),
        misconception=mutant if isinstance(mutant, str) else None,
        first_wrong_step=right,
    )


FAMILY = Family(
    name=NAME,
    title=text("Trace validity", "轨迹是否合法"),
    generate=generate,
    grade=grade,
    rebuild=rebuild,
)
