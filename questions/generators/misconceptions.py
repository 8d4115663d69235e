"""Misconceptions about TCP connection management, each one a mutant of the engine.

A misconception is modelled as the machine a student who holds it carries in their head: a rewrite
of the engine's transition table (``table``), of its sequence arithmetic (``arith``) or of its
timers (``timer``). Running the mutant predicts the wrong answer that student gives, so a distractor
is a mutant's prediction and a wrong answer is traced back to the misconception that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from questions.engine import Event, Profile, State, legal_events, transition
from questions.generators.base import Text, text

# What one (state, event) does: the next state and the flags of the segment sent (() = nothing).
Outcome = tuple[State, tuple[str, ...]]
Table = dict[tuple[State, Event], Outcome]
TableRewrite = Callable[[Table, Profile], Table]

S = State
E = Event


@dataclass(frozen=True)
class Misconception:
    """One wrong belief: its id, bilingual name and correction, the concepts it touches."""

    id: str
    name: Text
    correction: Text
    concepts: tuple[str, ...]
    kind: str  # "table" | "arith" | "timer" | "fact"
    rewrite: TableRewrite | None = None


def _set(table: Table, changes: Mapping[tuple[State, Event], Outcome | None]) -> Table:
    """``table`` with ``changes`` applied (None deletes a row: the mutant thinks it impossible)."""
    mutant = dict(table)
    for cell, outcome in changes.items():
        if outcome is None:
            mutant.pop(cell, None)
        elif cell in table or outcome is not None:
            mutant[cell] = outcome
    return mutant


def _sends(table: Table, state: State, event: Event) -> tuple[str, ...]:
    row = table.get((state, event))
    return row[1] if row else ()


def _relabel(a: State, b: State) -> TableRewrite:
    """The mutant that swaps the names of states ``a`` and ``b`` everywhere."""

    def swap(s: State) -> State:
        return b if s is a else a if s is b else s

    def rewrite(table: Table, _profile: Profile) -> Table:
        return {(swap(s), e): (swap(n), sends) for (s, e), (n, sends) in table.items()}

    return rewrite


def _swap_events(pairs: Iterable[tuple[Event, Event, frozenset[State]]]) -> TableRewrite:
    """The mutant that confuses each pair of events in the given states: each does the other's job."""
    pair_list = tuple(pairs)

    def rewrite(table: Table, _profile: Profile) -> Table:
        mutant = dict(table)
        for x, y, states in pair_list:
            for s in states:
                rx, ry = table.get((s, x)), table.get((s, y))
                for cell, row in (((s, x), ry), ((s, y), rx)):
                    if row is None:
                        mutant.pop(cell, None)
                    else:
                        mutant[cell] = row
        return mutant

    return rewrite


def _changes(changes: Callable[[Table], Mapping[tuple[State, Event], Outcome | None]]) -> TableRewrite:
    def rewrite(table: Table, _profile: Profile) -> Table:
        return _set(table, changes(table))

    return rewrite


def _as_profile(name: str) -> TableRewrite:
    """The mutant that believes every profile behaves like profile ``name``."""

    def rewrite(table: Table, profile: Profile) -> Table:
        if profile.name == name:
            return dict(table)
        return dict(base_table(_named_profile(name)))

    return rewrite


def _named_profile(name: str) -> Profile:
    from questions.engine import LINUX, RFC9293

    return RFC9293 if name == RFC9293.name else LINUX


_ACK = ("ACK",)
# States with a synchronized connection whose application can still close it.
_OPEN_STATES = frozenset({S.SYN_RECEIVED, S.ESTABLISHED, S.CLOSE_WAIT})
_CLOSING_STATES = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK})

