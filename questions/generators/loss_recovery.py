"""Question family "loss and recovery": one segment of the handshake or the close is lost. In which
state is each side, and what is sent when the first retransmission timer fires?

Everything is read from the engine's Simulation: the states right after the loss, and every segment
the retransmission timers send at the first timeout. Distractors come from the loss misconceptions
(a lost ACK retransmitted by its sender, the receiver asking for a resend, a loss stalling the
connection) and from table mutants replayed on each side's events (e.g. no TIME_WAIT).

- easy: the client's SYN or the first FIN is lost (RFC 9293);
- medium: the SYN+ACK, the handshake's last ACK or the close's last ACK is lost;
- hard: the ACK of the first FIN or the second FIN is lost, either side closing first, either profile.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from questions.engine import PROFILES, Event, State
from questions.generators import common, misconceptions, scenarios
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

NAME = "loss_recovery"
S = State

LOSSES: dict[str, Any] = {
    "syn": text("the client's SYN", "客户端的 SYN"),
    "syn_ack": text("the server's SYN+ACK", "服务器的 SYN+ACK"),
    "ack3": text("the handshake's last ACK (the third segment)", "握手的最后一个 ACK（第三个报文段）"),
    "fin": text("{f}'s FIN", "{f}的 FIN"),
    "fin_ack": text("{o}'s ACK of that first FIN", "{o}对第一个 FIN 的 ACK"),
    "second_fin": text("{o}'s FIN", "{o}的 FIN"),
    "last_ack": text("the close's last ACK, from {f}", "关闭过程的最后一个 ACK（由{f}发出）"),
}
LEVELS: dict[Difficulty, tuple[str, ...]] = {
    Difficulty.EASY: ("syn", "fin"),
    Difficulty.MEDIUM: ("syn_ack", "ack3", "last_ack"),
    Difficulty.HARD: ("fin_ack", "second_fin", "last_ack", "syn_ack", "ack3"),
}
CONCEPTS: dict[str, tuple[str, ...]] = {
    "syn": ("c:retransmission", "c:handshake"),
    "syn_ack": ("c:retransmission", "c:handshake"),
    "ack3": ("c:retransmission", "c:handshake", "c:why_three"),
    "fin": ("c:retransmission", "c:four_way_close"),
    "fin_ack": ("c:retransmission", "c:four_way_close"),
    "second_fin": ("c:retransmission", "c:four_way_close"),
    "last_ack": ("c:retransmission", "c:lost_last_ack", "c:time_wait", "c:two_msl"),
}


def loss_script(loss: str, first: int) -> list[list[Any]]:
    """The script up to and including the drop."""
    f, o = first, 1 - first
    opening: list[list[Any]] = [["listen", 1], ["hold"], ["connect", 0]]
    if loss == "syn":
        return [*opening, ["drop", 0]]
    if loss == "syn_ack":
        return [*opening, ["deliver", 0], ["drop", 1]]
    if loss == "ack3":
        return [*opening, ["deliver", 0], ["deliver", 1], ["drop", 0]]
    closing: list[list[Any]] = [*scenarios.handshake(0), ["hold"], ["close", f]]
    if loss == "fin":
        return [*closing, ["drop", f]]
    if loss == "fin_ack":
        return [*closing, ["deliver", f], ["drop", o]]
    if loss == "second_fin":
        return [*closing, ["deliver", f], ["deliver", o], ["close", o], ["drop", o]]
    if loss == "last_ack":
        return [*closing, ["deliver", f], ["deliver", o], ["close", o], ["deliver", o], ["drop", f]]
    raise KeyError(loss)


Answer = tuple[tuple[tuple[int, str], ...], State, State]  # (retransmissions, client state, server state)


def _form(answer: Answer) -> str:
    sends, a, b = answer
    return f"{sends}|{a.name}|{b.name}"


def _text(answer: Answer, run: scenarios.Run) -> Text:
    sends, a, b = answer
    states = fmt(
        text("Client in {a}, server in {b}; ", "客户端处于 {a}，服务器处于 {b}；"),
        a=common.state_text(a),
        b=common.state_text(b),
    )
    if not sends:
        then = text(
            "nothing is ever sent again: the connection is stuck.", "此后再也没有报文段发出：连接卡住了。"
        )
    else:
        then = join(
            [
                fmt(
                    text("{w} sends {f}", "{w}发送 {f}"),
                    w=scenarios.who_text(run, who),
                    f=text(flags, flags),
                )
                for who, flags in sends
            ],
            sep=text(" and ", "，"),
        )
        then = fmt(text("at the timeout {t}.", "超时后{t}。"), t=then)
    return join([states, then])


def _both_sides_text(sends: tuple[tuple[int, str], ...], at: float, run: scenarios.Run) -> Text:
    """Why several sides retransmit at once: each one's own segment is still unacknowledged."""
    resends = join(
        [
            fmt(
                text("{w} resends its {f}", "{w}重传自己的 {f}"), w=scenarios.who_text(run, who), f=text(f, f)
            )
            for who, f in sends
        ],
        sep=text(" and ", "，"),
    )
    return fmt(
        text(
            "Both sides are waiting for an acknowledgment, and their retransmission timers, started "
            "with the same initial RTO, both fire at t = {t} s: {r}. Each side retransmits its own "
            "segment; neither waits for the other.",
            "双方都在等待确认，它们以相同的初始 RTO 启动的重传计时器都在 t = {t} 秒到期：{r}。"
            "每一方各自重传自己的报文段，谁也不等对方。",
        ),
        t=f"{at:g}",
        r=resends,
    )


