"""Bilingual names: concept skills (docs/contracts.md), states (TCP.md §4) and events."""

# ruff: noqa: E501  (bilingual name tables read best one entry per line)
from __future__ import annotations

from questions.engine.core import Event, State

LANGS: tuple[str, ...] = ("en", "zh-hans")

# fmt: off
CONCEPTS: dict[str, dict[str, str]] = {
    "c:flags": {"en": "The TCP flags SYN, ACK, FIN, RST, PSH", "zh-hans": "TCP 标志位：同步位 SYN、确认位 ACK、终止位 FIN、复位位 RST、推送位 PSH"},
    "c:seq_ack": {"en": "Sequence and acknowledgment numbers", "zh-hans": "序号与确认号"},
    "c:isn": {"en": "The initial sequence number (ISN)", "zh-hans": "初始序号（ISN）"},
    "c:handshake": {"en": "The three-way handshake", "zh-hans": "三次握手（三报文握手）"},
    "c:socket_calls": {"en": "Socket calls and the states they cause", "zh-hans": "套接字调用与其引起的状态变化"},
    "c:why_three": {"en": "Why the handshake needs three segments", "zh-hans": "为什么握手需要三个报文段"},
    "c:sim_open": {"en": "Simultaneous open", "zh-hans": "同时打开"},
    "c:four_way_close": {"en": "The four-way close", "zh-hans": "四次挥手（连接释放）"},
    "c:half_close": {"en": "Half-close", "zh-hans": "半关闭"},
    "c:why_four": {"en": "Why closing takes four segments", "zh-hans": "为什么释放连接需要四个报文段"},
    "c:sim_close": {"en": "Simultaneous close", "zh-hans": "同时关闭"},
    "c:three_segment_close": {"en": "The three-segment close (FIN+ACK combined)", "zh-hans": "三报文段关闭（FIN 与 ACK 合并）"},
    "c:time_wait": {"en": "The TIME_WAIT state", "zh-hans": "时间等待（TIME-WAIT）状态"},
    "c:two_msl": {"en": "Why TIME_WAIT lasts 2MSL", "zh-hans": "为什么 TIME-WAIT 要等待 2MSL"},
    "c:msl_values": {"en": "MSL and TIME_WAIT durations: RFC vs Linux", "zh-hans": "MSL 与 TIME-WAIT 时长：RFC 与 Linux"},
    "c:lost_last_ack": {"en": "When the last ACK is lost", "zh-hans": "最后一个 ACK 丢失时"},
    "c:time_wait_pileup": {"en": "TIME_WAIT pile-up on busy hosts", "zh-hans": "繁忙主机上 TIME-WAIT 连接堆积"},
    "c:so_reuseaddr": {"en": "SO_REUSEADDR and binding during TIME_WAIT", "zh-hans": "SO_REUSEADDR 与 TIME-WAIT 期间的地址绑定"},
    "c:tw_reuse": {"en": "Reusing a TIME_WAIT connection (tcp_tw_reuse, new SYN)", "zh-hans": "复用 TIME-WAIT 连接（tcp_tw_reuse、新的 SYN）"},
    "c:rst": {"en": "The reset segment (RST)", "zh-hans": "复位报文段（RST）"},
    "c:abort": {"en": "Aborting a connection", "zh-hans": "异常终止（中止）连接"},
    "c:close_unread_data": {"en": "close() with unread data sends RST", "zh-hans": "有未读数据时 close() 发送 RST"},
    "c:connect_refused": {"en": "Connection refused", "zh-hans": "连接被拒绝"},
    "c:keepalive": {"en": "The keepalive timer", "zh-hans": "保活计时器"},
    "c:fin_wait_2_timeout": {"en": "The FIN_WAIT_2 timeout for orphaned sockets", "zh-hans": "孤儿套接字的 FIN-WAIT-2 超时"},
    "c:retransmission": {"en": "Retransmission timeout (RTO) and retries", "zh-hans": "超时重传（RTO）与重试次数"},
    "c:state_diagram": {"en": "The TCP state diagram", "zh-hans": "TCP 状态转换图"},
    "c:rfc_vs_linux": {"en": "RFC 9293 versus Linux", "zh-hans": "RFC 9293 与 Linux 的差异"},
    "c:rfc1337": {"en": "RST in TIME_WAIT and RFC 1337 (TIME-WAIT assassination)", "zh-hans": "TIME-WAIT 中的 RST 与 RFC 1337（TIME-WAIT 暗杀）"},
    "c:closed_fictional": {"en": "CLOSED is a fictional state (no TCB)", "zh-hans": "CLOSED 是一个虚构状态（没有 TCB）"},
}