CATALOGUE: tuple[Misconception, ...] = (
    Misconception(
        "m:close_wait_fin_wait_2_swapped",
        text("CLOSE_WAIT and FIN_WAIT_2 swapped", "混淆了 CLOSE_WAIT 与 FIN_WAIT_2"),
        text(
            "The side that receives the first FIN goes to CLOSE_WAIT (it must still close its own "
            "direction); the side that sent the first FIN goes to FIN_WAIT_2 once that FIN is ACKed.",
            "先收到 FIN 的一方进入 CLOSE_WAIT（它自己的方向还没关）；先发送 FIN 的一方在 FIN "
            "被确认后进入 FIN_WAIT_2。",
        ),
        ("c:four_way_close", "c:half_close"),
        "table",
        _relabel(S.CLOSE_WAIT, S.FIN_WAIT_2),
    ),
    Misconception(
        "m:time_wait_to_passive_closer",
        text("TIME_WAIT given to the passive closer", "把 TIME_WAIT 安到了被动关闭方"),
        text(
            "Only the side that sent the first FIN (the active closer) waits in TIME_WAIT; the "
            "passive closer goes from LAST_ACK straight to CLOSED when its FIN is ACKed.",
            "只有先发送 FIN 的一方（主动关闭方）进入 TIME_WAIT；被动关闭方在 LAST_ACK 收到对其 "
            "FIN 的确认后直接进入 CLOSED。",
        ),
        ("c:time_wait", "c:four_way_close"),
        "table",
        _changes(
            lambda t: {
                (S.LAST_ACK, E.RCV_ACK): (S.TIME_WAIT, _sends(t, S.LAST_ACK, E.RCV_ACK)),
                (S.FIN_WAIT_2, E.RCV_FIN): (S.CLOSED, _sends(t, S.FIN_WAIT_2, E.RCV_FIN)),
                (S.FIN_WAIT_1, E.RCV_FIN_ACK): (S.CLOSED, _sends(t, S.FIN_WAIT_1, E.RCV_FIN_ACK)),
            }
        ),
    ),
    Misconception(
        "m:no_time_wait",
        text("the active closer skips TIME_WAIT", "主动关闭方不经过 TIME_WAIT"),
        text(
            "After ACKing the peer's FIN the active closer waits 2MSL in TIME_WAIT: its last ACK may "
            "be lost (the peer then resends its FIN) and old duplicates must die out.",
            "主动关闭方确认对方的 FIN 后要在 TIME_WAIT 等待 2MSL：最后的 ACK 可能丢失（对方会重传 "
            "FIN），旧连接的报文段也要在网络中消失。",
        ),
        ("c:time_wait", "c:two_msl", "c:lost_last_ack"),
        "table",
        _changes(
            lambda t: {
                (S.FIN_WAIT_2, E.RCV_FIN): (S.CLOSED, _sends(t, S.FIN_WAIT_2, E.RCV_FIN)),
                (S.CLOSING, E.RCV_ACK): (S.CLOSED, ()),
                (S.FIN_WAIT_1, E.RCV_FIN_ACK): (S.CLOSED, _sends(t, S.FIN_WAIT_1, E.RCV_FIN_ACK)),
            }
        ),
    ),
    Misconception(
        "m:fin_wait_1_to_closed",
        text("FIN_WAIT_1 goes straight to CLOSED", "FIN_WAIT_1 直接进入 CLOSED"),
        text(
            "An ACK of our FIN only closes our direction: FIN_WAIT_1 goes to FIN_WAIT_2 and keeps "
            "receiving until the peer's FIN arrives.",
            "对我方 FIN 的确认只关闭了我方的发送方向：FIN_WAIT_1 进入 FIN_WAIT_2，继续接收数据，"
            "直到对方的 FIN 到达。",
        ),
        ("c:half_close", "c:four_way_close"),
        "table",
        _changes(
            lambda t: {
                (S.FIN_WAIT_1, E.RCV_ACK): (S.CLOSED, ()),
                (S.FIN_WAIT_1, E.RCV_FIN_ACK): (S.CLOSED, _sends(t, S.FIN_WAIT_1, E.RCV_FIN_ACK)),
            }
        ),
    ),
    Misconception(
        "m:syn_received_skipped",
        text(
            "SYN_RECEIVED skipped in simultaneous open",
            "同时打开时跳过了 SYN_RECEIVED",
        ),
        text(
            "In a simultaneous open each side receives a bare SYN while in SYN_SENT: it answers "
            "SYN+ACK and moves to SYN_RECEIVED, not directly to ESTABLISHED.",
            "同时打开时，双方都在 SYN_SENT 收到不带 ACK 的 SYN：回复 SYN+ACK 并进入 "
            "SYN_RECEIVED，而不是直接进入 ESTABLISHED。",
        ),
        ("c:sim_open",),
        "table",
        _changes(lambda t: {(S.SYN_SENT, E.RCV_SYN): (S.ESTABLISHED, _sends(t, S.SYN_SENT, E.RCV_SYN))}),
    ),
    Misconception(
        "m:two_way_handshake",
        text(
            "the server is ESTABLISHED as soon as it gets the SYN",
            "服务器一收到 SYN 就进入 ESTABLISHED",
        ),
        text(
            "The server answers the SYN with SYN+ACK and waits in SYN_RECEIVED: only the third "
            "segment proves the client got its ISN and is not a stale duplicate SYN.",
            "服务器收到 SYN 后回复 SYN+ACK 并在 SYN_RECEIVED 等待：只有第三个报文段才能证明客户端"
            "收到了它的初始序号，而不是一个过期的重复 SYN。",
        ),
        ("c:why_three", "c:handshake"),
        "table",
        _changes(lambda t: {(S.LISTEN, E.RCV_SYN): (S.ESTABLISHED, _sends(t, S.LISTEN, E.RCV_SYN))}),
    ),
    Misconception(
        "m:closing_skipped",
        text(
            "simultaneous close goes straight to TIME_WAIT",
            "同时关闭时直接进入 TIME_WAIT",
        ),
        text(
            "A FIN that does not acknowledge our own FIN moves FIN_WAIT_1 to CLOSING; TIME_WAIT "
            "comes only when our FIN is ACKed.",
            "一个没有确认我方 FIN 的 FIN 使 FIN_WAIT_1 进入 CLOSING；只有我方的 FIN 被确认后才进入 "
            "TIME_WAIT。",
        ),
        ("c:sim_close",),
        "table",
        _changes(lambda t: {(S.FIN_WAIT_1, E.RCV_FIN): (S.TIME_WAIT, _sends(t, S.FIN_WAIT_1, E.RCV_FIN))}),
    ),
    Misconception(
        "m:sim_close_as_passive",
        text(
            "a FIN in FIN_WAIT_1 makes us the passive closer",
            "在 FIN_WAIT_1 收到 FIN 就变成了被动关闭方",
        ),
        text(
            "We already sent our FIN, so there is nothing left to close: a crossing FIN leads to "
            "CLOSING (simultaneous close), never to CLOSE_WAIT.",
            "我方已经发出 FIN，没有什么需要再关闭：交叉的 FIN 使我们进入 CLOSING（同时关闭），"
            "而不是 CLOSE_WAIT。",
        ),
        ("c:sim_close",),
        "table",
        _changes(lambda t: {(S.FIN_WAIT_1, E.RCV_FIN): (S.CLOSE_WAIT, _sends(t, S.FIN_WAIT_1, E.RCV_FIN))}),
    ),
    Misconception(
        "m:fin_ack_ignored",
        text(
            "a FIN that also ACKs our FIN treated as a bare FIN",
            "没注意到对方的 FIN 同时确认了我方的 FIN",
        ),
        text(
            "When the peer's FIN also acknowledges our FIN, FIN_WAIT_1 goes directly to TIME_WAIT "
            "(three-segment close, RFC 9293 Figure 5 note 2).",
            "对方的 FIN 同时确认了我方 FIN 时，FIN_WAIT_1 直接进入 TIME_WAIT（三报文挥手，"
            "RFC 9293 图 5 注 2）。",
        ),
        ("c:three_segment_close",),
        "table",
        _changes(
            lambda t: (
                {(S.FIN_WAIT_1, E.RCV_FIN_ACK): t.get((S.FIN_WAIT_1, E.RCV_FIN))}
                if (S.FIN_WAIT_1, E.RCV_FIN) in t
                else {}
            )
        ),
    ),
    Misconception(
        "m:no_last_ack",
        text(
            "the passive closer is CLOSED as soon as it sends its FIN",
            "被动关闭方发出 FIN 就立即 CLOSED",
        ),
        text(
            "After close() in CLOSE_WAIT the passive closer sends its FIN and waits in LAST_ACK "
            "until that FIN is acknowledged; it may have to retransmit it.",
            "被动关闭方在 CLOSE_WAIT 调用 close() 后发送 FIN，并在 LAST_ACK 等待对它的确认；"
            "必要时还要重传 FIN。",
        ),
        ("c:four_way_close",),
        "table",
        _changes(lambda t: {(S.CLOSE_WAIT, E.CLOSE): (S.CLOSED, _sends(t, S.CLOSE_WAIT, E.CLOSE))}),
    ),
    Misconception(
        "m:send_receive_confused",
        text(
            "doing something confused with receiving it",
            "把“自己发出”与“收到对方的”混为一谈",
        ),
        text(
            "Calling close() sends our FIN (active close); receiving the peer's FIN is a different "
            "event with a different arc (passive close). The same holds for connect() versus an "
            "arriving SYN and abort() versus an arriving RST.",
            "调用 close() 是发送我方的 FIN（主动关闭）；收到对方的 FIN 是另一个事件，走另一条弧"
            "（被动关闭）。connect() 与收到 SYN、abort() 与收到 RST 也是如此。",
        ),
        ("c:state_diagram", "c:socket_calls"),
        "table",
        _swap_events(
            (
                (E.CLOSE, E.RCV_FIN, _OPEN_STATES),
                (E.CONNECT, E.RCV_SYN, frozenset({S.CLOSED, S.LISTEN, S.SYN_SENT})),
                (E.ABORT, E.RCV_RST, _OPEN_STATES),
            )
        ),
    ),
    Misconception(
        "m:ack_fin_confused",
        text(
            "the ACK of our FIN confused with the peer's FIN",
            "把对我方 FIN 的确认当成了对方的 FIN",
        ),
        text(
            "An ACK of our FIN closes only our direction (FIN_WAIT_1 → FIN_WAIT_2); the peer's FIN "
            "closes its direction and must itself be ACKed.",
            "对我方 FIN 的确认只关闭我方方向（FIN_WAIT_1 → FIN_WAIT_2）；对方的 FIN 关闭对方方向，"
            "并且需要我方确认。",
        ),
        ("c:four_way_close", "c:why_four"),
        "table",
        _swap_events(((E.RCV_ACK, E.RCV_FIN, _CLOSING_STATES),)),
    ),
    Misconception(
        "m:abort_graceful",
        text("close() and abort() confused", "把 close() 与 abort() 混为一谈"),
        text(
            "close() is the orderly close: it sends FIN and passes through FIN_WAIT or LAST_ACK. "
            "ABORT (SO_LINGER {1, 0} + close()) sends RST and deletes the connection at once: no "
            "FIN, no FIN_WAIT states, no TIME_WAIT.",
            "close() 是正常关闭：发送 FIN，并经过 FIN_WAIT 或 LAST_ACK。ABORT（SO_LINGER {1, 0} 加 "
            "close()）发送 RST 并立即删除连接：没有 FIN，不经过 FIN_WAIT 状态，也没有 TIME_WAIT。",
        ),
        ("c:abort", "c:rst"),
        "table",
        _swap_events(((E.ABORT, E.CLOSE, _OPEN_STATES),)),
    ),
    Misconception(
        "m:rst_answered",
        text("an RST is acknowledged", "以为 RST 需要被确认"),
        text(
            "An RST is never answered, not even by an ACK: the receiver checks it and, if it is "
            "acceptable, drops the connection.",
            "RST 永远不会被应答，连 ACK 也不会：接收方校验它，若可接受就直接撤销连接。",
        ),
        ("c:rst",),
        "table",
        _changes(
            lambda t: {
                (s, e): (n, _ACK) for (s, e), (n, sends) in t.items() if e is E.RCV_RST and sends != _ACK
            }
        ),
    ),
    Misconception(
        "m:closed_port_silent",
        text("a SYN to a closed port is silently dropped", "以为发往未监听端口的 SYN 会被默默丢弃"),
        text(
            "A segment for a connection that does not exist is answered with an RST (RFC 9293 "
            "§3.10.7.1); a client's connect() fails at once with ECONNREFUSED.",
            "发往不存在连接的报文段会得到 RST 应答（RFC 9293 §3.10.7.1）；客户端的 connect() "
            "立即以 ECONNREFUSED 失败。",
        ),
        ("c:connect_refused", "c:closed_fictional"),
        "table",
        _changes(lambda t: {(S.CLOSED, E.RCV_SYN): (S.CLOSED, ())} if (S.CLOSED, E.RCV_SYN) in t else {}),
    ),
    Misconception(
        "m:rst_time_wait_ignored",
        text(
            "an RST never ends TIME_WAIT",
            "以为 RST 不能结束 TIME_WAIT",
        ),
        text(
            "RFC 9293 and Linux (tcp_rfc1337 = 0, the default) let an RST end TIME_WAIT early "
            '("TIME-WAIT assassination", RFC 1337); only tcp_rfc1337 = 1 ignores it.',
            "RFC 9293 和 Linux（默认 tcp_rfc1337 = 0）都允许 RST 提前结束 TIME_WAIT"
            "（RFC 1337 所说的“TIME-WAIT 暗杀”）；只有 tcp_rfc1337 = 1 时才忽略它。",
        ),
        ("c:rfc1337", "c:rst"),
        "table",
        _changes(lambda t: {(S.TIME_WAIT, E.RCV_RST): (S.TIME_WAIT, ())}),
    ),
    Misconception(
        "m:half_close_no_send",
        text(
            "no data can be sent after receiving a FIN",
            "以为收到 FIN 后就不能再发送数据",
        ),
        text(
            "A FIN closes one direction only: in CLOSE_WAIT the passive closer may keep sending "
            "until it calls close() itself (half-close).",
            "FIN 只关闭一个方向：被动关闭方在 CLOSE_WAIT 仍可继续发送数据，直到它自己调用 "
            "close()（半关闭）。",
        ),
        ("c:half_close", "c:why_four"),
        "table",
        _changes(lambda t: {(S.CLOSE_WAIT, E.SEND): None}),
    ),
    Misconception(
        "m:half_close_no_receive",
        text(
            "no data can be received after sending a FIN",
            "以为发出 FIN 后就不能再接收数据",
        ),
        text(
            "Our FIN closes only our sending direction: in FIN_WAIT_1 and FIN_WAIT_2 data from "
            "the peer is still delivered and ACKed.",
            "我方的 FIN 只关闭我方的发送方向：在 FIN_WAIT_1 和 FIN_WAIT_2 中，对方的数据照样被交付和确认。",
        ),
        ("c:half_close",),
        "table",
        _changes(lambda t: {(S.FIN_WAIT_2, E.RCV_DATA): None, (S.FIN_WAIT_1, E.RCV_DATA): None}),
    ),
    Misconception(
        "m:linux_follows_rfc",
        text("Linux does exactly what RFC 9293 says", "以为 Linux 完全按 RFC 9293 实现"),
        text(
            "Linux deviates on purpose in a few places: a fixed 60 s TIME_WAIT, a FIN_WAIT_2 "
            "timeout for orphans, RST on close() with unread data, the listener never leaving "
            "LISTEN, and SYN_RECEIVED → ESTABLISHED on a crossing SYN+ACK.",
            "Linux 在若干地方有意偏离 RFC：TIME_WAIT 固定 60 秒、孤儿 FIN_WAIT_2 有超时、"
            "带未读数据 close() 时发 RST、监听套接字始终停在 LISTEN、同时打开时收到交叉的 "
            "SYN+ACK 就从 SYN_RECEIVED 进入 ESTABLISHED。",
        ),
        ("c:rfc_vs_linux",),
        "table",
        _as_profile("rfc9293"),
    ),
    Misconception(
        "m:rfc_follows_linux",
        text("RFC 9293 specifies what Linux does", "以为 RFC 9293 规定的就是 Linux 的行为"),
        text(
            "The RFC is the reference; Linux's deviations (60 s TIME_WAIT, FIN_WAIT_2 timeout, "
            "request socks, ...) are implementation choices the RFC does not make.",
            "RFC 是基准；Linux 的偏离（60 秒 TIME_WAIT、FIN_WAIT_2 超时、请求套接字等）是实现上的"
            "选择，RFC 并未如此规定。",
        ),
        ("c:rfc_vs_linux",),
        "table",
        _as_profile("linux"),
    ),
    # Sequence-number arithmetic.
    Misconception(
        "m:fin_no_seq",
        text("a FIN consumes no sequence number", "以为 FIN 不消耗序号"),
        text(
            "A FIN occupies one sequence number, like a SYN: the ACK of a FIN with seq = u carries "
            "ack = u + 1.",
            "FIN 和 SYN 一样要占用一个序号：对 seq = u 的 FIN 的确认号是 ack = u + 1。",
        ),
        ("c:seq_ack",),
        "arith",
    ),
    Misconception(
        "m:syn_no_seq",
        text("a SYN consumes no sequence number", "以为 SYN 不消耗序号"),
        text(
            "A SYN occupies one sequence number: a SYN with seq = x is ACKed with ack = x + 1 and "
            "the first data byte has seq x + 1.",
            "SYN 占用一个序号：seq = x 的 SYN 的确认号是 ack = x + 1，第一个数据字节的序号是 x + 1。",
        ),
        ("c:seq_ack", "c:isn"),
        "arith",
    ),
    Misconception(
        "m:ack_is_seq",
        text(
            "the ack number repeats the received seq number",
            "以为确认号就是收到的序号",
        ),
        text(
            "The ack number is the next sequence number expected: received seq + length "
            "(+ 1 for a SYN or FIN).",
            "确认号是期望收到的下一个序号：收到的 seq 加上长度（SYN 或 FIN 再加 1）。",
        ),
        ("c:seq_ack",),
        "arith",
    ),
    Misconception(
        "m:data_plus_one",
        text("data is ACKed with seq + len + 1", "以为确认数据时还要再加 1"),
        text(
            "Only SYN and FIN take an extra sequence number; n data bytes starting at seq are ACKed "
            "with seq + n.",
            "只有 SYN 和 FIN 额外占用一个序号；从 seq 开始的 n 个数据字节的确认号是 seq + n。",
        ),
        ("c:seq_ack",),
        "arith",
    ),
    Misconception(
        "m:seq_ignores_data",
        text("sending data does not advance seq", "以为发送数据后序号不变"),
        text(
            "Each data byte takes one sequence number, so after n bytes the next segment's seq is n higher.",
            "每个数据字节占用一个序号，发送 n 个字节后，下一个报文段的 seq 增加 n。",
        ),
        ("c:seq_ack",),
        "arith",
    ),
    # Timers.
    Misconception(
        "m:time_wait_one_msl",
        text("TIME_WAIT lasts one MSL", "以为 TIME_WAIT 只持续 1 个 MSL"),
        text(
            "TIME_WAIT lasts 2 × MSL: one MSL for our last ACK to reach the peer and one for a "
            "resent FIN to come back.",
            "TIME_WAIT 持续 2MSL：一个 MSL 让最后的 ACK 到达对方，另一个 MSL 让重传的 FIN 返回。",
        ),
        ("c:two_msl", "c:time_wait"),
        "timer",
    ),
    Misconception(
        "m:linux_time_wait_from_msl",
        text(
            "Linux derives TIME_WAIT from an MSL (2 × 120 s)",
            "以为 Linux 的 TIME_WAIT 由 MSL 推出（2 × 120 秒）",
        ),
        text(
            "Linux's TIME_WAIT is a fixed 60 s (TCP_TIMEWAIT_LEN); there is no MSL setting.",
            "Linux 的 TIME_WAIT 固定为 60 秒（TCP_TIMEWAIT_LEN），没有 MSL 这个设置。",
        ),
        ("c:msl_values", "c:rfc_vs_linux"),
        "timer",
    ),
    Misconception(
        "m:fin_timeout_is_time_wait",
        text(
            "tcp_fin_timeout sets the TIME_WAIT length",
            "以为 tcp_fin_timeout 决定 TIME_WAIT 的长度",
        ),
        text(
            "net.ipv4.tcp_fin_timeout bounds an orphaned FIN_WAIT_2; TIME_WAIT stays 60 s whatever "
            "it is set to.",
            "net.ipv4.tcp_fin_timeout 限制的是孤儿 FIN_WAIT_2 的时长；无论它设为多少，TIME_WAIT 都是 60 秒。",
        ),
        ("c:fin_wait_2_timeout", "c:msl_values"),
        "timer",
    ),
    Misconception(
        "m:keepalive_probe_off_by_one",
        text(
            "the peer is declared dead at the last probe",
            "以为发出最后一个探测时就判定对方失效",
        ),
        text(
            "The first probe goes out after keepalive_time; the peer is declared dead one interval "
            "after the last unanswered probe: time + intvl × probes.",
            "第一个探测在 keepalive_time 后发出；最后一个探测无应答后再过一个间隔才判定失效："
            "time + intvl × probes。",
        ),
        ("c:keepalive",),
        "timer",
    ),
    Misconception(
        "m:keepalive_no_idle",
        text(
            "keepalive probes start at once",
            "以为保活探测立即开始",
        ),
        text(
            "Probes start only after the connection has been idle for tcp_keepalive_time "
            "(7200 s by default).",
            "只有连接空闲 tcp_keepalive_time（默认 7200 秒）之后才开始发送探测。",
        ),
        ("c:keepalive",),
        "timer",
    ),
    Misconception(
        "m:keepalive_idle_only",
        text(
            "the peer is declared dead when the idle time ends",
            "以为空闲时间一到就判定对方失效",
        ),
        text(
            "After the idle time the kernel sends probes, tcp_keepalive_probes of them "
            "tcp_keepalive_intvl apart, before it gives up.",
            "空闲时间到了之后内核还要发送 tcp_keepalive_probes 个探测，间隔 tcp_keepalive_intvl，"
            "都无应答才放弃。",
        ),
        ("c:keepalive",),
        "timer",
    ),
    Misconception(
        "m:fin_wait_2_forever",
        text("an orphaned FIN_WAIT_2 waits forever on Linux", "以为 Linux 上孤儿 FIN_WAIT_2 会永远等待"),
        text(
            "RFC 9293 has no FIN_WAIT_2 timer, but Linux closes an orphaned FIN_WAIT_2 (after "
            "close()) silently after tcp_fin_timeout (60 s by default).",
            "RFC 9293 没有 FIN_WAIT_2 计时器，但 Linux 会在 tcp_fin_timeout（默认 60 秒）后悄悄关闭"
            "孤儿 FIN_WAIT_2（已调用 close() 的连接）。",
        ),
        ("c:fin_wait_2_timeout", "c:rfc_vs_linux"),
        "timer",
    ),
    Misconception(
        "m:fin_wait_2_timeout_rst",
        text(
            "the FIN_WAIT_2 timeout sends an RST",
            "以为 FIN_WAIT_2 超时会发送 RST",
        ),
        text(
            "When tcp_fin_timeout expires the orphan is dropped silently: nothing is sent. The "
            "peer's next segment is then answered with an RST.",
            "tcp_fin_timeout 到期时孤儿连接被悄悄删除，不发送任何报文段；对方之后发来的报文段才会得到 RST。",
        ),
        ("c:fin_wait_2_timeout",),
        "timer",
    ),
    Misconception(
        "m:fin_wait_2_timeout_time_wait",
        text(
            "the FIN_WAIT_2 timeout leads to TIME_WAIT",
            "以为 FIN_WAIT_2 超时后进入 TIME_WAIT",
        ),
        text(
            "TIME_WAIT is entered only after the peer's FIN is ACKed; a FIN_WAIT_2 timeout means "
            "no FIN came, so the connection goes to CLOSED.",
            "只有确认了对方的 FIN 才进入 TIME_WAIT；FIN_WAIT_2 超时说明对方的 FIN 没来，连接直接进入 "
            "CLOSED。",
        ),
        ("c:fin_wait_2_timeout",),
        "timer",
    ),
    # Loss and recovery.
    Misconception(
        "m:ack_retransmitted",
        text("a lost ACK is retransmitted by its sender", "以为丢失的 ACK 会由发送方超时重传"),
        text(
            "A pure ACK is never acknowledged, so nobody can notice it was lost and it has no "
            "retransmission timer; the peer retransmits the segment the ACK was for.",
            "纯 ACK 不会被确认，发送方无从得知它丢了，也没有重传计时器；是对方重传那个未被确认的报文段。",
        ),
        ("c:retransmission", "c:lost_last_ack"),
        "fact",
    ),
    Misconception(
        "m:loss_stalls",
        text("a lost segment stalls the connection", "以为丢一个报文段连接就卡住了"),
        text(
            "Every SYN, FIN and data segment is retransmitted when its timer expires until it is "
            "ACKed; loss only delays the exchange.",
            "SYN、FIN 和数据报文段在超时后都会重传，直到被确认；丢失只会推迟交换。",
        ),
        ("c:retransmission",),
        "fact",
    ),
    Misconception(
        "m:one_side_retransmits",
        text(
            "only one side retransmits after a handshake or close segment is lost",
            "以为丢失一个报文段后只有一方会重传",
        ),
        text(
            "Each side retransmits its own unacknowledged segment when its own timer expires. When "
            "the SYN+ACK is lost, the client's SYN is unacknowledged too (the lost SYN+ACK carried "
            "its ACK), so both timers fire at the initial RTO: the client resends its SYN and the "
            "server its SYN+ACK.",
            "每一方在自己的计时器到期时重传自己尚未被确认的报文段。SYN+ACK 丢失时，客户端的 SYN "
            "同样没有被确认（对它的确认就在丢失的 SYN+ACK 里），所以两个计时器都在初始 RTO 到期："
            "客户端重传 SYN，服务器重传 SYN+ACK。",
        ),
        ("c:retransmission", "c:handshake"),
        "fact",
    ),
    Misconception(
        "m:receiver_requests_resend",
        text(
            "the receiver notices the loss and asks for a resend",
            "以为接收方会发现丢失并请求重传",
        ),
        text(
            "A receiver cannot notice a segment it never got; it is the sender's retransmission "
            "timer that fires.",
            "接收方无法察觉一个它从未收到的报文段；是发送方的重传计时器超时。",
        ),
        ("c:retransmission",),
        "fact",
    ),
    # RST scenarios outside the table.
    Misconception(
        "m:close_unread_sends_fin",
        text(
            "close() with unread data still sends a FIN on Linux",
            "以为在 Linux 上有未读数据时 close() 仍发送 FIN",
        ),
        text(
            "Linux answers close() with unread received data by an RST (RFC 2525 §2.17): the data "
            "would be lost, so the peer must learn it.",
            "Linux 在接收队列仍有未读数据时调用 close() 会发送 RST（RFC 2525 §2.17）：这些数据将被"
            "丢弃，必须让对方知道。",
        ),
        ("c:close_unread_data", "c:rfc_vs_linux"),
        "fact",
    ),
    Misconception(
        "m:tw_reuse_server",
        text(
            "tcp_tw_reuse helps a server accept connections",
            "以为 tcp_tw_reuse 能帮助服务器接受连接",
        ),
        text(
            "tcp_tw_reuse lets a new outgoing connect() reuse a four-tuple still in TIME_WAIT (with "
            "TCP timestamps); it does nothing for connections a server accepts.",
            "tcp_tw_reuse 只允许新的主动 connect() 复用仍处于 TIME_WAIT 的四元组（需要 TCP "
            "时间戳）；对服务器被动接受的连接没有作用。",
        ),
        ("c:tw_reuse",),
        "fact",
    ),
    Misconception(
        "m:tw_reuse_shortens",
        text(
            "tcp_tw_reuse shortens TIME_WAIT",
            "以为 tcp_tw_reuse 会缩短 TIME_WAIT",
        ),
        text(
            "TIME_WAIT still lasts 60 s on Linux; tcp_tw_reuse only lets connect() take over such a "
            "four-tuple safely, using timestamps to reject old duplicates.",
            "在 Linux 上 TIME_WAIT 仍是 60 秒；tcp_tw_reuse 只是允许 connect() 借助时间戳安全地接管"
            "这样的四元组。",
        ),
        ("c:tw_reuse", "c:time_wait_pileup"),
        "fact",
    ),
    Misconception(
        "m:so_reuseaddr_ends_time_wait",
        text(
            "SO_REUSEADDR ends or shortens TIME_WAIT",
            "以为 SO_REUSEADDR 会结束或缩短 TIME_WAIT",
        ),
        text(
            "SO_REUSEADDR only lets a restarted server bind() its well-known port while old connections "
            "on that port still sit in TIME_WAIT; those sockets keep waiting their full time.",
            "SO_REUSEADDR 只是让重启的服务器在旧连接仍处于 TIME_WAIT 时也能 bind() 原来的端口；"
            "那些 TIME_WAIT 套接字照样等满时长。",
        ),
        ("c:so_reuseaddr", "c:time_wait_pileup"),
        "fact",
    ),
    Misconception(
        "m:time_wait_client_only",
        text(
            "only clients ever wait in TIME_WAIT",
            "以为只有客户端才会进入 TIME_WAIT",
        ),
        text(
            "TIME_WAIT belongs to whichever side sent the first FIN. A server that closes its connections "
            "first keeps one TIME_WAIT socket per recently closed connection.",
            "TIME_WAIT 属于先发送 FIN 的一方。主动关闭连接的服务器，每关闭一条连接就会留下一个 "
            "TIME_WAIT 套接字。",
        ),
        ("c:time_wait", "c:time_wait_pileup"),
        "table",
    ),
    Misconception(
        "m:close_is_symmetric",
        text(
            "one FIN closes both directions",
            "以为一个 FIN 就关闭了两个方向",
        ),
        text(
            "TCP is full duplex; each direction is closed by its own FIN and that FIN's ACK, so a "
            "close takes four segments unless a FIN and an ACK share one.",
            "TCP 是全双工的；每个方向由各自的 FIN 及其 ACK 关闭，因此关闭需要四个报文段，除非 FIN "
            "与 ACK 合并在一个报文段里。",
        ),
        ("c:why_four", "c:half_close"),
        "fact",
    ),
)

