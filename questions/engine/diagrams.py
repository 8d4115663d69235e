"""Diagrams as SVG text: the classic state diagram (from the table) and ladder diagrams (from traces).

Pure functions: no I/O, no external resources (fonts are generic families, markers are inline).
Each SVG has role="img", a <title> and a <desc> that says in words what the picture shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from questions.engine.concepts import STATE_NAMES
from questions.engine.core import Event, State, Transition
from questions.engine.profiles import RFC9293, Profile, transitions

_LANGS = ("en", "zh-hans")

# The textbook layout (RFC 793 Figure 6 / RFC 9293 Figure 5, Stevens): CLOSED on top, the
# active-close column on the left, the passive-close column on the right. CLOSED is drawn twice,
# as in the textbooks: arcs that end a connection go to the copy at the bottom.
_POSITIONS: dict[str, tuple[int, int]] = {
    "CLOSED": (480, 60),
    "LISTEN": (480, 180),
    "SYN_RECEIVED": (190, 300),
    "SYN_SENT": (770, 300),
    "ESTABLISHED": (480, 420),
    "FIN_WAIT_1": (190, 550),
    "CLOSING": (480, 620),
    "CLOSE_WAIT": (770, 550),
    "FIN_WAIT_2": (190, 720),
    "TIME_WAIT": (480, 790),
    "LAST_ACK": (770, 720),
    "CLOSED_END": (770, 860),
}
_BOX_W, _BOX_H = 190, 54
_FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif"
_LOWER = frozenset(
    {
        State.ESTABLISHED,
        State.FIN_WAIT_1,
        State.FIN_WAIT_2,
        State.CLOSE_WAIT,
        State.CLOSING,
        State.LAST_ACK,
        State.TIME_WAIT,
    }
)

# The arcs of the textbook figure (RFC 9293 Figure 5 and notes 1-3).
TEXTBOOK_ARCS: tuple[tuple[str, State], ...] = (
    ("t:CLOSED:listen", State.LISTEN),
    ("t:CLOSED:connect", State.SYN_SENT),
    ("t:LISTEN:rcv_syn", State.SYN_RECEIVED),
    ("t:LISTEN:connect", State.SYN_SENT),
    ("t:LISTEN:close", State.CLOSED),
    ("t:SYN_SENT:rcv_syn", State.SYN_RECEIVED),
    ("t:SYN_SENT:rcv_syn_ack", State.ESTABLISHED),
    ("t:SYN_SENT:close", State.CLOSED),
    ("t:SYN_RECEIVED:rcv_ack", State.ESTABLISHED),
    ("t:SYN_RECEIVED:close", State.FIN_WAIT_1),
    ("t:SYN_RECEIVED:rcv_rst", State.LISTEN),
    ("t:ESTABLISHED:close", State.FIN_WAIT_1),
    ("t:ESTABLISHED:rcv_fin", State.CLOSE_WAIT),
    ("t:FIN_WAIT_1:rcv_ack", State.FIN_WAIT_2),
    ("t:FIN_WAIT_1:rcv_fin", State.CLOSING),
    ("t:FIN_WAIT_1:rcv_fin_ack", State.TIME_WAIT),
    ("t:FIN_WAIT_2:rcv_fin", State.TIME_WAIT),
    ("t:CLOSING:rcv_ack", State.TIME_WAIT),
    ("t:CLOSE_WAIT:close", State.LAST_ACK),
    ("t:LAST_ACK:rcv_ack", State.CLOSED),
    ("t:TIME_WAIT:timeout_time_wait", State.CLOSED),
)
# Where along its curve an arc's label sits (0.5 = the middle), to keep labels apart.
_LABEL_AT: dict[tuple[str, str], float] = {
    ("CLOSED", "SYN_SENT"): 0.42,
    ("SYN_SENT", "CLOSED"): 0.7,
    ("LISTEN", "SYN_SENT"): 0.62,
    ("SYN_SENT", "ESTABLISHED"): 0.35,
    ("ESTABLISHED", "FIN_WAIT_1"): 0.35,
    ("FIN_WAIT_1", "TIME_WAIT"): 0.6,
    ("FIN_WAIT_1", "CLOSING"): 0.5,
    ("LISTEN", "SYN_RECEIVED"): 0.55,
}

_EVENT_SHORT: dict[Event, dict[str, str]] = {
    Event.LISTEN: {"en": "listen", "zh-hans": "被动打开"},
    Event.CONNECT: {"en": "connect", "zh-hans": "主动打开"},
    Event.ACCEPT: {"en": "accept", "zh-hans": "accept"},
    Event.SEND: {"en": "send", "zh-hans": "发送数据"},
    Event.RECV: {"en": "recv", "zh-hans": "读取数据"},
    Event.SHUTDOWN: {"en": "shutdown", "zh-hans": "半关闭"},
    Event.CLOSE: {"en": "close", "zh-hans": "关闭"},
    Event.ABORT: {"en": "abort", "zh-hans": "异常终止"},
    Event.RCV_SYN: {"en": "rcv SYN", "zh-hans": "收到 SYN"},
    Event.RCV_SYN_ACK: {"en": "rcv SYN+ACK", "zh-hans": "收到 SYN+ACK"},
    Event.RCV_ACK: {"en": "rcv ACK", "zh-hans": "收到 ACK"},
    Event.RCV_ACK_PARTIAL: {"en": "rcv partial ACK", "zh-hans": "收到部分确认"},
    Event.RCV_BAD_ACK: {"en": "rcv bad ACK", "zh-hans": "收到错误 ACK"},
    Event.RCV_FIN: {"en": "rcv FIN", "zh-hans": "收到 FIN"},
    Event.RCV_FIN_ACK: {"en": "rcv FIN+ACK", "zh-hans": "收到 FIN+ACK"},
    Event.RCV_RST: {"en": "rcv RST", "zh-hans": "收到 RST"},
    Event.RCV_DATA: {"en": "rcv data", "zh-hans": "收到数据"},
    Event.TIMEOUT_RTO: {"en": "RTO", "zh-hans": "超时重传"},
    Event.TIMEOUT_TIME_WAIT: {"en": "2MSL timeout", "zh-hans": "2MSL 超时"},
    Event.TIMEOUT_FIN_WAIT_2: {"en": "FIN_WAIT_2 timeout", "zh-hans": "FIN-WAIT-2 超时"},
    Event.TIMEOUT_KEEPALIVE: {"en": "keepalive", "zh-hans": "保活超时"},
}

_TEXT: dict[str, dict[str, str]] = {
    "send": {"en": "snd", "zh-hans": "发送"},
    "state_title": {"en": "TCP connection state diagram", "zh-hans": "TCP 连接状态转换图"},
    "state_desc": {
        "en": "The TCP state machine: CLOSED at the top, LISTEN below it, SYN_RECEIVED and SYN_SENT, "
        "ESTABLISHED in the centre, the active-close states FIN_WAIT_1, FIN_WAIT_2, CLOSING and "
        "TIME_WAIT on the left and bottom, the passive-close states CLOSE_WAIT and LAST_ACK on the "
        "right. CLOSED is drawn again at the bottom right. Each arrow is labelled event / segment sent.",
        "zh-hans": "TCP 状态机：顶部为 CLOSED（关闭），其下为 LISTEN（收听），然后是 SYN_RECEIVED 与 "
        "SYN_SENT，中央为 ESTABLISHED（已建立连接）；左侧与下方为主动关闭的状态 FIN_WAIT_1、"
        "FIN_WAIT_2、CLOSING、TIME_WAIT，右侧为被动关闭的状态 CLOSE_WAIT 与 LAST_ACK。右下角再画了一次 "
        "CLOSED。每条箭头标注为“事件 / 发送的报文段”。",
    },
    "highlighted": {"en": "Highlighted path", "zh-hans": "高亮路径"},
    "ladder_title": {"en": "Ladder diagram of a TCP exchange", "zh-hans": "TCP 报文交换时序图"},
    "ladder_desc": {
        "en": "Time runs downwards. Each arrow is a segment with its flags and sequence (seq) and "
        "acknowledgment (ack) numbers; each side's state is written beside its line at every step.",
        "zh-hans": "时间自上而下。每个箭头是一个报文段，标出标志位、序号 seq 与确认号 ack；"
        "每一步都在两侧竖线旁写出该端的状态。",
    },
    "dropped": {"en": "lost", "zh-hans": "丢失"},
    "held": {"en": "in flight", "zh-hans": "在途"},
    "injected": {"en": "injected", "zh-hans": "伪造"},
    "step": {"en": "step", "zh-hans": "步骤"},
    "steps": {"en": "steps", "zh-hans": "步"},
    "segment": {"en": "segment", "zh-hans": "报文段"},
    "from": {"en": "from", "zh-hans": "从"},
    "to": {"en": "to", "zh-hans": "到"},
}


def _lang(lang: str) -> str:
    if lang not in _LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of: {', '.join(_LANGS)}")
    return lang


def _state_label(state: State, lang: str) -> str:
    if lang == "zh-hans":
        return f"{state.name} {STATE_NAMES[state]['zh-hans']}"
    return state.name


def arc_label(row: Transition, lang: str = "en") -> str:
    """The label of an arc: "rcv FIN / snd ACK" (or in Chinese)."""
    event = _EVENT_SHORT[row.event][_lang(lang)]
    if not row.sends:
        return event
    return f"{event} / {_TEXT['send'][lang]} {'+'.join(row.sends)}"


def _edge_point(cx: float, cy: float, tx: float, ty: float) -> tuple[float, float]:
    """Where the line from a box centre towards (tx, ty) leaves the box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (_BOX_W / 2) / abs(dx) if dx else math.inf,
        (_BOX_H / 2) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def _node_key(state: State, as_target: bool, source: State | None) -> str:
    if state is State.CLOSED and as_target and source in _LOWER:
        return "CLOSED_END"
    return state.name