STATE_NAMES: dict[State, dict[str, str]] = {
    State.CLOSED: {"en": "CLOSED", "zh-hans": "关闭"},
    State.LISTEN: {"en": "LISTEN", "zh-hans": "收听"},
    State.SYN_SENT: {"en": "SYN-SENT", "zh-hans": "同步已发送"},
    State.SYN_RECEIVED: {"en": "SYN-RECEIVED", "zh-hans": "同步收到"},
    State.ESTABLISHED: {"en": "ESTABLISHED", "zh-hans": "已建立连接"},
    State.FIN_WAIT_1: {"en": "FIN-WAIT-1", "zh-hans": "终止等待1"},
    State.FIN_WAIT_2: {"en": "FIN-WAIT-2", "zh-hans": "终止等待2"},
    State.CLOSE_WAIT: {"en": "CLOSE-WAIT", "zh-hans": "关闭等待"},
    State.CLOSING: {"en": "CLOSING", "zh-hans": "正在关闭"},
    State.LAST_ACK: {"en": "LAST-ACK", "zh-hans": "最后确认"},
    State.TIME_WAIT: {"en": "TIME-WAIT", "zh-hans": "时间等待"},
}

EVENT_NAMES: dict[Event, dict[str, str]] = {
    Event.LISTEN: {"en": "calls listen()", "zh-hans": "调用 listen()（被动打开）"},
    Event.CONNECT: {"en": "calls connect()", "zh-hans": "调用 connect()（主动打开）"},
    Event.ACCEPT: {"en": "calls accept()", "zh-hans": "调用 accept()"},
    Event.SEND: {"en": "calls send()", "zh-hans": "调用 send() 发送数据"},
    Event.RECV: {"en": "calls recv()", "zh-hans": "调用 recv() 读取数据"},
    Event.SHUTDOWN: {"en": "calls shutdown(SHUT_WR)", "zh-hans": "调用 shutdown(SHUT_WR)（半关闭）"},
    Event.CLOSE: {"en": "calls close()", "zh-hans": "调用 close()"},
    Event.ABORT: {"en": "aborts (SO_LINGER 0 + close())", "zh-hans": "异常终止（SO_LINGER 0 + close()）"},
    Event.RCV_SYN: {"en": "receives SYN", "zh-hans": "收到 SYN"},
    Event.RCV_SYN_ACK: {"en": "receives SYN+ACK", "zh-hans": "收到 SYN+ACK"},
    Event.RCV_ACK: {"en": "receives an ACK of everything sent", "zh-hans": "收到确认全部已发数据的 ACK"},
    Event.RCV_ACK_PARTIAL: {"en": "receives an ACK not yet covering everything sent", "zh-hans": "收到尚未确认全部已发数据的 ACK"},
    Event.RCV_BAD_ACK: {"en": "receives an unacceptable ACK", "zh-hans": "收到不可接受的 ACK"},
    Event.RCV_FIN: {"en": "receives FIN", "zh-hans": "收到 FIN"},
    Event.RCV_FIN_ACK: {"en": "receives FIN+ACK acknowledging its FIN", "zh-hans": "收到确认了己方 FIN 的 FIN+ACK"},
    Event.RCV_RST: {"en": "receives RST", "zh-hans": "收到 RST"},
    Event.RCV_DATA: {"en": "receives data", "zh-hans": "收到数据"},
    Event.TIMEOUT_RTO: {"en": "retransmission timer expires", "zh-hans": "超时重传计时器到期"},
    Event.TIMEOUT_TIME_WAIT: {"en": "TIME_WAIT (2MSL) timer expires", "zh-hans": "时间等待计时器（2MSL）到期"},
    Event.TIMEOUT_FIN_WAIT_2: {"en": "FIN_WAIT_2 timer expires", "zh-hans": "FIN-WAIT-2 计时器到期"},
    Event.TIMEOUT_KEEPALIVE: {"en": "keepalive timer expires", "zh-hans": "保活计时器到期"},
}

# fmt: on


def state_label(state: State, lang: str = "en") -> str:
    """A state as shown to students: "TIME_WAIT" or "TIME_WAIT 时间等待"."""
    if lang == "zh-hans":
        return f"{state.name} {STATE_NAMES[state]['zh-hans']}"
    return state.name