def _repeated_syn_text(step: scenarios.Step, run: scenarios.Run) -> Text:
    """What the server in SYN_RECEIVED does with the client's retransmitted SYN, read from the row."""
    row = step.row
    who, who_cap = scenarios.who_text(run, step.who), scenarios.who_text(run, step.who, cap=True)
    where = common.state_text(row.next_state)
    moves = (
        fmt(text("stays in {s}", "仍处于 {s}"), s=where)
        if row.next_state is row.state
        else fmt(text("moves to {s}", "进入 {s}"), s=where)
    )
    reply = (
        fmt(text("answers with {f}", "回复 {f}"), f=common.flags_text(row.sends))
        if row.sends
        else text("sends nothing", "不发送报文段")
    )
    why = (
        text(
            "RFC 9293 §3.10.7.4 checks the sequence number before the SYN bit, and this SYN lies "
            "below RCV.NXT, so it is only acknowledged and dropped",
            "RFC 9293 §3.10.7.4 先检查序号、后检查 SYN 位，而这个 SYN 的序号小于 RCV.NXT，"
            "所以只回一个确认并将其丢弃",
        )
        if PROFILES["rfc9293"].name in row.profiles
        else text(
            "tcp_check_req: a Linux request sock answers the retransmitted SYN with its SYN+ACK again",
            "tcp_check_req：Linux 的请求套接字对重传的 SYN 再发一次 SYN+ACK",
        )
    )
    a, b = run.final
    end = (
        text("Both sides end up in ESTABLISHED.", "最终双方都进入 ESTABLISHED。")
        if a is b is S.ESTABLISHED
        else fmt(
            text(
                "In the end the client is in {a} and the server in {b}.",
                "最终客户端处于 {a}，服务器处于 {b}。",
            ),
            a=common.state_text(a),
            b=common.state_text(b),
        )
    )
    return fmt(
        text(
            "{W} is still in SYN_RECEIVED when the client's repeated SYN arrives. It carries the "
            "client's ISN again, which {w} has already acknowledged: it is a retransmission, not a "
            "new connection request, so {w} {m} and {r} ({y}). {e}",
            "客户端重传的 SYN 到达时，{w}仍处于 SYN_RECEIVED。它带的还是客户端的 ISN，{w}早已确认过："
            "这是一次重传，不是新的连接请求，因此{w}{m}，{r}（{y}）。{e}",
        ),
        W=who_cap,
        w=who,
        m=moves,
        r=reply,
        y=why,
        e=end,
    )


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """What happens after ``params["loss"]`` is lost."""
    loss, first, profile_name = str(params["loss"]), int(params["first"]), str(params["profile"])
    prof = PROFILES[profile_name]
    script = loss_script(loss, first)
    at_loss = scenarios.memo_run(script, prof, (1000, 5000))
    later = scenarios.memo_run([*script, ["auto"], ["advance", 4 * prof.initial_rto_s]], prof, (1000, 5000))
    dropped = next(g for g in at_loss.segments if g.fate == "dropped")
    after = [g for g in later.segments[len(at_loss.segments) :] if g.cause is not None]
    if not after:
        raise NotWellPosed("no retransmission")
    first_time = after[0].time
    sends = tuple(
        sorted(
            (g.src, g.label)
            for g in after
            if g.time == first_time and g.cause is not None and g.cause.event is Event.TIMEOUT_RTO
        )
    )
    if not sends:
        raise NotWellPosed("the first segment after the loss is no retransmission")
    key: Answer = (sends, at_loss.final[0], at_loss.final[1])
    candidates: list[common.Option] = []

    def add(answer: Answer, mid: str | None) -> None:
        candidates.append((_form(answer), _text(answer, at_loss), mid))

    if dropped.flags == ("ACK",):
        add((((dropped.src, "ACK"),), key[1], key[2]), "m:ack_retransmitted")
    add((((1 - dropped.src, "ACK"),), key[1], key[2]), "m:receiver_requests_resend")
    add(((), key[1], key[2]), "m:loss_stalls")
    for m in misconceptions.TABLE_MUTANTS:
        believed = [misconceptions.predict_path(m.id, S.CLOSED, at_loss.events[w], prof)[-1] for w in (0, 1)]
        if (believed[0], believed[1]) != (key[1], key[2]):
            add((sends, believed[0], believed[1]), m.id)
    other = tuple(sorted((1 - w, f) for w, f in sends))
    add((other, key[1], key[2]), None)
    add((sends, key[2], key[1]), None)
    sure: list[common.Option] = []
    if len(sends) > 1:
        # Both sides retransmit: "only one of them does" is the mistake this case is about.
        alone: Answer = ((rng.choice(sends),), key[1], key[2])
        sure.append((_form(alone), _text(alone, at_loss), "m:one_side_retransmits"))
    rest = [option for option in candidates if option[0] not in {o[0] for o in sure}]
    wrong = [*sure, *common.pick_wrong(rng, _form(key), rest, 3 - len(sure))]
    if len(wrong) < 3:
        raise NotWellPosed("too few distractors")
    choices, key_id, _forms = common.make_choices(rng, (_form(key), _text(key, at_loss), None), wrong)
    f_text, o_text = scenarios.who_text(at_loss, first), scenarios.who_text(at_loss, 1 - first)
    story = (
        text("The server listens and the client connects.", "服务器监听，客户端发起连接。")
        if loss in ("syn", "syn_ack", "ack3")
        else fmt(
            text("The connection is established; then {f} closes first.", "连接已建立；随后{f}先关闭。"),
            f=f_text,
        )
    )
    prompt = fmt(
        text(
            "{p}, initial RTO {r} s. {s} {l} is lost. In which state is each side while the loss goes "
            "unnoticed, and what is sent when the first retransmission timer fires?",
            "{p}，初始超时重传时间 {r} 秒。{s}{l}丢失了。在丢失尚未被察觉时双方各处于什么状态？"
            "第一个重传计时器到期时发送了什么？",
        ),
        p=common.PROFILE_LABEL[prof.name],
        r=f"{prof.initial_rto_s:g}",
        s=story,
        l=common.cap(fmt(LOSSES[loss], f=f_text, o=o_text)),
    )
    lines = [scenarios.segment_text(g, later) for g in later.segments[: len(at_loss.segments)]]
    # Every row that fires at the first timeout, on either side: the timers, then what they cause.
    lines.extend(
        fmt(
            text("t = {t} s: {r}", "t = {t} 秒：{r}"),
            t=f"{first_time:g}",
            r=common.row_line(step.row, prof, scenarios.who_text(later, step.who)),
        )
        for step in later.steps
        if step.time == first_time
    )
    tail: list[Text] = [
        text(
            "Only a segment that occupies sequence space (SYN, FIN, data) is retransmitted, by its "
            "sender, when its timer expires; a lost pure ACK is repaired by the peer's retransmission "
            "(RFC 9293 §3.8.1, §3.10.8).",
            "只有占用序号的报文段（SYN、FIN、数据）才会在其计时器到期时由发送方重传；丢失的纯 ACK "
            "要靠对方的重传来弥补（RFC 9293 §3.8.1、§3.10.8）。",
        )
    ]
    if len(sends) > 1:
        tail.insert(0, _both_sides_text(sends, first_time, at_loss))
    repeated = [
        step
        for step in later.steps
        if step.time == first_time and step.row.state is S.SYN_RECEIVED and step.row.event is Event.RCV_SYN
    ]
    if repeated:
        tail.insert(len(tail) - 1, _repeated_syn_text(repeated[0], later))
    explanation = common.numbered(
        lines, head=text("The engine's run:", "引擎的模拟："), tail=common.join_lines(tail)
    )
    rows = [s.row for s in later.steps]
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=explanation,
        skills=common.skills(rows, CONCEPTS[loss], prof),
        canonical=f"{NAME}|{loss}|{profile_name}|first={first}",
        params={"loss": loss, "first": first, "profile": profile_name},
    )


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    """A lost segment of ``difficulty``, who closes first and the profile."""
    loss = rng.choice(LEVELS[difficulty])
    first = 0 if loss in ("syn", "syn_ack", "ack3") or difficulty is Difficulty.EASY else rng.randrange(2)
    profile_name = "linux" if difficulty is Difficulty.HARD and rng.random() < 0.5 else "rfc9293"
    return {"loss": loss, "first": first, "profile": profile_name}


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build)


FAMILY = Family(
    name=NAME,
    title=text("Loss and recovery", "丢失与恢复"),
    generate=generate,
    grade=common.grade_choice,
    two_endpoint=True,
    rebuild=rebuild,
)