def state_diagram_svg(
    *,
    highlight: Sequence[str] = (),
    lang: str = "en",
    profile: Profile = RFC9293,
    arcs: str = "textbook",
    id_prefix: str = "tcp-states",
) -> str:
    """The classic TCP state diagram as SVG, arcs drawn from the table.

    ``highlight`` lists transition ids (``"t:CLOSED:connect"``) to emphasise (thicker, coloured,
    bold label, and named in the description). ``arcs`` is "textbook" (the arcs of RFC 9293
    Figure 5 plus any highlighted ones) or "all" (every state-changing row of ``profile``).
    """
    lang = _lang(lang)
    if arcs not in ("textbook", "all"):
        raise ValueError("arcs must be 'textbook' or 'all'")
    wanted = set(highlight)
    textbook = set(TEXTBOOK_ARCS)
    chosen: list[Transition] = []
    for row in transitions(profile):
        moves = row.next_state is not row.state
        if arcs == "all":
            take = moves or row.id in wanted
        else:
            take = (row.id, row.next_state) in textbook or (row.id in wanted and row.when is None)
        if take and not any(r.id == row.id and r.next_state is row.next_state for r in chosen):
            chosen.append(row)
    # One arrow per (from, to) pair; its label lists every row on it.
    grouped: dict[tuple[str, str], list[Transition]] = {}
    for row in chosen:
        key = (_node_key(row.state, False, None), _node_key(row.next_state, True, row.state))
        grouped.setdefault(key, []).append(row)

    title = _TEXT["state_title"][lang]
    desc = _TEXT["state_desc"][lang]
    path_rows = [r for r in chosen if r.id in wanted]
    if path_rows:
        steps = "; ".join(f"{r.state.name} → {r.next_state.name} ({arc_label(r, lang)})" for r in path_rows)
        desc += f" {_TEXT['highlighted'][lang]}: {steps}."
    width, height = 960, 910
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" '
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif\">",
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(desc)}</desc>',
        "<defs>",
        f'<marker id="{id_prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" '
        'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker>',
        f'<marker id="{id_prefix}-arrow-hl" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="14" '
        'markerHeight="14" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#b03a00"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    highlighted_states = {r.state.name for r in path_rows} | {
        _node_key(r.next_state, True, r.state) for r in path_rows
    }
    labels: list[str] = []
    for (src, dst), group in grouped.items():
        hl = any(r.id in wanted for r in group)
        sx, sy = _POSITIONS[src]
        tx, ty = _POSITIONS[dst]
        colour = "#b03a00" if hl else "#444444"
        stroke = 4 if hl else 1.6
        marker = f"{id_prefix}-arrow-hl" if hl else f"{id_prefix}-arrow"
        text = [arc_label(r, lang) for r in group]
        if len(text) > 2:  # many rows on one arrow: pack them, three to a line
            text = [", ".join(text[i : i + 3]) for i in range(0, len(text), 3)]
        tip = escape("; ".join(f"{r.id}: {r.note}" for r in group))
        if src == dst:  # a highlighted self-loop
            x0, y0 = sx + _BOX_W / 2, sy - 10.0
            d = (
                f"M{x0:.1f},{y0:.1f} C{x0 + 60:.1f},{y0 - 50:.1f} "
                f"{x0 + 60:.1f},{y0 + 70:.1f} {x0:.1f},{y0 + 20:.1f}"
            )
            lx, ly = x0 + 62, y0 + 10
        else:
            x1, y1 = _edge_point(sx, sy, tx, ty)
            x2, y2 = _edge_point(tx, ty, sx, sy)
            length = math.hypot(x2 - x1, y2 - y1) or 1.0
            nx, ny = (y2 - y1) / length, -(x2 - x1) / length  # left normal: opposite arcs part ways
            bend = 28.0
            cx, cy = (x1 + x2) / 2 + nx * bend, (y1 + y2) / 2 + ny * bend
            d = f"M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}"
            t = _LABEL_AT.get((src, dst), 0.3 if dst == "CLOSED_END" else 0.5)
            u = 1 - t
            lx = u * u * x1 + 2 * u * t * cx + t * t * x2 + nx * 14
            ly = u * u * y1 + 2 * u * t * cy + t * t * y2 + ny * 14
        out.append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'marker-end="url(#{marker})"><title>{tip}</title></path>'
        )
        weight = "bold" if hl else "normal"
        for i, line in enumerate(text):
            labels.append(
                f'<text x="{lx:.1f}" y="{ly + 16 * i - 8 * (len(text) - 1):.1f}" font-size="14" '
                f'text-anchor="middle" font-weight="{weight}" fill="{colour if hl else "#222222"}" '
                f'stroke="#ffffff" stroke-width="4" paint-order="stroke">{escape(line)}</text>'
            )
    for node, (x, y) in _POSITIONS.items():
        state = State.CLOSED if node == "CLOSED_END" else State[node]
        hl = node in highlighted_states
        out.append(
            f'<rect x="{x - _BOX_W / 2}" y="{y - _BOX_H / 2}" width="{_BOX_W}" height="{_BOX_H}" rx="10" '
            f'fill="{"#fff1e6" if hl else "#eef3fb"}" stroke="{"#b03a00" if hl else "#2f4a78"}" '
            f'stroke-width="{3.5 if hl else 1.8}"/>'
        )
        if lang == "zh-hans":
            out.append(
                f'<text x="{x}" y="{y - 4}" font-size="16" font-weight="bold" text-anchor="middle" '
                f'fill="#1a1a1a">{state.name}</text>'
            )
            out.append(
                f'<text x="{x}" y="{y + 17}" font-size="14" text-anchor="middle" fill="#1a1a1a">'
                f"{escape(STATE_NAMES[state]['zh-hans'])}</text>"
            )
        else:
            out.append(
                f'<text x="{x}" y="{y + 6}" font-size="17" font-weight="bold" text-anchor="middle" '
                f'fill="#1a1a1a">{state.name}</text>'
            )
    out.extend(labels)
    out.append("</svg>")
    return "\n".join(out)


