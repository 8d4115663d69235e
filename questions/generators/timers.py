"""Question family "timers": how long TIME_WAIT lasts, when keepalive gives up on a silent peer, what
an orphaned FIN_WAIT_2 does after tcp_fin_timeout.

Every key is measured on the engine: the scenario runs on a Simulation and the answer is the time
(or the fate) the trace shows. Wrong numbers are matched to the timer misconceptions that predict
them (one MSL instead of two, Linux following the MSL or tcp_fin_timeout, probes off by one, ...).

- easy: TIME_WAIT under RFC 9293 with the textbook MSL of 2 min; keepalive with Linux defaults
  (7200 + 75 × 9 s).
- medium: another MSL; Linux's fixed 60 s; an orphaned FIN_WAIT_2 under Linux.
- hard: Linux with MSL and tcp_fin_timeout traps; keepalive with other settings; FIN_WAIT_2 after
  shutdown() only or under RFC 9293 (no timer at all).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from questions.engine import ENGINE_VERSION, Event, State
from questions.generators import common, diagrams, scenarios
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

NAME = "timers"
FOREVER = 1_000_000.0  # seconds simulated to show that nothing ever happens

SECONDS_FIELD: dict[str, Any] = {
    "id": "seconds",
    "label": text("Seconds", "秒数"),
    "unit": "s",
    "min": 0,
}


def _close_time(run: scenarios.Run, who: int, event: Event) -> float | None:
    for step in run.steps:
        if step.who == who and step.row.event is event and step.after is State.CLOSED:
            return step.time
    return None


def _entered(run: scenarios.Run, who: int, state: State) -> float:
    return next(s.time for s in run.steps if s.who == who and s.after is state)


# --------------------------------------------------------------------------- TIME_WAIT


def time_wait_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    if difficulty is Difficulty.EASY:
        return {"topic": "time_wait", "profile": "rfc9293", "options": {"msl_s": 120}}
    if difficulty is Difficulty.MEDIUM:
        if rng.random() < 0.5:
            return {
                "topic": "time_wait",
                "profile": "rfc9293",
                "options": {"msl_s": rng.choice((15, 30, 60, 90))},
            }
        return {"topic": "time_wait", "profile": "linux", "options": {}}
    return {
        "topic": "time_wait",
        "profile": "linux",
        "options": {"fin_timeout_s": rng.choice((10, 15, 30, 45, 90, 120))},
        "msl_claim": rng.choice((30, 60, 120)),
    }


def build_time_wait(difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    options = dict(params["options"])
    prof = scenarios.profile_for(str(params["profile"]), options)
    script = [*scenarios.handshake(0), *scenarios.orderly_close(0), ["advance", FOREVER]]
    run = scenarios.memo_run(script, prof, (1000, 5000))
    closed = _close_time(run, 0, Event.TIMEOUT_TIME_WAIT)
    if closed is None:
        raise NotWellPosed("TIME_WAIT never ended")
    seconds = round(closed - _entered(run, 0, State.TIME_WAIT))
    predicted: dict[int, str] = {}
    if prof.name == "rfc9293":
        msl = int(options.get("msl_s", 120))
        predicted[msl] = "m:time_wait_one_msl"
        setting = fmt(text("MSL = {m} s", "MSL = {m} 秒"), m=msl)
    else:
        msl = int(params.get("msl_claim", 120))
        predicted[2 * msl] = "m:linux_time_wait_from_msl"
        predicted[msl] = "m:time_wait_one_msl"
        if "fin_timeout_s" in options:
            predicted[int(options["fin_timeout_s"])] = "m:fin_timeout_is_time_wait"
            setting = fmt(
                text(
                    "net.ipv4.tcp_fin_timeout = {f}; a colleague says the MSL is {m} s",
                    "net.ipv4.tcp_fin_timeout = {f}；有同事说 MSL 是 {m} 秒",
                ),
                f=int(options["fin_timeout_s"]),
                m=msl,
            )
        else:
            setting = text("default settings", "默认设置")
    predicted.pop(seconds, None)
    prompt = fmt(
        text(
            "{p}, {s}. The client closes first; the four-way close completes. For how many seconds "
            "does the client stay in TIME_WAIT?",
            "{p}，{s}。客户端先关闭，四次挥手正常完成。客户端在 TIME_WAIT 中停留多少秒？",
        ),
        p=common.PROFILE_LABEL[prof.name],
        s=setting,
    )
    rows = [s.row for s in run.steps if s.who == 0 and s.row.state is State.TIME_WAIT]
    enter = next(s.row for s in run.steps if s.who == 0 and s.after is State.TIME_WAIT)
    lines = [
        common.row_line(enter, prof, scenarios.who_text(run, 0, True)),
        *(common.row_line(r, prof) for r in rows),
    ]
    why = (
        text(
            "RFC 9293 §3.10.8: the timer is 2 × MSL, long enough for a lost last ACK to be replaced "
            "(the peer's FIN comes back within one MSL) and for old duplicates to die out.",
            "RFC 9293 §3.10.8：计时器为 2 × MSL，足以让丢失的最后一个 ACK 被补发（对方重传的 FIN 在一个 "
            "MSL 内返回），也让旧的重复报文段在网络中消失。",
        )
        if prof.name == "rfc9293"
        else text(
            "Linux: TIME_WAIT is the constant TCP_TIMEWAIT_LEN = 60 s; there is no MSL setting and "
            "tcp_fin_timeout only bounds an orphaned FIN_WAIT_2.",
            "Linux：TIME_WAIT 是常量 TCP_TIMEWAIT_LEN = 60 秒；没有 MSL 设置，tcp_fin_timeout 只限制"
            "孤儿 FIN_WAIT_2。",
        )
    )
    explanation = common.numbered(
        lines,
        head=fmt(
            text(
                "The engine's trace: TIME_WAIT from t = {a} s to t = {b} s, {n} s.",
                "引擎的轨迹：TIME_WAIT 从 t = {a} 秒到 t = {b} 秒，共 {n} 秒。",
            ),
            a=round(_entered(run, 0, State.TIME_WAIT)),
            b=round(closed),
            n=seconds,
        ),
        tail=why,
    )
    concepts = ("c:time_wait", "c:two_msl", "c:msl_values") + (
        ("c:rfc_vs_linux",) if prof.name == "linux" else ()
    )
    return _numeric(
        difficulty,
        seed,
        params,
        prompt,
        seconds,
        predicted,
        explanation,
        common.skills([enter, *rows], concepts),
        f"{NAME}|time_wait|{prof.name}|{sorted(options.items())}|{params.get('msl_claim')}",
        diagrams.state_diagram(),
    )


# --------------------------------------------------------------------------- keepalive


def keepalive_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    if difficulty is not Difficulty.HARD:
        return {"topic": "keepalive", "profile": "linux", "options": {"keepalive": True}}
    return {
        "topic": "keepalive",
        "profile": rng.choice(("linux", "rfc9293")),
        "options": {
            "keepalive": True,
            "keepalive_time_s": rng.choice((60, 300, 600, 1800, 3600)),
            "keepalive_intvl_s": rng.choice((5, 10, 15, 30, 60)),
            "keepalive_probes": rng.choice((3, 4, 5, 6, 8)),
        },
    }


def build_keepalive(difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    options = dict(params["options"])
    prof = scenarios.profile_for(str(params["profile"]), options)
    script = [*scenarios.handshake(0), ["hold"], ["advance", FOREVER]]
    run = scenarios.memo_run(script, prof, (1000, 5000))
    dead = _close_time(run, 0, Event.TIMEOUT_KEEPALIVE)
    if dead is None:
        raise NotWellPosed("keepalive never gave up")
    seconds = round(dead)
    idle, intvl, probes = int(prof.keepalive_time_s), int(prof.keepalive_intvl_s), prof.keepalive_probes
    predicted = {
        idle + intvl * (probes - 1): "m:keepalive_probe_off_by_one",
        intvl * probes: "m:keepalive_no_idle",
        idle: "m:keepalive_idle_only",
    }
    predicted.pop(seconds, None)
    prompt = fmt(
        text(
            "{p}. The client's connection is ESTABLISHED with SO_KEEPALIVE on "
            "(tcp_keepalive_time = {i} s, tcp_keepalive_intvl = {v} s, tcp_keepalive_probes = {n}). "
            "At t = 0 the last segment is exchanged, then the server's host loses power and never "
            "answers again. At what time t (in seconds) does the client declare the connection dead?",
            "{p}。客户端的连接处于 ESTABLISHED，开启了 SO_KEEPALIVE（tcp_keepalive_time = {i} 秒，"
            "tcp_keepalive_intvl = {v} 秒，tcp_keepalive_probes = {n}）。t = 0 时交换了最后一个报文段，"
            "随后服务器主机断电，再也不会应答。客户端在哪个时刻 t（秒）判定连接已失效？",
        ),
        p=common.PROFILE_LABEL[prof.name],
        i=idle,
        v=intvl,
        n=probes,
    )
    probe_rows = [s for s in run.steps if s.who == 0 and s.row.event is Event.TIMEOUT_KEEPALIVE]
    lines = [
        fmt(text("t = {t} s: {r}", "t = {t} 秒：{r}"), t=round(s.time), r=common.row_line(s.row, prof))
        for s in probe_rows
    ]
    explanation = common.numbered(
        lines,
        head=text("The engine's trace at the client:", "引擎在客户端的轨迹："),
        tail=fmt(
            text(
                "So t = keepalive_time + intvl × probes = {i} + {v} × {n} = {t} s (RFC 9293 §3.8.4).",
                "所以 t = keepalive_time + intvl × probes = {i} + {v} × {n} = {t} 秒（RFC 9293 §3.8.4）。",
            ),
            i=idle,
            v=intvl,
            n=probes,
            t=seconds,
        ),
    )
    return _numeric(
        difficulty,
        seed,
        params,
        prompt,
        seconds,
        predicted,
        explanation,
        common.skills([s.row for s in probe_rows], ("c:keepalive",), prof),
        f"{NAME}|keepalive|{prof.name}|{sorted(options.items())}",
        None,
    )


# --------------------------------------------------------------------------- FIN_WAIT_2


def fin_wait_2_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    timeout = rng.choice((3, 10, 30, 60, 120))
    if difficulty is not Difficulty.HARD:
        return {
            "topic": "fin_wait_2",
            "profile": "linux",
            "options": {"fin_timeout_s": timeout},
            "call": "close",
        }
    profile_name, call = rng.choice((("linux", "shutdown"), ("rfc9293", "close"), ("linux", "close")))
    return {
        "topic": "fin_wait_2",
        "profile": profile_name,
        "options": {"fin_timeout_s": timeout},
        "call": call,
    }


def build_fin_wait_2(
    rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]
) -> Variant:
    options = dict(params["options"])
    prof = scenarios.profile_for(str(params["profile"]), options)
    call = str(params["call"])
    timeout = int(options["fin_timeout_s"])
    script = [*scenarios.handshake(0), [call, 0], ["advance", FOREVER]]
    run = scenarios.memo_run(script, prof, (1000, 5000))
    entered = _entered(run, 0, State.FIN_WAIT_2)
    closed = _close_time(run, 0, Event.TIMEOUT_FIN_WAIT_2)
    after = [s for s in run.steps if s.who == 0 and s.time > entered]
    sent_after = [g for g in run.segments if g.src == 0 and g.time > entered]
    forever = text(
        "It stays in FIN_WAIT_2 for as long as the server keeps the connection open",
        "只要服务器不关闭连接，它就一直停留在 FIN_WAIT_2",
    )
    silent = fmt(
        text(
            "After {t} s it goes to CLOSED silently, sending nothing",
            "{t} 秒后悄悄进入 CLOSED，不发送任何报文段",
        ),
        t=timeout,
    )
    rst = fmt(
        text("After {t} s it sends an RST and goes to CLOSED", "{t} 秒后发送 RST 并进入 CLOSED"), t=timeout
    )
    to_tw = fmt(text("After {t} s it enters TIME_WAIT", "{t} 秒后进入 TIME_WAIT"), t=timeout)
    sixty = text(
        "After 60 s it goes to CLOSED, whatever tcp_fin_timeout says",
        "无论 tcp_fin_timeout 为多少，60 秒后进入 CLOSED",
    )
    if closed is not None and not sent_after and round(closed - entered) == timeout:
        key: common.Option = ("silent", silent, None)
        wrong: list[common.Option] = [
            ("forever", forever, "m:fin_wait_2_forever"),
            ("rst", rst, "m:fin_wait_2_timeout_rst"),
            ("time_wait", to_tw, "m:fin_wait_2_timeout_time_wait"),
        ]
    elif closed is None and not after:
        key = ("forever", forever, None)
        wrong = [
            ("silent", silent, "m:rfc_follows_linux" if prof.name == "rfc9293" else None),
            ("rst", rst, "m:fin_wait_2_timeout_rst"),
            ("time_wait", to_tw, "m:fin_wait_2_timeout_time_wait"),
        ]
    else:
        raise NotWellPosed("unexpected FIN_WAIT_2 behaviour")
    if timeout != 60:
        wrong.append(("sixty", sixty, None))
    choices, key_id, _forms = common.pick_choices(rng, key, wrong)
    how = (
        text("calls close() (the socket becomes an orphan)", "调用 close()（套接字成为孤儿）")
        if call == "close"
        else text("calls shutdown(SHUT_WR) and keeps the socket", "调用 shutdown(SHUT_WR) 并保留套接字")
    )
    prompt = fmt(
        text(
            "{p}, net.ipv4.tcp_fin_timeout = {t}. The client {h}; the server ACKs the FIN but never "
            "closes its side and sends nothing more. What happens to the client's connection?",
            "{p}，net.ipv4.tcp_fin_timeout = {t}。客户端{h}；服务器确认了 FIN，但始终不关闭自己的一方，"
            "也不再发送任何报文段。客户端的连接会怎样？",
        ),
        p=common.PROFILE_LABEL[prof.name],
        t=timeout,
        h=how,
    )
    rows = [s.row for s in run.steps if s.who == 0 and s.time == 0.0 and s.row.state is not State.CLOSED]
    lines = [common.row_line(r, prof) for r in rows]
    lines.extend(
        fmt(text("t = {t} s: {r}", "t = {t} 秒：{r}"), t=round(s.time), r=common.row_line(s.row, prof))
        for s in after
    )
    if not after:
        lines.append(
            fmt(
                text("Nothing else happens in {n} simulated seconds.", "在模拟的 {n} 秒内再没有发生任何事。"),
                n=int(FOREVER),
            )
        )
    tail = text(
        "Only Linux has a FIN_WAIT_2 timer, and only for orphans (after close()); it closes silently. "
        "RFC 9293 has none, and a socket kept after shutdown() waits for the peer's FIN.",
        "只有 Linux 有 FIN_WAIT_2 计时器，而且只针对孤儿套接字（调用 close() 之后）；超时时悄悄关闭。"
        "RFC 9293 没有这个计时器；调用 shutdown() 后仍保留的套接字会一直等待对方的 FIN。",
    )
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=common.numbered(
            lines, head=text("The engine's trace at the client:", "引擎在客户端的轨迹："), tail=tail
        ),
        skills=common.skills([*rows, *(s.row for s in after)], ("c:fin_wait_2_timeout",), prof),
        canonical=f"{NAME}|fin_wait_2|{prof.name}|{call}",
        params=dict(params),
    )


# --------------------------------------------------------------------------- shared


def _numeric(
    difficulty: Difficulty,
    seed: int,
    params: Mapping[str, Any],
    prompt: Text,
    seconds: int,
    predicted: Mapping[int, str],
    explanation: Text,
    skills: tuple[str, ...],
    canonical: str,
    diagram: str | None,
) -> Variant:
    return Variant(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.NUMERIC,
        prompt=prompt,
        choices=(),
        key={"values": {"seconds": seconds}},
        explanation=explanation,
        skills=skills,
        canonical=canonical,
        params={**params, "predicted": {str(k): v for k, v in predicted.items()}},
        widget={"fields": [SECONDS_FIELD]},
        diagram_svg=diagram,
        diagrams=diagrams.state_diagrams() if diagram is not None else {},
    )


TOPICS = ("time_wait", "keepalive", "fin_wait_2")


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    topic = params["topic"]
    if topic == "time_wait":
        return build_time_wait(difficulty, seed, params)
    if topic == "keepalive":
        return build_keepalive(difficulty, seed, params)
    return build_fin_wait_2(rng, difficulty, seed, params)


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    """A timer topic of ``difficulty`` (easy: no FIN_WAIT_2) and its settings."""
    topic = rng.choice(TOPICS if difficulty is not Difficulty.EASY else TOPICS[:2])
    maker = {
        "time_wait": time_wait_params,
        "keepalive": keepalive_params,
        "fin_wait_2": fin_wait_2_params,
    }
    return maker[topic](rng, difficulty)


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build, recomputed=("predicted",))


def grade(variant: Variant, answer: JSON) -> GradeResult:
    """Numbers: exact seconds; a wrong number names the misconception that predicts it."""
    if variant.kind is InputKind.SINGLE:
        return common.grade_choice(variant, answer)
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    given = parsed["seconds"]
    right = int(variant.key["values"]["seconds"])
    if given == right:
        return GradeResult(score=1.0, feedback=fmt(text("Correct: {n} s.", "正确：{n} 秒。"), n=right))
    predicted: Mapping[str, str] = variant.params.get("predicted", {})
    mid = predicted.get(str(given))
    parts: list[Text] = [
        fmt(
            text("Not quite: {g} s; the engine says {n} s.", "不对：{g} 秒；引擎给出的是 {n} 秒。"),
            g=given,
            n=right,
        )
    ]
    if mid:
        parts.append(common.misconception_note(mid))
    return GradeResult(score=0.0, feedback=join(parts, sep=" "), misconception=mid)


FAMILY = Family(
    name=NAME,
    title=text("Timers", "计时器"),
    generate=generate,
    grade=grade,
    rebuild=rebuild,
)
