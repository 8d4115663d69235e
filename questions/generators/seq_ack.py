"""Question family "seq/ack arithmetic": given the ISNs and the data lengths, fill in the sequence and
acknowledgment number of every segment of a handshake, a transfer and a close (the x / y and
u / v / w notation of Chinese textbooks, with numbers).

The segments and their numbers come from the engine's Simulation. Numbers compare modulo 2^32. A
wrong set of numbers is matched against what each arithmetic misconception computes for the same
exchange (FIN or SYN taking no sequence number, ack = received seq, data + 1, seq not advancing).

- easy: the three-way handshake only;
- medium: handshake, one or two data segments and the four-way close;
- hard: simultaneous or three-segment close, more data, ISNs close to 2^32 (wrap-around).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from questions.engine import ENGINE_VERSION, RFC9293
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

NAME = "seq_ack"


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    sizes = (1, 10, 100, 200, 500, 536, 1000, 1460)
    if difficulty is Difficulty.EASY:
        return {
            "scenario": "open_close",
            "first": 0,
            "data": [],
            "isn": [rng.randrange(1, 10**6), rng.randrange(1, 10**6)],
            "part": "handshake",
        }
    if difficulty is Difficulty.MEDIUM:
        data = [[rng.randrange(2), rng.choice(sizes)] for _ in range(rng.randint(1, 2))]
        return {
            "scenario": "open_close",
            "first": rng.randrange(2),
            "data": data,
            "isn": [rng.randrange(1, 10**9), rng.randrange(1, 10**9)],
            "part": "all",
        }
    data = [[rng.randrange(2), rng.choice(sizes)] for _ in range(rng.randint(1, 3))]
    near = [common.MOD - rng.randrange(1, 400), rng.randrange(common.MOD)]
    rng.shuffle(near)
    return {
        "scenario": rng.choice(("sim_close", "three_seg", "open_close")),
        "first": rng.randrange(2),
        "data": data,
        "isn": near,
        "part": "all",
    }


def _run(params: Mapping[str, Any]) -> scenarios.Run:
    data = tuple((int(w), int(n)) for w, n in params["data"])
    isn = (int(params["isn"][0]), int(params["isn"][1]))
    return scenarios.cached_run(str(params["scenario"]), int(params["first"]), RFC9293.name, isn, data)


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """Fill in seq and ack of the scenario's segments."""
    run = _run(params)
    segments = list(run.segments[:3] if params["part"] == "handshake" else run.segments)
    fields: list[dict[str, Any]] = []
    key: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for g in segments:
        rows.append(
            {
                "n": g.n,
                "from": run.names[g.src],
                "to": run.names[1 - g.src],
                "flags": list(g.flags),
                "len": g.length,
                "fate": g.fate,
                "text": scenarios.segment_text(g, run, numbers=False),
            }
        )
        fields.append({"id": f"s{g.n}.seq", "segment": g.n, "label": text(f"#{g.n} seq", f"#{g.n} 序号 seq")})
        key[f"s{g.n}.seq"] = g.seq
        if g.ack is not None:
            fields.append(
                {"id": f"s{g.n}.ack", "segment": g.n, "label": text(f"#{g.n} ack", f"#{g.n} 确认号 ack")}
            )
            key[f"s{g.n}.ack"] = g.ack
    believed: dict[str, dict[str, int]] = {}
    for mid in scenarios.arith_misconceptions():
        numbers = scenarios.believed_numbers(run, mid)
        values = {}
        for g in segments:
            seq, ack = numbers[g.n - 1]
            values[f"s{g.n}.seq"] = seq
            if ack is not None:
                values[f"s{g.n}.ack"] = ack
        if values != key:
            believed[mid] = values
    x, y = run.isn
    story = scenarios.scenario_text(str(params["scenario"]), int(params["first"]))
    data_line = (
        join(
            [
                fmt(text("{w} sends {n} bytes", "{w}发送 {n} 字节"), w=scenarios.who_text(run, int(w)), n=n)
                for w, n in params["data"]
            ],
            sep=text("; ", "；"),
        )
        if params["data"]
        else text("no data is sent", "不发送数据")
    )
    prompt = join(
        [
            fmt(
                text(
                    "{s} The client's ISN is x = {x}, the server's ISN is y = {y}; after the handshake {d}. "
                    "Fill in the seq and ack of every segment below (numbers are modulo 2^32).",
                    "{s}客户端的初始序号 x = {x}，服务器的初始序号 y = {y}；握手之后{d}。"
                    "请填写下列每个报文段的 "
                    "seq 和 ack（按 2^32 取模）。",
                ),
                s=story,
                x=x,
                y=y,
                d=data_line,
            ),
            common.numbered([r["text"] for r in rows]),
        ],
        sep="\n",
    )
    lines = [
        fmt(
            text("{s} — {why}", "{s} —— {why}"),
            s=scenarios.segment_text(g, run),
            why=common.row_line(g.cause, RFC9293) if g.cause is not None else text("(ACK)", "（ACK）"),
        )
        for g in segments
    ]
    explanation = common.numbered(
        lines,
        head=text(
            "The engine's segments. seq = the sender's SND.NXT, ack = its RCV.NXT; a SYN and a FIN each take "
            "one sequence number, data takes its length.",
            "引擎给出的报文段。seq = 发送方的 SND.NXT，ack = 发送方的 RCV.NXT；SYN 和 FIN 各占一个序号，"
            "数据占其长度。",
        ),
    )
    rows_fired = [g.cause for g in segments if g.cause is not None]
    shape = ",".join(f"{r['from'][0]}{'+'.join(r['flags'])}{r['len']}" for r in rows)
    return Variant(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.NUMERIC,
        prompt=prompt,
        choices=(),
        key={"values": key},
        explanation=explanation,
        skills=common.skills(
            rows_fired, ("c:seq_ack", "c:isn", *scenarios.SCENARIO_CONCEPTS[str(params["scenario"])])
        ),
        canonical=f"{NAME}|{params['scenario']}|{params['part']}|{shape}",
        params={**params, "believed": believed},
        widget={
            "segments": [{k: v for k, v in r.items()} for r in rows],
            "fields": fields,
            "modulo": common.MOD,
        },
        diagram_svg=None,
    )


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build, recomputed=("believed",))


def grade(variant: Variant, answer: JSON) -> GradeResult:
    """Each number compares modulo 2^32; the score is the share right; the first wrong segment is named."""
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    key: Mapping[str, int] = variant.key["values"]
    wrong = [f["id"] for f in variant.widget["fields"] if not common.seq_eq(parsed[f["id"]], key[f["id"]])]
    if not wrong:
        return GradeResult(
            score=1.0, feedback=text("Correct: every number is right.", "正确：所有数字都对。")
        )
    believed: Mapping[str, Mapping[str, int]] = variant.params.get("believed", {})
    mid = next(
        (
            m
            for m, values in believed.items()
            if all(common.seq_eq(parsed[f], values.get(f, key[f])) for f in wrong)
        ),
        None,
    )
    summary = text(
        "{r} of {n} numbers right; the first wrong one is in segment #{s}.",
        "{n} 个数字中对了 {r} 个；第一个错误出现在第 {s} 个报文段。",
    )
    return common.partial_credit(len(key), wrong, summary, mid)


FAMILY = Family(
    name=NAME,
    title=text("Sequence and acknowledgment numbers", "序号与确认号"),
    generate=generate,
    grade=grade,
    two_endpoint=True,
    rebuild=rebuild,
)
