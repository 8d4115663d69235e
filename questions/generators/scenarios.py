"""Two-endpoint scenarios for the families: run a short script on the engine's Simulation and read
back every table row fired, every segment (with its fate), the states each side passed and the
errors the applications saw. Also the sequence arithmetic as the ``arith`` misconceptions see it.

A script is plain JSON (a list of lists) so it can live in a variant's params:
``["listen", 1]``, ``["connect", 0]``, ``["accept", 1]``, ``["send", 0, 100]``, ``["recv", 1]``,
``["close", 0]``, ``["shutdown", 0]``, ``["abort", 0]``, ``["hold"]``, ``["auto"]``,
``["deliver", 0]``, ``["drop", 1]``, ``["deliver_all"]``, ``["advance", 1.5]``,
``["inject", 0, ["RST"], seq, ack]`` (0/1 = the first/second endpoint).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from questions.engine import PROFILES, Event, Profile, State, Transition, profile
from questions.engine.core import flag_names
from questions.engine.simulation import Simulation
from questions.generators.base import JSON, Text, fmt, text
from questions.generators.misconceptions import RULES, SeqRules

MOD = 1 << 32
Script = tuple[tuple[Any, ...], ...]

NAMES: tuple[str, str] = ("client", "server")
NAME_TEXT: dict[str, Text] = {
    "client": text("the client", "客户端"),
    "server": text("the server", "服务器"),
    "A": text("A", "A"),
    "B": text("B", "B"),
}
CAP_NAME_TEXT: dict[str, Text] = {
    "client": text("The client", "客户端"),
    "server": text("The server", "服务器"),
    "A": text("A", "A"),
    "B": text("B", "B"),
}


@dataclass(frozen=True)
class Seg:
    """One segment as it went over the wire: number (1-based, send order), sender index, fate."""

    n: int
    src: int
    flags: tuple[str, ...]
    seq: int
    ack: int | None
    length: int
    fate: str  # delivered | dropped | held
    time: float
    cause: Transition | None = None  # the sender's last row before it was sent
    states: tuple[State, State] = (State.CLOSED, State.CLOSED)  # both sides' states as it left

    @property
    def label(self) -> str:
        """ "SYN+ACK" (flags in canonical order)."""
        return "+".join(self.flags)


@dataclass(frozen=True)
class Step:
    """One table row that fired at endpoint ``who``."""

    who: int
    row: Transition
    before: State
    after: State
    time: float


@dataclass(frozen=True)
class Run:
    """What a script did: rows fired, segments sent, each side's path of states, final errors."""

    names: tuple[str, str]
    profile: Profile
    isn: tuple[int, int]
    steps: tuple[Step, ...]
    segments: tuple[Seg, ...]
    paths: tuple[tuple[State, ...], tuple[State, ...]]
    final: tuple[State, State]
    errors: tuple[str | None, str | None]
    events: tuple[tuple[Event, ...], tuple[Event, ...]]

    def rows(self, who: int | None = None) -> tuple[Transition, ...]:
        """The rows fired (at ``who`` only when given), in order."""
        return tuple(s.row for s in self.steps if who is None or s.who == who)

    def visited(self, who: int) -> frozenset[State]:
        """Every state ``who`` was in."""
        return frozenset(self.paths[who])


def profile_for(name: str, options: Mapping[str, JSON] | None = None) -> Profile:
    """The named profile, with ``options`` when given (cached: profiles are built once)."""
    if not options:
        return PROFILES[name]
    return _profile(name, tuple(sorted(options.items())))


@lru_cache(maxsize=256)
def _profile(name: str, options: tuple[tuple[str, Any], ...]) -> Profile:
    return profile(name, **dict(options))


def run(
    script: Sequence[Sequence[Any]],
    prof: Profile,
    isn: tuple[int, int],
    names: tuple[str, str] = NAMES,
) -> Run:
    """Run ``script`` on a fresh simulation (wire "auto" until a ``hold``) and read the trace."""
    sim = Simulation(prof, names, isn={names[0]: isn[0], names[1]: isn[1]})
    for op in script:
        _apply(sim, names, op)
    return _read(sim, prof, names, isn)


