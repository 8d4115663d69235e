"""Question family "RST": connecting to a closed port, aborting, closing with unread data, an RST
arriving in TIME_WAIT. What is sent, where do both sides end, which error does the application see?

The key is read from the engine's Simulation. Distractors are the RST misconceptions (a SYN to a closed
port silently dropped, abort() closing gracefully, close() with unread data sending a FIN, an RST
acknowledged or ignored in TIME_WAIT) and the other profile's behaviour (RFC 9293 vs Linux).

- easy: connection refused and abort, RFC 9293;
- medium: the same under Linux, and close() with unread data;
- hard: RST in TIME_WAIT with and without tcp_rfc1337, either profile.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from questions.engine import State
from questions.generators import common, scenarios
from questions.generators.base import (
    Difficulty,
    Family,
    NotWellPosed,
    Text,
    Variant,
    fmt,
    join,
    text,
)

NAME = "rst"
S = State

LEVELS: dict[Difficulty, tuple[tuple[str, str], ...]] = {
    Difficulty.EASY: (("refused", "rfc9293"), ("abort", "rfc9293")),
    Difficulty.MEDIUM: (("refused", "linux"), ("abort", "linux"), ("unread", "linux"), ("unread", "rfc9293")),
    Difficulty.HARD: (
        ("time_wait", "rfc9293"),
        ("time_wait", "linux"),
        ("unread", "linux"),
        ("abort", "linux"),
    ),
}
CONCEPTS: dict[str, tuple[str, ...]] = {
    "refused": ("c:connect_refused", "c:rst", "c:closed_fictional"),
    "abort": ("c:abort", "c:rst"),
    "unread": ("c:close_unread_data", "c:rst"),
    "time_wait": ("c:rfc1337", "c:rst", "c:time_wait"),
}

# (flags the actor sends, client's final state, server's final state, error and who sees it)
Outcome = tuple[str, State, State, str | None, int]


def _script(topic: str, first: int, prof_name: str, rfc1337: bool) -> tuple[list[list[Any]], int]:
    """The scenario and the index of the side whose action is asked about."""
    if topic == "refused":
        return [["connect", 0]], 1
    if topic == "abort":
        return [*scenarios.handshake(0), ["abort", first]], first
    if topic == "unread":
        other = 1 - first
        return [*scenarios.handshake(0), ["send", other, 100], ["close", first]], first
    # time_wait: the client closes first, reaches TIME_WAIT, then an in-window RST arrives.
    base = [*scenarios.handshake(0), *scenarios.orderly_close(0)]
    return base, 1


def _outcome(run: scenarios.Run, actor: int, after: int) -> Outcome:
    sent = [g for g in run.segments[after:] if g.src == actor]
    flags = sent[0].label if sent else "-"
    err_who = 1 - actor
    err = run.errors[err_who] or run.errors[actor]
    if run.errors[err_who] is None and run.errors[actor] is not None:
        err_who = actor
    return (flags, run.final[0], run.final[1], err, err_who)


def _form(o: Outcome) -> str:
    return f"{o[0]}|{o[1].name}|{o[2].name}|{o[3]}|{o[4]}"


def _text(o: Outcome, run: scenarios.Run, actor: int) -> Text:
    flags, a, b, err, err_who = o
    who = scenarios.who_text(run, actor, cap=True)
    sent = (
        fmt(text("{w} sends nothing.", "{w}不发送报文段。"), w=who)
        if flags == "-"
        else fmt(text("{w} sends {f}.", "{w}发送 {f}。"), w=who, f=text(flags, flags))
    )
    states = fmt(
        text("The client ends in {a}, the server in {b}.", "客户端最终处于 {a}，服务器处于 {b}。"),
        a=common.state_text(a),
        b=common.state_text(b),
    )
    error = (
        text("No application sees an error.", "应用程序没有收到错误。")
        if err is None
        else fmt(
            text("{w}'s application gets {e}.", "{w}的应用程序得到 {e}。"),
            w=scenarios.who_text(run, err_who, cap=True),
            e=err,
        )
    )
    return join([sent, states, error], sep=" ")


def _run(topic: str, first: int, prof_name: str, rfc1337: bool) -> tuple[scenarios.Run, int, int, int]:
    """The run, the acting side, and how many segments and rows came before the asked action."""
    options = {"rfc1337": True} if rfc1337 else None
    prof = scenarios.profile_for(prof_name, options)
    script, actor = _script(topic, first, prof_name, rfc1337)
    if topic != "time_wait":
        before = scenarios.memo_run(script[:-1], prof, (1000, 5000))
        run = scenarios.memo_run(script, prof, (1000, 5000))
        return run, actor, len(before.segments), len(before.steps)
    before = scenarios.memo_run(script, prof, (1000, 5000))
    if before.final[0] is not S.TIME_WAIT:
        raise NotWellPosed("no TIME_WAIT")
    last_ack = [g for g in before.segments if g.src == 0][-1]
    # The RST comes "from the server's side" with the sequence number the client expects next.
    inject = ["inject", 0, ["RST"], last_ack.ack, None]
    run = scenarios.memo_run([*script, inject], prof, (1000, 5000))
    return run, 0, len(before.segments), len(before.steps)


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """What the RST scenario leads to."""
    topic, prof_name = str(params["topic"]), str(params["profile"])
    first, rfc1337 = int(params.get("first", 0)), bool(params.get("rfc1337", False))
    run, actor, mark, step_mark = _run(topic, first, prof_name, rfc1337)
    if topic == "time_wait":
        key: Outcome = ("-", run.final[0], run.final[1], run.errors[0], 0)
    else:
        key = _outcome(run, actor, mark)
    candidates: list[common.Option] = []

    def add(o: Outcome, mid: str | None) -> None:
        candidates.append((_form(o), _text(o, run, actor), mid))

    other_name = "linux" if prof_name == "rfc9293" else "rfc9293"
    other_tag = "m:linux_follows_rfc" if prof_name == "linux" else "m:rfc_follows_linux"
    other: Outcome | None = None
    try:
        other_run, _a, other_mark, _s = _run(topic, first, other_name, rfc1337)
        if topic == "time_wait":
            other = ("-", other_run.final[0], other_run.final[1], other_run.errors[0], 0)
        else:
            other = _outcome(other_run, actor, other_mark)
    except NotWellPosed:
        other = None
    flags, a, b, err, err_who = key
    if topic == "refused":
        add(("-", S.SYN_SENT, S.CLOSED, None, 0), "m:closed_port_silent")
        add((flags, S.SYN_SENT, S.CLOSED, None, 0), "m:rst_answered")
        add(("RST", S.CLOSED, S.CLOSED, "ETIMEDOUT", 0), None)
    elif topic == "abort":
        f_state, o_state = (S.FIN_WAIT_2, S.CLOSE_WAIT)
        graceful: Outcome = (
            "ACK+FIN",
            *((f_state, o_state) if actor == 0 else (o_state, f_state)),
            None,
            err_who,
        )
        add(graceful, "m:abort_graceful")
        add((flags, S.CLOSED, S.CLOSED, None, err_who), None)
        add(
            (flags, *((S.CLOSED, S.TIME_WAIT) if actor == 1 else (S.TIME_WAIT, S.CLOSED)), err, err_who), None
        )
    elif topic == "unread":
        if prof_name == "linux" and other is not None:
            add(other, "m:close_unread_sends_fin")
        add(("ACK+RST", S.CLOSED, S.CLOSED, None, err_who), None)
        add(("ACK+FIN", S.CLOSED, S.CLOSED, None, err_who), None)
    else:
        add(("-", S.TIME_WAIT, b, None, 0), "m:rst_time_wait_ignored")
        add(("ACK", a, b, err, 0), "m:rst_answered")
        add(("-", S.CLOSED, b, "ECONNRESET", 0), None)
        add(("-", S.CLOSED, b, None, 0), None)
    if other is not None and difficulty is not Difficulty.EASY:
        add(other, other_tag)
    choices, key_id, _forms = common.pick_choices(rng, (_form(key), _text(key, run, actor), None), candidates)
    f_text, o_text = scenarios.who_text(run, first), scenarios.who_text(run, 1 - first)
    story = {
        "refused": text(
            "The client calls connect() to a port on which nothing listens. What happens?",
            "客户端向一个没有进程监听的端口调用 connect()。会发生什么？",
        ),
        "abort": fmt(
            text(
                "The connection is ESTABLISHED; {f} aborts it (SO_LINGER {{1, 0}} + close()). What happens?",
                "连接处于 ESTABLISHED；{f}异常终止连接（SO_LINGER {{1, 0}} + close()）。会发生什么？",
            ),
            f=f_text,
        ),
        "unread": fmt(
            text(
                "The connection is ESTABLISHED; {o} sends 100 bytes, which {f} has not read yet when it "
                "calls close(). What happens?",
                "连接处于 ESTABLISHED；{o}发送了 100 字节数据，{f}还没有读取就调用了 close()。会发生什么？",
            ),
            f=f_text,
            o=o_text,
        ),
        "time_wait": fmt(
            text(
                "The client closed first and is in TIME_WAIT{r}. An RST with an acceptable sequence number "
                "arrives for this connection. What happens?",
                "客户端先关闭，现处于 TIME_WAIT{r}。此时到达一个序号可接受的 RST。会发生什么？",
            ),
            r=text(" (net.ipv4.tcp_rfc1337 = 1)", "（net.ipv4.tcp_rfc1337 = 1）")
            if rfc1337
            else text(" (tcp_rfc1337 left at its default)", "（tcp_rfc1337 为默认值）"),
        ),
    }[topic]
    prompt = fmt(text("{p}. {s}", "{p}。{s}"), p=common.PROFILE_LABEL[prof_name], s=story)
    lines = [scenarios.segment_text(g, run) for g in run.segments[mark:]] or [
        text("(no segment)", "（无报文段）")
    ]
    rows = [s.row for s in run.steps[step_mark:]]
    late = [
        common.row_line(s.row, run.profile, scenarios.who_text(run, s.who, cap=True))
        for s in run.steps[step_mark:]
    ]
    explanation = common.numbered(
        [*late, *lines],
        head=text(
            "The engine's run from that moment (rows, then segments):",
            "引擎从此刻起的模拟（状态行，然后是报文段）：",
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
        skills=common.skills(rows, CONCEPTS[topic], run.profile),
        canonical=f"{NAME}|{topic}|{prof_name}|first={first}|rfc1337={rfc1337}",
        params={"topic": topic, "profile": prof_name, "first": first, "rfc1337": rfc1337},
    )


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    """A topic and profile of ``difficulty``, who acts first, and whether tcp_rfc1337 is set."""
    topic, prof_name = rng.choice(LEVELS[difficulty])
    return {
        "topic": topic,
        "profile": prof_name,
        "first": 0 if topic in ("refused", "time_wait") else rng.randrange(2),
        "rfc1337": topic == "time_wait" and rng.random() < 0.5,
    }


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build)


FAMILY = Family(
    name=NAME,
    title=text("RST", "复位（RST）"),
    generate=generate,
    grade=common.grade_choice,
    two_endpoint=True,
    rebuild=rebuild,
)