BY_ID: dict[str, Misconception] = {m.id: m for m in CATALOGUE}
TABLE_MUTANTS: tuple[Misconception, ...] = tuple(m for m in CATALOGUE if m.rewrite is not None)


def get(misconception_id: str) -> Misconception:
    """The catalogue entry for ``misconception_id``."""
    return BY_ID[misconception_id]


@cache
def base_table(profile: Profile) -> Table:
    """The engine's table for ``profile`` as (state, event) → (next state, flags sent).

    Unguarded rows only (the endpoint facts of ``when`` are not known to a one-cell question).
    """
    table: Table = {}
    for state in State:
        for event in legal_events(state, profile):
            row = transition(state, event, profile)
            table[state, event] = (row.next_state, row.sends)
    return table


@cache
def mutant_table(misconception_id: str, profile: Profile) -> Table:
    """The table a student holding ``misconception_id`` believes in, under ``profile``."""
    rewrite = BY_ID[misconception_id].rewrite
    if rewrite is None:
        raise ValueError(f"{misconception_id} is not a table misconception")
    return rewrite(base_table(profile), profile)


@cache
def mutant_diffs(profile: Profile) -> dict[tuple[State, Event], tuple[tuple[str, Outcome | None], ...]]:
    """For every cell some table mutant changes: (misconception id, its outcome) pairs."""
    real = base_table(profile)
    found: dict[tuple[State, Event], list[tuple[str, Outcome | None]]] = {}
    for m in TABLE_MUTANTS:
        mutant = mutant_table(m.id, profile)
        for cell in set(real) | set(mutant):
            if mutant.get(cell) != real.get(cell):
                found.setdefault(cell, []).append((m.id, mutant.get(cell)))
    return {cell: tuple(pairs) for cell, pairs in found.items()}