def memo_run(
    script: Sequence[Sequence[Any]],
    prof: Profile,
    isn: tuple[int, int] = (1000, 5000),
    names: tuple[str, str] = NAMES,
) -> Run:
    """``run`` cached by content: the same script, profile and ISNs are simulated once per process."""
    frozen = tuple(tuple(tuple(x) if isinstance(x, list) else x for x in op) for op in script)
    return _memo_run(frozen, prof, isn, names)


@lru_cache(maxsize=8192)
def _memo_run(script: Script, prof: Profile, isn: tuple[int, int], names: tuple[str, str]) -> Run:
    return run(script, prof, isn, names)


def _apply(sim: Simulation, names: tuple[str, str], op: Sequence[Any]) -> None:
    kind = op[0]
    if kind == "hold":
        sim.set_wire("hold")
    elif kind == "auto":
        sim.set_wire("auto")
    elif kind == "deliver":
        sim.deliver(names[op[1]])
    elif kind == "drop":
        sim.drop(names[op[1]])
    elif kind == "deliver_all":
        sim.deliver_all()
    elif kind == "advance":
        sim.advance(float(op[1]))
    elif kind == "inject":
        sim.inject(names[op[1]], list(op[2]), int(op[3]), None if op[4] is None else int(op[4]))
    elif kind == "send":
        sim.send(names[op[1]], int(op[2]))
    else:
        sim.call(names[op[1]], _CALLS[kind])


_CALLS: dict[str, Event] = {
    "listen": Event.LISTEN,
    "connect": Event.CONNECT,
    "accept": Event.ACCEPT,
    "recv": Event.RECV,
    "shutdown": Event.SHUTDOWN,
    "close": Event.CLOSE,
    "abort": Event.ABORT,
}


def _read(sim: Simulation, prof: Profile, names: tuple[str, str], isn: tuple[int, int]) -> Run:
    fates: dict[int, str] = {}
    sent: list[Any] = []
    times: dict[int, float] = {}
    causes: dict[int, Transition | None] = {}
    last_row: list[Transition | None] = [None, None]
    current: list[State] = [State.CLOSED, State.CLOSED]
    at_send: dict[int, tuple[State, State]] = {}
    steps: list[Step] = []
    errors: list[str | None] = [None, None]
    for entry in sim.trace:
        kind = entry[0]
        if kind == "send":
            seg = entry[2]
            sent.append(seg)
            fates[seg.id] = "held"
            times[seg.id] = entry[1]
            causes[seg.id] = last_row[seg.src]
            at_send[seg.id] = (current[0], current[1])
        elif kind == "deliver":
            fates[entry[2].id] = "delivered"
        elif kind == "drop":
            fates[entry[2].id] = "dropped"
        elif kind == "step":
            steps.append(Step(entry[2], entry[3], entry[4], entry[5], entry[1]))
            last_row[entry[2]] = entry[3]
            current[entry[2]] = entry[5]
        elif kind == "error":
            errors[entry[2]] = entry[3]
    segments = tuple(
        Seg(
            i,
            s.src,
            flag_names(s.flags),
            s.seq,
            s.ack,
            s.length,
            fates[s.id],
            times[s.id],
            causes[s.id],
            at_send[s.id],
        )
        for i, s in enumerate(sent, 1)
    )
    paths: list[list[State]] = [[State.CLOSED], [State.CLOSED]]
    events: list[list[Event]] = [[], []]
    for st in steps:
        events[st.who].append(st.row.event)
        if st.after is not paths[st.who][-1]:
            paths[st.who].append(st.after)
    a, b = sim.endpoints
    return Run(
        names=names,
        profile=prof,
        isn=isn,
        steps=tuple(steps),
        segments=segments,
        paths=(tuple(paths[0]), tuple(paths[1])),
        final=(a.state, b.state),
        errors=(errors[0], errors[1]),
        events=(tuple(events[0]), tuple(events[1])),
    )


# --------------------------------------------------------------------------- common scripts


def handshake(active: int = 0) -> list[list[Any]]:
    """listen at the passive side, connect at the active side, accept."""
    passive = 1 - active
    return [["listen", passive], ["connect", active], ["accept", passive]]