def _seg_label(seg: Mapping[str, Any]) -> str:
    flags = "+".join(seg["flags"]) or "-"
    parts = [flags, f"seq={seg['seq']}"]
    if seg.get("ack") is not None:
        parts.append(f"ack={seg['ack']}")
    if seg.get("len"):
        parts.append(f"len={seg['len']}")
    return " ".join(parts)


def _seg_key(seg: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        seg["from"],
        tuple(seg["flags"]),
        seg["seq"],
        seg.get("ack"),
        seg.get("len", 0),
        bool(seg.get("injected")),
    )


def ladder_svg(
    steps: Sequence[Mapping[str, Any]],
    *,
    lang: str = "en",
    names: Sequence[str] = ("client", "server"),
    id_prefix: str = "tcp-ladder",
) -> str:
    """A ladder (sequence) diagram of ``run_scenario`` output lines, as SVG.

    Each segment is an arrow labelled with its flags, seq, ack and len; a segment held on the wire
    is drawn from the step that sent it to the step that delivered or dropped it (a delivered or
    dropped entry is matched to the oldest held segment from the same sender with the same fields).
    Both sides' states are written at every step (bold where they changed), with any error.
    """
    lang = _lang(lang)
    left, right = names[0], names[1]
    x_of = {left: 300.0, right: 700.0}
    width = 1000
    top = 90
    y = float(top)
    shapes: list[str] = []
    texts: list[str] = []
    pending: dict[str, list[tuple[tuple[Any, ...], float, Mapping[str, Any]]]] = {left: [], right: []}
    previous: dict[str, str | None] = {left: None, right: None}
    spoken: list[str] = []

    def arrow(seg: Mapping[str, Any], y1: float, y2: float, fate: str) -> None:
        x1, x2 = x_of[seg["from"]], x_of[seg["to"]]
        label = _seg_label(seg)
        dashed = ' stroke-dasharray="6 5"' if seg.get("injected") else ""
        if fate == "delivered":
            shapes.append(
                f'<line x1="{x1}" y1="{y1:.1f}" x2="{x2}" y2="{y2:.1f}" stroke="#1f3b73" stroke-width="2"'
                f'{dashed} marker-end="url(#{id_prefix}-arrow)"/>'
            )
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        else:  # dropped or still in flight: the arrow stops half way
            xm, ym = x1 + (x2 - x1) * 0.55, y1 + (y2 - y1) * 0.55
            colour = "#a11a1a" if fate == "dropped" else "#666666"
            dash = "2 0" if fate == "dropped" else "4 4"
            shapes.append(
                f'<line x1="{x1}" y1="{y1:.1f}" x2="{xm:.1f}" y2="{ym:.1f}" stroke="{colour}" '
                f'stroke-width="2" stroke-dasharray="{dash}"/>'
            )
            if fate == "dropped":
                cross = (
                    f"M{xm - 8:.1f},{ym - 8:.1f} L{xm + 8:.1f},{ym + 8:.1f} "
                    f"M{xm - 8:.1f},{ym + 8:.1f} L{xm + 8:.1f},{ym - 8:.1f}"
                )
                shapes.append(f'<path d="{cross}" stroke="{colour}" stroke-width="3"/>')
            label += f" ({_TEXT['dropped' if fate == 'dropped' else 'held'][lang]})"
            mx, my = (x1 + xm) / 2, (y1 + ym) / 2
        if seg.get("injected"):
            label += f" [{_TEXT['injected'][lang]}]"
        texts.append(
            f'<text x="{mx:.1f}" y="{my - 6:.1f}" font-size="14" text-anchor="middle" fill="#111111" '
            f'stroke="#ffffff" stroke-width="4" paint-order="stroke">{escape(label)}</text>'
        )
        spoken.append(f"{seg['from']} → {seg['to']}: {label}")

    for line in steps:
        if "states" not in line:
            continue
        step_top = y
        texts.append(
            f'<text x="16" y="{step_top + 16:.1f}" font-size="14" fill="#555555">'
            f"{escape(_TEXT['step'][lang])} {line.get('step', '')}</text>"
        )
        y = step_top + 8
        for seg in line.get("segments", ()):
            fate = seg.get("fate", "delivered")
            key = _seg_key(seg)
            queue = pending.get(seg["from"], [])
            if fate != "held" and queue and queue[0][0] == key:
                _key, y_sent, _seg = queue.pop(0)
                arrow(seg, y_sent, y + 10, fate)
                y += 30
            elif fate == "held":
                queue.append((key, y, seg))
                y += 30
            else:
                arrow(seg, y, y + 26, fate)
                y += 38
        y_state = max(y + 10, step_top + 16)
        for name, anchor, x in ((left, "end", x_of[left] - 12), (right, "start", x_of[right] + 12)):
            state_name = line["states"].get(name)
            if state_name is None:
                continue
            changed = state_name != previous[name]
            previous[name] = state_name
            label = _state_label(State[state_name], lang)
            error = (line.get("errors") or {}).get(name)
            weight, fill = ("bold", "#111111") if changed else ("normal", "#555555")
            texts.append(
                f'<text x="{x:.1f}" y="{y_state:.1f}" font-size="14" text-anchor="{anchor}" '
                f'font-weight="{weight}" fill="{fill}">{escape(label)}</text>'
            )
            if error:
                texts.append(
                    f'<text x="{x:.1f}" y="{y_state + 18:.1f}" font-size="14" text-anchor="{anchor}" '
                    f'font-weight="bold" fill="#a11a1a">{escape(error)}</text>'
                )
        y = y_state + 6
        y = max(y, step_top + 40) + 14
    for queue in pending.values():
        for _key, y_sent, seg in queue:
            arrow(seg, y_sent, y_sent + 26, "held")
    height = int(y + 30)
    desc = _TEXT["ladder_desc"][lang]
    if spoken:
        desc += " " + "; ".join(spoken) + "."
    for name in (left, right):
        texts.append(
            f'<text x="{x_of[name]:.1f}" y="40" font-size="18" font-weight="bold" text-anchor="middle" '
            f'fill="#111111">{escape(name)}</text>'
        )
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" '
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif\">",
        f'<title id="{id_prefix}-title">{escape(_TEXT["ladder_title"][lang])}</title>',
        f'<desc id="{id_prefix}-desc">{escape(desc)}</desc>',
        "<defs>",
        f'<marker id="{id_prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" '
        'markerHeight="12" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#1f3b73"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        *(
            f'<line x1="{x_of[name]}" y1="56" x2="{x_of[name]}" y2="{height - 16}" '
            'stroke="#333333" stroke-width="2"/>'
            for name in (left, right)
        ),
    ]
    return "\n".join([*head, *shapes, *texts, "</svg>"])


__all__ = ["TEXTBOOK_ARCS", "arc_label", "ladder_svg", "state_diagram_svg"]