@cache
def mutant_steps(profile: Profile) -> dict[tuple[State, State], str]:
    """For every change of state (before, after) a table mutant makes on some event: the first such
    misconception, in catalogue order. Graders name it when a student's order takes that step."""
    found: dict[tuple[State, State], str] = {}
    for m in TABLE_MUTANTS:
        for (before, _event), (after, _sends) in mutant_table(m.id, profile).items():
            found.setdefault((before, after), m.id)
    return found


def predict(misconception_id: str, state: State, event: Event, profile: Profile) -> Outcome | None:
    """What the mutant says ``event`` does in ``state`` (None: the mutant thinks it impossible)."""
    return mutant_table(misconception_id, profile).get((state, event))


def predict_path(
    misconception_id: str, start: State, events: Iterable[Event], profile: Profile
) -> tuple[State, ...]:
    """The states the mutant passes through from ``start`` on ``events``, each change once (stops
    where the mutant thinks an event impossible)."""
    table = mutant_table(misconception_id, profile)
    state = start
    path = [start]
    for event in events:
        row = table.get((state, event))
        if row is None:
            break
        if row[0] is not state:
            state = row[0]
            path.append(state)
    return tuple(path)


def path_predictors(
    start: State, events: Iterable[Event], profile: Profile, real: tuple[State, ...]
) -> dict[tuple[State, ...], str]:
    """Distinct wrong paths the table mutants predict for ``events``, each with its misconception."""
    event_list = tuple(events)
    wrong: dict[tuple[State, ...], str] = {}
    for m in TABLE_MUTANTS:
        path = predict_path(m.id, start, event_list, profile)
        if path != real and path not in wrong:
            wrong[path] = m.id
    return wrong