def orderly_close(first: int = 0) -> list[list[Any]]:
    """``first`` closes, the other side closes after the FIN arrived (four-way close)."""
    return [["close", first], ["close", 1 - first]]


def simultaneous_close() -> list[list[Any]]:
    """Both sides close before either FIN arrives; then the wire delivers everything."""
    return [["hold"], ["close", 0], ["close", 1], ["deliver_all"], ["auto"]]


def three_segment_close(first: int = 0) -> list[list[Any]]:
    """``first`` closes; the peer ACKs and closes, its bare ACK is lost, its FIN+ACK arrives."""
    other = 1 - first
    return [
        ["hold"],
        ["close", first],
        ["deliver", first],
        ["close", other],
        ["drop", other],
        ["deliver", other],
        ["auto"],
    ]


def simultaneous_open() -> list[list[Any]]:
    """Both sides connect before either SYN arrives."""
    return [["hold"], ["connect", 0], ["connect", 1], ["deliver_all"], ["auto"]]


# --------------------------------------------------------------------------- arithmetic


@dataclass(frozen=True)
class _Item:
    """A stretch of sequence space an endpoint sent: SYN, data and/or FIN, at offset ``start``."""

    start: int
    syn: bool
    length: int
    fin: bool

    @property
    def end(self) -> int:
        return self.start + int(self.syn) + self.length + int(self.fin)


def _items(run: Run, who: int) -> list[_Item]:
    """The first transmission of every stretch ``who`` sent, as offsets from its ISN."""
    found: dict[int, _Item] = {}
    for seg in run.segments:
        if seg.src != who or "RST" in seg.flags:
            continue
        syn, fin = "SYN" in seg.flags, "FIN" in seg.flags
        if not (syn or fin or seg.length):
            continue
        start = (seg.seq - run.isn[who]) % MOD
        if start not in found:
            found[start] = _Item(start, syn, seg.length, fin)
    return sorted(found.values(), key=lambda i: i.start)


def _span(item: _Item, rules: SeqRules) -> int:
    data = item.length + (rules.data_extra if item.length else 0) if rules.data_advances else 0
    return rules.syn * int(item.syn) + data + rules.fin * int(item.fin)


def _believed(items: Sequence[_Item], offset: int, rules: SeqRules) -> tuple[int, int | None]:
    """(believed offset, start of the last stretch covered) for the real ``offset``."""
    total = 0
    last: int | None = None
    for item in items:
        if item.end <= offset:
            total += _span(item, rules)
            last = item.start
    return total, last


def believed_numbers(run: Run, misconception_id: str) -> list[tuple[int, int | None]]:
    """Each segment's (seq, ack) as a student holding ``misconception_id`` would compute them.

    Segments a misconception does not touch keep their real numbers; RST replies are never touched.
    """
    rules = RULES[misconception_id]
    items = (_items(run, 0), _items(run, 1))
    out: list[tuple[int, int | None]] = []
    for seg in run.segments:
        if "RST" in seg.flags:
            out.append((seg.seq, seg.ack))
            continue
        me, peer = seg.src, 1 - seg.src
        offset = (seg.seq - run.isn[me]) % MOD
        seq_total, _ = _believed(items[me], offset, rules)
        seq = (run.isn[me] + seq_total) % MOD if offset < 1 << 30 else seg.seq
        ack: int | None = seg.ack
        if seg.ack is not None:
            ack_offset = (seg.ack - run.isn[peer]) % MOD
            if ack_offset < 1 << 30:
                ack_total, last = _believed(items[peer], ack_offset, rules)
                if rules.ack_offset_zero:
                    ack = seg.ack if last is None else (run.isn[peer] + last) % MOD
                else:
                    ack = (run.isn[peer] + ack_total) % MOD
        out.append((seq, ack))
    return out


def arith_misconceptions() -> tuple[str, ...]:
    """The ids of the arithmetic misconceptions, in catalogue order."""
    return tuple(k for k in RULES if k is not None)


# --------------------------------------------------------------------------- wording


