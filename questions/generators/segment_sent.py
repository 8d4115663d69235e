"""Question family "segment sent": which segment does an endpoint send on an event?

Easy and medium ask for the flags only, from one row of the table (easy: the textbook handshake and
close; medium: every other row of RFC 9293 that does something). Hard asks for flags, seq and ack
inside a simulated connection with random ISNs and data (or for Linux's flags): the key is the
segment the engine sent; distractors are what the arithmetic misconceptions compute (FIN or SYN
taking no sequence number, ack = received seq, ...) and what the table mutants send.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import cache
from typing import Any

from questions.engine import LINUX, PROFILES, RFC9293, Event, State, transition
from questions.generators import common, misconceptions, scenarios
from questions.generators.base import (
    JSON,
    Difficulty,
    Family,
    NotWellPosed,
    Variant,
    fmt,
    join,
    resample,
    text,
)

NAME = "segment_sent"
S = State
E = Event

TEXTBOOK: tuple[tuple[State, Event], ...] = (
    (S.CLOSED, E.CONNECT),
    (S.LISTEN, E.RCV_SYN),
    (S.SYN_SENT, E.RCV_SYN_ACK),
    (S.SYN_RECEIVED, E.RCV_ACK),
    (S.ESTABLISHED, E.CLOSE),
    (S.ESTABLISHED, E.RCV_FIN),
    (S.FIN_WAIT_1, E.RCV_ACK),
    (S.FIN_WAIT_2, E.RCV_FIN),
    (S.CLOSE_WAIT, E.CLOSE),
    (S.LAST_ACK, E.RCV_ACK),
    (S.CLOSED, E.RCV_SYN),
    (S.ESTABLISHED, E.ABORT),
)

FLAG_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("SYN",),
    ("SYN", "ACK"),
    ("ACK",),
    ("ACK", "FIN"),
    ("RST",),
    ("ACK", "RST"),
    ("ACK", "PSH"),
)

Cell = tuple[str, State, Event]


@cache
def pool(difficulty: Difficulty) -> tuple[Cell, ...]:
    """The one-row questions of ``difficulty`` in a fixed order."""
    if difficulty is Difficulty.EASY:
        return tuple((RFC9293.name, s, e) for s, e in TEXTBOOK)
    prof = RFC9293 if difficulty is Difficulty.MEDIUM else LINUX
    table = misconceptions.base_table(prof)
    return tuple(
        (prof.name, s, e)
        for (s, e) in table
        if transition(s, e, prof).error is None
        and (s, e) not in TEXTBOOK
        and e not in (E.RECV, E.ACCEPT, E.LISTEN)
    )


def _flags_form(sends: tuple[str, ...]) -> str:
    return "+".join(sends) or "-"


def build_flags(rng: random.Random, difficulty: Difficulty, seed: int, cell: Cell) -> Variant:
    """Which flags does ``cell``'s row send?"""
    profile_name, state, event = cell
    prof = PROFILES[profile_name]
    row = transition(state, event, prof)
    candidates: list[common.Option] = []
    for mid, outcome in misconceptions.mutant_diffs(prof).get((state, event), ()):
        if outcome is not None:
            candidates.append((_flags_form(outcome[1]), common.flags_text(outcome[1]), mid))
    for sends in FLAG_SETS:
        if difficulty is not Difficulty.HARD and "RST" in row.sends and "RST" in sends:
            continue  # RST versus RST+ACK is Linux detail, asked at hard only
        candidates.append((_flags_form(sends), common.flags_text(sends), None))
    choices, key_id, _forms = common.pick_choices(
        rng, (_flags_form(row.sends), common.flags_text(row.sends), None), candidates, row.id
    )
    prompt = fmt(
        text(
            "A TCP endpoint ({p}) is in {s}. Now {e}. Which segment does it send?",
            "一个 TCP 端点（{p}）处于 {s}。此时{e}。它发送什么报文段？",
        ),
        p=common.PROFILE_LABEL[prof.name],
        s=common.state_text(state),
        e=common.event_clause(event),
    )
    lines = [common.row_line(row, prof), fmt(text("Why: {n}.", "引擎注释（英文）：{n}。"), n=row.note)]
    for choice in choices:
        tag = choice.misconception
        if tag:
            lines.append(
                fmt(
                    text("“{c}” is what “{m}” predicts.", "“{c}”是“{m}”这一误区的预测。"),
                    c=choice.text,
                    m=misconceptions.get(tag).name,
                )
            )
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=common.numbered(lines),
        skills=common.skills([row], ("c:flags",), prof),
        canonical=f"{NAME}|flags|{prof.name}|{state.name}|{event.value}",
        params={"mode": "flags", "profile": prof.name, "state": state.name, "event": event.value},
    )


# --------------------------------------------------------------------------- hard: numbers


