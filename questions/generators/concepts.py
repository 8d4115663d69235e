"""Question family "concepts": select every true statement (multiple response).

Each statement is drawn from a template in a true or a false form; the false form states what a
misconception predicts. Wherever the engine can decide a statement, its truth is computed from the
engine (the table, a simulated scenario or a profile's timer) with the scenario varied (MSL, ISNs,
who closes); a few facts outside the state machine (tcp_tw_reuse) are marked as such and cite the
course's reference. Why three segments to open, why four to close, why TIME_WAIT lasts 2MSL,
half-close, and what tcp_tw_reuse does and does not do.

- easy: three statements about the handshake, half-close and TIME_WAIT (RFC 9293);
- medium: four statements, adding sequence numbers, lost ACKs and RST;
- hard: five statements, adding Linux's timers, simultaneous close and tcp_tw_reuse.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from questions.engine import (
    ENGINE_VERSION,
    LINUX,
    RFC9293,
    Event,
    State,
    Transition,
    transition,
)
from questions.generators import common, diagrams, scenarios
from questions.generators.base import (
    JSON,
    Choice,
    Difficulty,
    Family,
    InputKind,
    NotWellPosed,
    Text,
    Variant,
    fmt,
    resample,
    text,
)

NAME = "concepts"
S = State
E = Event


@dataclass(frozen=True)
class Statement:
    """One statement with its truth as the engine decides it."""

    template: str
    text: Text
    true: bool
    misconception: str | None  # what believing it (false) or rejecting it (true) shows
    why: Text
    rows: tuple[Transition, ...]
    concepts: tuple[str, ...]
    form: str  # canonical form, for near-duplicate detection


def _why_rows(rows: tuple[Transition, ...], prof: Any = RFC9293) -> Text:
    return common.join_lines([common.row_line(r, prof) for r in rows])


def t_server_after_syn(rng: random.Random, polarity: bool) -> Statement:
    row = transition(S.LISTEN, E.RCV_SYN, RFC9293)
    claim = row.next_state if polarity else S.ESTABLISHED
    statement = fmt(
        text(
            "Under RFC 9293 a listening server that receives a SYN answers SYN+ACK and moves to {s}.",
            "按 RFC 9293，处于监听状态的服务器收到 SYN 后回复 SYN+ACK，并进入 {s}。",
        ),
        s=common.state_text(claim),
    )
    return Statement(
        "server_after_syn",
        statement,
        claim is row.next_state,
        "m:two_way_handshake",
        _why_rows((row,)),
        (row,),
        ("c:handshake", "c:why_three"),
        f"server_after_syn|{claim.name}",
    )


def t_third_segment(rng: random.Random, polarity: bool) -> Statement:
    waits = transition(S.LISTEN, E.RCV_SYN, RFC9293).next_state is not S.ESTABLISHED
    done = transition(S.SYN_RECEIVED, E.RCV_ACK, RFC9293)
    statement = (
        text(
            "The server counts the connection as established only when the third segment (the ACK of its "
            "SYN) arrives, so a stale duplicate SYN cannot open a connection by itself.",
            "服务器只有在第三个报文段（对其 SYN 的 ACK）到达时才认为连接已建立，因此一个过期的重复 SYN "
            "无法单独建立连接。",
        )
        if polarity
        else text(
            "Two segments would do: the server may count the connection as established as soon as it "
            "has sent its SYN+ACK.",
            "两个报文段就够了：服务器发出 SYN+ACK 后即可认为连接已建立。",
        )
    )
    return Statement(
        "third_segment",
        statement,
        polarity == (waits and done.next_state is S.ESTABLISHED),
        "m:two_way_handshake",
        _why_rows((transition(S.LISTEN, E.RCV_SYN, RFC9293), done)),
        (done,),
        ("c:why_three",),
        f"third|{polarity}",
    )


def t_half_close_send(rng: random.Random, polarity: bool) -> Statement:
    row = common.row_if_legal(S.CLOSE_WAIT, E.SEND)
    can = row is not None and row.error is None
    statement = (
        text(
            "After receiving the peer's FIN (CLOSE_WAIT), an endpoint can still send data.",
            "收到对方的 FIN 之后（CLOSE_WAIT），端点仍然可以发送数据。",
        )
        if polarity
        else text(
            "After receiving the peer's FIN (CLOSE_WAIT), an endpoint can no longer send data.",
            "收到对方的 FIN 之后（CLOSE_WAIT），端点就不能再发送数据了。",
        )
    )
    return Statement(
        "half_close_send",
        statement,
        polarity == can,
        "m:half_close_no_send",
        _why_rows((row,) if row else ()),
        (row,) if row else (),
        ("c:half_close",),
        f"hc_send|{polarity}",
    )


def t_half_close_recv(rng: random.Random, polarity: bool) -> Statement:
    row = common.row_if_legal(S.FIN_WAIT_2, E.RCV_DATA)
    can = row is not None and row.next_state is S.FIN_WAIT_2
    statement = (
        text(
            "After its own FIN has been acknowledged (FIN_WAIT_2), an endpoint still receives and ACKs data.",
            "自己的 FIN 被确认之后（FIN_WAIT_2），端点仍会接收并确认数据。",
        )
        if polarity
        else text(
            "After its own FIN has been acknowledged (FIN_WAIT_2), an endpoint drops any data that arrives.",
            "自己的 FIN 被确认之后（FIN_WAIT_2），端点会丢弃到达的任何数据。",
        )
    )
    return Statement(
        "half_close_recv",
        statement,
        polarity == can,
        "m:half_close_no_receive",
        _why_rows((row,) if row else ()),
        (row,) if row else (),
        ("c:half_close",),
        f"hc_recv|{polarity}",
    )


def t_why_four(rng: random.Random, polarity: bool) -> Statement:
    row = transition(S.ESTABLISHED, E.RCV_FIN, RFC9293)
    one_way = row.next_state is not S.CLOSED
    statement = (
        text(
            "A FIN closes only its sender's direction; that is why closing usually takes four segments.",
            "FIN 只关闭发送方这一个方向；这就是关闭连接通常需要四个报文段的原因。",
        )
        if polarity
        else text(
            "One FIN closes both directions at once; the other two segments of the close are only "
            "courtesy acknowledgments.",
            "一个 FIN 就同时关闭了两个方向；关闭过程中另外两个报文段只是礼节性的确认。",
        )
    )
    return Statement(
        "why_four",
        statement,
        polarity == one_way,
        "m:close_is_symmetric",
        _why_rows((row,)),
        (row,),
        ("c:why_four", "c:half_close"),
        f"why_four|{polarity}",
    )


def t_time_wait_side(rng: random.Random, polarity: bool) -> Statement:
    first = rng.randrange(2)
    run = scenarios.cached_run("open_close", first, RFC9293.name)
    active_tw = S.TIME_WAIT in run.visited(first)
    statement = (
        text(
            "In a four-way close, the side that sends the first FIN is the one that waits in TIME_WAIT.",
            "在四次挥手中，先发送 FIN 的一方会在 TIME_WAIT 中等待。",
        )
        if polarity
        else text(
            "In a four-way close, the side that receives the first FIN is the one that waits in TIME_WAIT.",
            "在四次挥手中，先收到 FIN 的一方会在 TIME_WAIT 中等待。",
        )
    )
    passive_tw = S.TIME_WAIT in run.visited(1 - first)
    enter = next(s.row for s in run.steps if s.after is S.TIME_WAIT)
    return Statement(
        "time_wait_side",
        statement,
        active_tw if polarity else passive_tw,
        "m:time_wait_to_passive_closer",
        _why_rows((enter,)),
        (enter,),
        ("c:time_wait", "c:four_way_close"),
        f"tw_side|{polarity}",
    )


def t_two_msl(rng: random.Random, polarity: bool) -> Statement:
    msl = rng.choice((30, 60, 120))
    prof = scenarios.profile_for("rfc9293", {"msl_s": msl})
    real = int(prof.time_wait_s)
    claim = real if polarity else msl
    statement = fmt(
        text(
            "Under RFC 9293 with MSL = {m} s, TIME_WAIT lasts {v} s.",
            "按 RFC 9293，若 MSL = {m} 秒，TIME_WAIT 持续 {v} 秒。",
        ),
        m=msl,
        v=claim,
    )
    row = transition(S.TIME_WAIT, E.TIMEOUT_TIME_WAIT, prof)
    return Statement(
        "two_msl",
        statement,
        claim == real,
        "m:time_wait_one_msl",
        fmt(
            text("time_wait_s = 2 × MSL = {v} s; {r}", "time_wait_s = 2 × MSL = {v} 秒；{r}"),
            v=real,
            r=common.row_line(row, prof),
        ),
        (row,),
        ("c:two_msl", "c:msl_values"),
        f"two_msl|{msl}|{claim}",
    )


def t_linux_time_wait(rng: random.Random, polarity: bool) -> Statement:
    fin_timeout = rng.choice((15, 30, 120))
    prof = scenarios.profile_for("linux", {"fin_timeout_s": fin_timeout})
    real = int(prof.time_wait_s)
    wrong, mid = rng.choice(
        ((240, "m:linux_time_wait_from_msl"), (fin_timeout, "m:fin_timeout_is_time_wait"))
    )
    claim = real if polarity else wrong
    statement = fmt(
        text(
            "On Linux with net.ipv4.tcp_fin_timeout = {f}, TIME_WAIT lasts {v} s.",
            "在 Linux 上，若 net.ipv4.tcp_fin_timeout = {f}，TIME_WAIT 持续 {v} 秒。",
        ),
        f=fin_timeout,
        v=claim,
    )
    row = transition(S.TIME_WAIT, E.TIMEOUT_TIME_WAIT, LINUX)
    return Statement(
        "linux_time_wait",
        statement,
        claim == real,
        mid if not polarity else "m:fin_timeout_is_time_wait",
        fmt(text("Linux: {r}", "Linux：{r}"), r=common.row_line(row, LINUX)),
        (row,),
        ("c:msl_values", "c:rfc_vs_linux"),
        f"linux_tw|{fin_timeout}|{claim}",
    )


def t_lost_last_ack(rng: random.Random, polarity: bool) -> Statement:
    again = common.row_if_legal(S.TIME_WAIT, E.RCV_FIN)
    resend = common.row_if_legal(S.LAST_ACK, E.TIMEOUT_RTO)
    own_timer = common.row_if_legal(S.TIME_WAIT, E.TIMEOUT_RTO)
    repaired = again is not None and again.sends == ("ACK",) and resend is not None and "FIN" in resend.sends
    statement = (
        text(
            "If the active closer's last ACK is lost, the peer resends its FIN and the side in TIME_WAIT "
            "ACKs it again; that is one reason TIME_WAIT lasts 2MSL.",
            "如果主动关闭方最后的 ACK 丢失，对方会重传 FIN，处于 TIME_WAIT 的一方再次确认；这正是 "
            "TIME_WAIT 要持续 2MSL 的原因之一。",
        )
        if polarity
        else text(
            "If the active closer's last ACK is lost, the active closer's own timer notices "
            "and it resends the ACK.",
            "如果主动关闭方最后的 ACK 丢失，主动关闭方自己的计时器会察觉并重传该 ACK。",
        )
    )
    truth = repaired if polarity else own_timer is not None
    rows = tuple(r for r in (resend, again) if r is not None)
    return Statement(
        "lost_last_ack",
        statement,
        truth,
        "m:ack_retransmitted",
        _why_rows(rows),
        rows,
        ("c:lost_last_ack", "c:two_msl"),
        f"lost_last_ack|{polarity}",
    )


def t_fin_seq(rng: random.Random, polarity: bool) -> Statement:
    isn = (rng.randrange(1 << 31), rng.randrange(1 << 31))
    nbytes = rng.choice((0, 100, 500))
    data = ((0, nbytes),) if nbytes else ()
    run = scenarios.cached_run("open_close", 0, RFC9293.name, isn, data)
    fin = next(g for g in run.segments if g.src == 0 and "FIN" in g.flags)
    ack = next(g for g in run.segments if g.src == 1 and g.ack is not None and g.n > fin.n)
    claim = ack.ack if polarity else fin.seq
    statement = fmt(
        text(
            "The client's FIN carries seq = {u}; the server acknowledges it with ack = {a}.",
            "客户端的 FIN 携带 seq = {u}；服务器对它的确认号是 ack = {a}。",
        ),
        u=fin.seq,
        a=claim,
    )
    return Statement(
        "fin_seq",
        statement,
        claim == ack.ack,
        "m:fin_no_seq",
        fmt(
            text("Engine: {f}, then {a}.", "引擎：{f}，随后 {a}。"),
            f=scenarios.segment_text(fin, run),
            a=scenarios.segment_text(ack, run),
        ),
        (),
        ("c:seq_ack",),
        f"fin_seq|{polarity}",
    )


def t_syn_seq(rng: random.Random, polarity: bool) -> Statement:
    isn = (rng.randrange(1 << 31), rng.randrange(1 << 31))
    run = scenarios.cached_run("open_close", 0, RFC9293.name, isn, ((0, 100),))
    data = next(g for g in run.segments if g.src == 0 and g.length)
    claim = data.seq if polarity else isn[0]
    statement = fmt(
        text(
            "The client's SYN carries seq = {x}; its first data byte then has seq = {d}.",
            "客户端的 SYN 携带 seq = {x}；它的第一个数据字节的序号是 {d}。",
        ),
        x=isn[0],
        d=claim,
    )
    return Statement(
        "syn_seq",
        statement,
        claim == data.seq,
        "m:syn_no_seq",
        fmt(text("Engine: {d}.", "引擎：{d}。"), d=scenarios.segment_text(data, run)),
        (),
        ("c:seq_ack", "c:isn"),
        f"syn_seq|{polarity}",
    )


def t_rst_answered(rng: random.Random, polarity: bool) -> Statement:
    rows = tuple(r for r in (common.row_if_legal(s, E.RCV_RST) for s in State) if r is not None)
    silent = all(not r.sends for r in rows)
    statement = (
        text("An endpoint never answers an RST, not even with an ACK.", "端点从不应答 RST，连 ACK 也不发。")
        if polarity
        else text(
            "An endpoint acknowledges an RST with an ACK before closing.",
            "端点在关闭前会用 ACK 确认收到的 RST。",
        )
    )
    sample = rng.choice(rows)
    return Statement(
        "rst_answered",
        statement,
        polarity == silent,
        "m:rst_answered",
        _why_rows((sample,)),
        (sample,),
        ("c:rst",),
        f"rst|{polarity}",
    )


def t_sim_close(rng: random.Random, polarity: bool) -> Statement:
    run = scenarios.cached_run("sim_close", 0, RFC9293.name)
    both = all(S.CLOSING in run.visited(w) and S.TIME_WAIT in run.visited(w) for w in (0, 1))
    statement = (
        text(
            "When both sides close at the same moment, both pass through CLOSING and both end in TIME_WAIT.",
            "双方同时关闭时，双方都会经过 CLOSING，并且都会进入 TIME_WAIT。",
        )
        if polarity
        else text(
            "When both sides close at the same moment, neither has to wait in TIME_WAIT.",
            "双方同时关闭时，谁都不需要在 TIME_WAIT 中等待。",
        )
    )
    neither = not any(S.TIME_WAIT in run.visited(w) for w in (0, 1))
    rows = tuple(s.row for s in run.steps if s.who == 0 and s.after is not s.before)[-3:]
    return Statement(
        "sim_close",
        statement,
        both if polarity else neither,
        "m:no_time_wait",
        _why_rows(rows),
        rows,
        ("c:sim_close",),
        f"sim_close|{polarity}",
    )


def t_tw_reuse(rng: random.Random, polarity: bool) -> Statement:
    row = transition(S.TIME_WAIT, E.CONNECT, LINUX)
    if polarity:
        statement = text(
            "net.ipv4.tcp_tw_reuse lets a new outgoing connect() reuse a four-tuple still in TIME_WAIT, "
            "provided TCP timestamps are on.",
            "net.ipv4.tcp_tw_reuse 允许新的主动 connect() 复用仍处于 TIME_WAIT 的四元组，"
            "前提是开启了 TCP 时间戳。",
        )
        mid = "m:tw_reuse_server"
    else:
        statement, mid = rng.choice(
            (
                (
                    text(
                        "net.ipv4.tcp_tw_reuse lets a server accept new connections faster when many of its "
                        "old connections sit in TIME_WAIT.",
                        "当大量旧连接处于 TIME_WAIT 时，net.ipv4.tcp_tw_reuse 能让服务器更快地接受新连接。",
                    ),
                    "m:tw_reuse_server",
                ),
                (
                    text(
                        "net.ipv4.tcp_tw_reuse shortens TIME_WAIT to about one second.",
                        "net.ipv4.tcp_tw_reuse 会把 TIME_WAIT 缩短到约 1 秒。",
                    ),
                    "m:tw_reuse_shortens",
                ),
            )
        )
    why = fmt(
        text(
            "Not decided by the state machine: a Linux fact (TCP.md, TIME_WAIT: connect() reusing the "
            "4-tuple). The engine's Linux row: {r}",
            "这一点状态机本身无法判定，属于 Linux 的事实（TCP.md，TIME_WAIT：connect() 复用四元组）。"
            "引擎中的 Linux 状态行：{r}",
        ),
        r=common.row_line(row, LINUX),
    )
    return Statement(
        "tw_reuse", statement, polarity, mid, why, (row,), ("c:tw_reuse",), f"tw_reuse|{mid}|{polarity}"
    )


def t_time_wait_pileup(rng: random.Random, polarity: bool) -> Statement:
    prof = rng.choice((RFC9293, LINUX))
    run = scenarios.cached_run("open_close", 1, prof.name)  # side 1, the server, closes first
    server_waits = S.TIME_WAIT in run.visited(1)
    statement = fmt(
        text(
            "A server that calls close() first on every connection it has served keeps a TIME_WAIT "
            "socket for each of them, for {t} s under the {p} profile.",
            "服务器如果对它服务过的每条连接都先调用 close()，那么每条连接都会在服务器上留下一个 "
            "TIME_WAIT 套接字（{p} 配置下持续 {t} 秒）。",
        )
        if polarity
        else text(
            "Only clients wait in TIME_WAIT, so a busy server never accumulates TIME_WAIT sockets, "
            "whoever closes first ({p} profile).",
            "只有客户端才会进入 TIME_WAIT，所以无论谁先关闭，繁忙的服务器都不会堆积 TIME_WAIT "
            "套接字（{p} 配置）。",
        ),
        t=int(prof.time_wait_s),
        p=prof.name,
    )
    enter = next(s.row for s in run.steps if s.after is S.TIME_WAIT)
    return Statement(
        "time_wait_pileup",
        statement,
        server_waits if polarity else not server_waits,
        "m:time_wait_client_only",
        _why_rows((enter,), prof),
        (enter,),
        ("c:time_wait_pileup", "c:time_wait"),
        f"tw_pileup|{prof.name}|{polarity}",
    )


def t_so_reuseaddr(rng: random.Random, polarity: bool) -> Statement:
    row = transition(S.TIME_WAIT, E.TIMEOUT_TIME_WAIT, LINUX)
    statement = (
        text(
            "SO_REUSEADDR lets a restarted server bind() its listening port even while connections on that "
            "port are still in TIME_WAIT; those TIME_WAIT sockets still run their full timer.",
            "SO_REUSEADDR 让重启的服务器即使在该端口上仍有 TIME_WAIT 连接时也能 bind() 监听端口；"
            "这些 TIME_WAIT 套接字依旧要等满计时器。",
        )
        if polarity
        else text(
            "Setting SO_REUSEADDR makes the kernel drop the server's TIME_WAIT sockets at once.",
            "设置 SO_REUSEADDR 会让内核立即清除服务器上的 TIME_WAIT 套接字。",
        )
    )
    why = fmt(
        text(
            "Not decided by the state machine: a socket-API fact. TIME_WAIT ends only by its timer "
            "(or a RST / new SYN on Linux): {r}",
            "这一点状态机本身无法判定，属于套接字 API 的事实。TIME_WAIT 只会因计时器到期而结束"
            "（Linux 上也可能因 RST 或新的 SYN）：{r}",
        ),
        r=common.row_line(row, LINUX),
    )
    return Statement(
        "so_reuseaddr",
        statement,
        polarity,
        "m:so_reuseaddr_ends_time_wait",
        why,
        (row,),
        ("c:so_reuseaddr", "c:time_wait_pileup"),
        f"so_reuseaddr|{polarity}",
    )


Template = Callable[[random.Random, bool], Statement]
TEMPLATES: dict[str, Template] = {
    "server_after_syn": t_server_after_syn,
    "third_segment": t_third_segment,
    "half_close_send": t_half_close_send,
    "half_close_recv": t_half_close_recv,
    "why_four": t_why_four,
    "time_wait_side": t_time_wait_side,
    "two_msl": t_two_msl,
    "fin_seq": t_fin_seq,
    "syn_seq": t_syn_seq,
    "lost_last_ack": t_lost_last_ack,
    "rst_answered": t_rst_answered,
    "linux_time_wait": t_linux_time_wait,
    "sim_close": t_sim_close,
    "tw_reuse": t_tw_reuse,
    "time_wait_pileup": t_time_wait_pileup,
    "so_reuseaddr": t_so_reuseaddr,
}
LEVELS: dict[Difficulty, tuple[int, tuple[str, ...]]] = {
    Difficulty.EASY: (
        3,
        ("server_after_syn", "third_segment", "half_close_send", "why_four", "time_wait_side", "two_msl"),
    ),
    Difficulty.MEDIUM: (4, tuple(list(TEMPLATES)[:11])),
    Difficulty.HARD: (5, tuple(TEMPLATES)),
}


def build(difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """The statements ``params["picks"]`` = [[template, polarity, sub-seed], ...] as one question."""
    statements = [
        TEMPLATES[str(name)](random.Random(int(sub)), bool(polarity))
        for name, polarity, sub in params["picks"]
    ]
    truths = {s.true for s in statements}
    if truths != {True, False}:
        raise NotWellPosed("need at least one true and one false statement")
    ids = common.CHOICE_IDS
    choices = tuple(
        Choice(id=cid, text=s.text, misconception=None if s.true else s.misconception)
        for cid, s in zip(ids, statements, strict=False)
    )
    key = sorted(cid for cid, s in zip(ids, statements, strict=False) if s.true)
    missed = {
        cid: s.misconception for cid, s in zip(ids, statements, strict=False) if s.true and s.misconception
    }
    lines = [
        fmt(
            text("({c}) {v}. {w}", "（{c}）{v}。{w}"),
            c=cid,
            v=text("True", "正确") if s.true else text("False", "错误"),
            w=s.why,
        )
        for cid, s in zip(ids, statements, strict=False)
    ]
    concepts = [c for s in statements for c in s.concepts]
    rows = [r for s in statements for r in s.rows]
    return Variant(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.MULTIPLE,
        prompt=text(
            "Select every true statement (there is at least one true and at least one false statement).",
            "请选出所有正确的陈述（至少有一条正确、至少有一条错误）。",
        ),
        choices=choices,
        key={"choices": key},
        explanation=common.numbered(
            lines, head=text("Each statement checked against the engine:", "逐条对照引擎检验：")
        ),
        skills=common.skills(rows, concepts),
        canonical=f"{NAME}|" + ",".join(sorted(s.form for s in statements)),
        params={"picks": [list(p) for p in params["picks"]], "missed": missed},
        diagram_svg=diagrams.state_diagram(),
        diagrams=diagrams.state_diagrams(),
    )


def generate(rng: random.Random, difficulty: Difficulty, seed: int) -> Variant:
    """A multiple-response question of ``difficulty``."""
    count, names = LEVELS[difficulty]

    def draw() -> Variant:
        picked = rng.sample(names, count)
        polarities = [rng.random() < 0.5 for _ in picked]
        if all(polarities) or not any(polarities):
            polarities[rng.randrange(count)] = not polarities[0]
        picks = [[name, pol, rng.randrange(1 << 30)] for name, pol in zip(picked, polarities, strict=True)]
        return build(difficulty, seed, {"picks": picks})

    return resample(draw)


def rebuild(params: Mapping[str, JSON], difficulty: Difficulty, seed: int) -> Variant:
    """The same statements, re-checked with the current engine."""
    return build(difficulty, seed, params)


FAMILY = Family(
    name=NAME,
    title=text("Concepts", "概念辨析"),
    generate=generate,
    grade=common.grade_statements,
    rebuild=rebuild,
)