def who_text(run: Run, who: int, cap: bool = False) -> Text:
    """ "the client" / "客户端" for endpoint ``who``."""
    name = run.names[who]
    return (CAP_NAME_TEXT if cap else NAME_TEXT).get(name, text(name, name))


def segment_text(seg: Seg, run: Run, numbers: bool = True) -> Text:
    """ "client → server SYN seq=100" (ack and len when set)."""
    parts = [seg.label]
    if numbers:
        parts.append(f"seq={seg.seq}")
        if seg.ack is not None:
            parts.append(f"ack={seg.ack}")
    if seg.length:
        parts.append(f"len={seg.length}")
    body = " ".join(parts)
    line = fmt(
        text("{a} → {b}: {s}", "{a} → {b}：{s}"),
        a=who_text(run, seg.src),
        b=who_text(run, 1 - seg.src),
        s=body,
    )
    if seg.fate == "dropped":
        line = fmt(text("{l} (lost)", "{l}（丢失）"), l=line)
    return line


_OP_TEXT: dict[str, Text] = {
    "listen": text("{w} calls listen()", "{w}调用 listen()"),
    "connect": text("{w} calls connect()", "{w}调用 connect()"),
    "accept": text("{w} calls accept()", "{w}调用 accept()"),
    "send": text("{w} sends {n} bytes", "{w}发送 {n} 字节数据"),
    "recv": text("{w} reads what it received", "{w}读取收到的数据"),
    "close": text("{w} calls close()", "{w}调用 close()"),
    "shutdown": text("{w} calls shutdown(SHUT_WR)", "{w}调用 shutdown(SHUT_WR)"),
    "abort": text(
        "{w} aborts the connection (SO_LINGER 0 + close())", "{w}异常终止连接（SO_LINGER 0 + close()）"
    ),
    "hold": text("segments now stay in flight", "此后报文段暂留在网络中"),
    "auto": text("the network delivers everything in flight", "网络交付所有在途报文段"),
    "deliver": text("{w}'s oldest segment in flight arrives", "{w}最早的在途报文段到达"),
    "drop": text("{w}'s oldest segment in flight is lost", "{w}最早的在途报文段丢失"),
    "deliver_all": text("every segment in flight arrives", "所有在途报文段都到达"),
    "advance": text("{n} s pass", "经过 {n} 秒"),
}


def describe(script: Sequence[Sequence[Any]], run: Run) -> list[Text]:
    """The script's operations in words, one line each (inject is described by its caller)."""
    lines: list[Text] = []
    for op in script:
        kind = op[0]
        template = _OP_TEXT.get(kind)
        if template is None:
            continue
        who = who_text(run, op[1]) if len(op) > 1 and kind not in ("advance",) else text("", "")
        n = op[2] if kind == "send" else (op[1] if kind == "advance" else "")
        line = fmt(template, w=who, n=n)
        lines.append({k: v[:1].upper() + v[1:] for k, v in line.items()})
    return lines


# --------------------------------------------------------------------------- the scenario catalogue

END = ["advance", 1000]  # long enough for every TIME_WAIT (RFC 9293's default is 240 s) to run out


SYMMETRIC = frozenset({"sim_close", "sim_open_close"})  # scenarios where nobody acts first


def script_for(name: str, first: int = 0, data: Sequence[Sequence[int]] = ()) -> list[list[Any]]:
    """The script of a named scenario; ``first`` is the side that acts first (closes, aborts, ...)."""
    other = 1 - first
    body: list[list[Any]] = []
    for who, nbytes in data:
        body += [["send", who, nbytes], ["recv", 1 - who]]
    if name == "open_close":
        return [*handshake(0), *body, *orderly_close(first), END]
    if name == "sim_open":
        return [*simultaneous_open(), *body, *orderly_close(first), END]
    if name == "sim_close":
        return [*handshake(0), *body, *simultaneous_close(), END]
    if name == "three_seg":
        return [*handshake(0), *body, *three_segment_close(first), END]
    if name == "sim_open_close":
        return [*simultaneous_open(), *body, *simultaneous_close(), END]
    if name == "half_close":
        return [
            *handshake(0),
            ["shutdown", first],
            ["send", other, 100],
            ["recv", first],
            ["close", other],
            ["close", first],
            END,
        ]
    if name == "abort":
        return [*handshake(0), *body, ["abort", first], END]
    if name == "refused":
        return [["connect", 0], END]
    raise KeyError(name)