# --- Sequence arithmetic as the arith misconceptions see it. ---


@dataclass(frozen=True)
class SeqRules:
    """How many sequence numbers SYN, FIN and n data bytes take, as some student believes."""

    syn: int = 1
    fin: int = 1
    data_extra: int = 0  # added to every data length
    ack_offset_zero: bool = False  # ack = received seq (ack_is_seq)
    data_advances: bool = True


RULES: dict[str | None, SeqRules] = {
    None: SeqRules(),
    "m:fin_no_seq": SeqRules(fin=0),
    "m:syn_no_seq": SeqRules(syn=0),
    "m:ack_is_seq": SeqRules(ack_offset_zero=True),
    "m:data_plus_one": SeqRules(data_extra=1),
    "m:seq_ignores_data": SeqRules(data_advances=False),
}


def seq_length(rules: SeqRules, flags: Iterable[str], length: int) -> int:
    """Sequence numbers a segment with ``flags`` and ``length`` data bytes occupies under ``rules``."""
    flag_set = set(flags)
    used = rules.syn if "SYN" in flag_set else 0
    used += rules.fin if "FIN" in flag_set else 0
    if length:
        used += length + rules.data_extra
    return used


def misconception_names(ids: Iterable[str | None]) -> Text:
    """The names of ``ids`` (None skipped), joined per language."""
    found = [BY_ID[i] for i in ids if i is not None]
    return {
        "en": "; ".join(m.name["en"] for m in found),
        "zh-hans": "；".join(m.name["zh-hans"] for m in found),
    }