def numbers_params(rng: random.Random) -> dict[str, Any]:
    """A connection to ask about: ISNs, data, who closes first, which segment is asked."""
    first = rng.randrange(2)
    data = [
        [rng.randrange(2), rng.choice((1, 10, 100, 200, 500, 1000, 1460))] for _ in range(rng.randint(0, 2))
    ]
    script = scenarios.handshake(0)
    for who, n in data:
        script += [["send", who, n], ["recv", 1 - who]]
    script += scenarios.orderly_close(first)
    isn = [rng.randrange(1 << 32), rng.randrange(1 << 32)]
    run = scenarios.run(script, RFC9293, (isn[0], isn[1]))
    asked = rng.randrange(1, len(run.segments))  # segment index (0-based), never the first SYN
    return {"mode": "numbers", "script": script, "isn": isn, "asked": asked}


def _numbers_form(flags: tuple[str, ...], seq: int, ack: int | None) -> str:
    return f"{'+'.join(flags)} seq={seq}" + (f" ack={ack}" if ack is not None else "")


def build_numbers(
    rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]
) -> Variant:
    """Which segment (flags, seq, ack) comes next in a simulated connection?"""
    script = [list(op) for op in params["script"]]
    isn = (int(params["isn"][0]), int(params["isn"][1]))
    run = scenarios.run(script, RFC9293, isn)
    asked = int(params["asked"])
    if not 0 < asked < len(run.segments):
        raise NotWellPosed("asked segment out of range")
    seg = run.segments[asked]
    row = seg.cause
    if row is None:
        raise NotWellPosed("segment without a row")
    key_form = _numbers_form(seg.flags, seg.seq, seg.ack)
    candidates: list[common.Option] = []
    for mid in scenarios.arith_misconceptions():
        seq, ack = scenarios.believed_numbers(run, mid)[asked]
        form = _numbers_form(seg.flags, seq, ack)
        candidates.append((form, text(form, form), mid))
    for mid, outcome in misconceptions.mutant_diffs(RFC9293).get((row.state, row.event), ()):
        if outcome is not None and outcome[1]:
            form = _numbers_form(outcome[1], seg.seq, seg.ack if "ACK" in outcome[1] else None)
            candidates.append((form, text(form, form), mid))
    # Plain slips: numbers off by one either way.
    for dseq, dack in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        ack = None if seg.ack is None else (seg.ack + dack) % common.MOD
        form = _numbers_form(seg.flags, (seg.seq + dseq) % common.MOD, ack)
        candidates.append((form, text(form, form), None))
    choices, key_id, _forms = common.pick_choices(rng, (key_form, text(key_form, key_form), None), candidates)
    before = [scenarios.segment_text(s, run) for s in run.segments[:asked]]
    who = scenarios.who_text(run, seg.src)
    head = fmt(
        text(
            "Client ISN = {x}, server ISN = {y} (RFC 9293). The segments so far:",
            "客户端初始序号 = {x}，服务器初始序号 = {y}（RFC 9293）。到目前为止的报文段：",
        ),
        x=isn[0],
        y=isn[1],
    )
    ask = fmt(
        text(
            "Next, {w} is in {s} and {e}. Which segment does it send?",
            "接着，{w}处于 {s}，此时{e}。它发送哪个报文段？",
        ),
        w=who,
        s=common.state_text(row.state),
        e=common.event_clause(row.event),
    )
    prompt = join([common.numbered(before, head=head), ask], sep="\n")
    lines = [
        common.row_line(row, RFC9293, who=scenarios.who_text(run, seg.src, cap=True)),
        fmt(
            text(
                "seq = its SND.NXT = {s}; ack = its RCV.NXT = {a}: the next byte it expects "
                "(a SYN and a FIN each take one sequence number, data takes its length).",
                "seq = 它的 SND.NXT = {s}；ack = 它的 RCV.NXT = {a}：它期望收到的下一个序号"
                "（SYN 和 FIN 各占一个序号，数据占其长度）。",
            ),
            s=seg.seq,
            a="—" if seg.ack is None else seg.ack,
        ),
    ]
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=common.numbered(lines),
        skills=common.skills([row], ("c:flags", "c:seq_ack", "c:isn")),
        canonical=f"{NAME}|numbers|{row.id}|{asked}|{len(script)}",
        params=dict(params),
        state_diagram=False,
    )


def generate(rng: random.Random, difficulty: Difficulty, seed: int) -> Variant:
    """Flags of one row (easy, medium; half of hard), or flags and numbers in a connection (hard)."""
    if difficulty is Difficulty.HARD and rng.random() < 0.5:
        return resample(lambda: build_numbers(rng, difficulty, seed, numbers_params(rng)))
    cells = pool(difficulty)
    return resample(lambda: build_flags(rng, difficulty, seed, rng.choice(cells)))


def rebuild(params: Mapping[str, JSON], difficulty: Difficulty, seed: int) -> Variant:
    """The same question with the current engine."""
    rng = random.Random(f"{NAME}|{seed}")
    if params.get("mode") == "numbers":
        return build_numbers(rng, difficulty, seed, params)
    cell = (str(params["profile"]), State[str(params["state"])], Event(str(params["event"])))
    return build_flags(rng, difficulty, seed, cell)


FAMILY = Family(
    name=NAME,
    title=text("Segment sent", "发送的报文段"),
    generate=generate,
    grade=common.grade_choice,
    rebuild=rebuild,
)