SCENARIO_TEXT: dict[str, Text] = {
    "open_close": text(
        "The server listens, the client connects, {f} closes first and {o} closes once the FIN has arrived.",
        "服务器监听，客户端发起连接；{f}先关闭，{o}在收到 FIN 后也关闭。",
    ),
    "sim_open": text(
        "Both sides call connect() towards each other at the same moment (their SYNs cross); later "
        "{f} closes first and {o} closes once the FIN has arrived.",
        "双方同时向对方调用 connect()（两个 SYN 在网络中交叉）；之后{f}先关闭，{o}在收到 FIN 后也关闭。",
    ),
    "sim_close": text(
        "The server listens, the client connects; later both sides call close() at the same moment "
        "(their FINs cross).",
        "服务器监听，客户端发起连接；之后双方同时调用 close()（两个 FIN 在网络中交叉）。",
    ),
    "three_seg": text(
        "The server listens, the client connects; then {f} closes first, and {o} ACKs that FIN and "
        "closes at once; its bare ACK is lost, so {f} receives a FIN+ACK that also acknowledges its own FIN.",
        "服务器监听，客户端发起连接；{f}先关闭。{o}确认该 FIN 后立即关闭；它单独的 ACK 丢失了，"
        "于是{f}收到的是同时确认了自己 FIN 的 FIN+ACK。",
    ),
    "sim_open_close": text(
        "Both sides call connect() at the same moment (their SYNs cross); later both call close() at "
        "the same moment (their FINs cross).",
        "双方同时调用 connect()（SYN 交叉）；之后双方又同时调用 close()（FIN 交叉）。",
    ),
    "half_close": text(
        "The server listens, the client connects; then {f} calls shutdown(SHUT_WR), {o} still sends "
        "100 bytes, which {f} reads, then {o} closes, and finally {f} closes.",
        "服务器监听，客户端发起连接。{f}调用 shutdown(SHUT_WR)；{o}仍发送 100 字节数据，{f}读取之；"
        "随后{o}关闭，最后{f}关闭。",
    ),
    "abort": text(
        "The server listens, the client connects; then {f} aborts the connection (SO_LINGER 0 + close()).",
        "服务器监听，客户端发起连接；随后{f}异常终止连接（SO_LINGER 0 + close()）。",
    ),
    "refused": text(
        "The client connects to a port on which nothing listens.",
        "客户端向一个没有进程监听的端口发起连接。",
    ),
}

SCENARIO_CONCEPTS: dict[str, tuple[str, ...]] = {
    "open_close": ("c:handshake", "c:four_way_close"),
    "sim_open": ("c:sim_open", "c:four_way_close"),
    "sim_close": ("c:sim_close",),
    "three_seg": ("c:three_segment_close",),
    "sim_open_close": ("c:sim_open", "c:sim_close"),
    "half_close": ("c:half_close", "c:four_way_close"),
    "abort": ("c:abort", "c:rst"),
    "refused": ("c:connect_refused", "c:rst"),
}


def scenario_text(name: str, first: int, names: tuple[str, str] = NAMES) -> Text:
    """The scenario told in words, naming who acts first."""
    f = NAME_TEXT.get(names[first], text(names[first], names[first]))
    o = NAME_TEXT.get(names[1 - first], text(names[1 - first], names[1 - first]))
    line = fmt(SCENARIO_TEXT[name], f=f, o=o)
    return {k: v[:1].upper() + v[1:] for k, v in line.items()}


@lru_cache(maxsize=4096)
def cached_run(
    name: str,
    first: int,
    profile_name: str,
    isn: tuple[int, int] = (1000, 5000),
    data: tuple[tuple[int, int], ...] = (),
) -> Run:
    """A named scenario's run (cached: the same scenario is simulated once per process)."""
    return run(script_for(name, first, data), PROFILES[profile_name], isn)
