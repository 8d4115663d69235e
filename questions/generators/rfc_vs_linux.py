"""Question family "RFC vs Linux": the same event in the same state, under the other profile.

The prompt states what RFC 9293 does (from the engine's rfc9293 table) and asks what Linux does (or,
at hard, the reverse). The key is the other profile's row; the main distractor is "the same as the
first profile" (misconception m:linux_follows_rfc / m:rfc_follows_linux), the rest are what table
mutants predict for Linux and plain outcomes.

- easy: the big deviations (connect() on a listener, the crossing SYN+ACK, the FIN_WAIT_2 timeout,
  abort in TIME_WAIT, close() with unread data);
- medium: RST versus RST+ACK on abort, data in TIME_WAIT, shutdown() on a listener;
- hard: which error the application sees after an RST, and the reverse question (Linux → RFC).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from questions.engine import (
    LINUX,
    RFC9293,
    Event,
    Profile,
    State,
    Transition,
)
from questions.generators import common, misconceptions
from questions.generators.base import (
    Difficulty,
    Family,
    NotWellPosed,
    Text,
    Variant,
    fmt,
    text,
)

NAME = "rfc_vs_linux"
S = State
E = Event

Cell = tuple[State, Event, str]  # (state, event, endpoint condition or "")
EASY: tuple[Cell, ...] = (
    (S.LISTEN, E.CONNECT, ""),
    (S.SYN_RECEIVED, E.RCV_SYN_ACK, ""),
    (S.FIN_WAIT_2, E.TIMEOUT_FIN_WAIT_2, ""),
    (S.TIME_WAIT, E.ABORT, ""),
    (S.ESTABLISHED, E.CLOSE, "unread_data"),
    (S.CLOSE_WAIT, E.CLOSE, "unread_data"),
)
MEDIUM: tuple[Cell, ...] = (
    (S.ESTABLISHED, E.ABORT, ""),
    (S.CLOSE_WAIT, E.ABORT, ""),
    (S.SYN_RECEIVED, E.ABORT, ""),
    (S.TIME_WAIT, E.RCV_DATA, ""),
    (S.LISTEN, E.SHUTDOWN, ""),
    (S.FIN_WAIT_1, E.RCV_DATA, "orphan"),
)
HARD: tuple[Cell, ...] = (
    (S.SYN_SENT, E.RCV_RST, ""),
    (S.CLOSE_WAIT, E.RCV_RST, ""),
    (S.LAST_ACK, E.RCV_RST, ""),
    *EASY,
    *MEDIUM,
)
CONDITION_TEXT: dict[str, Any] = {
    "": text("", ""),
    "unread_data": text(" while unread data waits in its receive buffer", "（此时接收缓冲区中仍有未读数据）"),
    "orphan": text(" after its application called close()", "（其应用程序已调用 close()）"),
}

Outcome = tuple[State, tuple[str, ...], str | None] | None


def _row(state: State, event: Event, prof: Profile, condition: str) -> Transition | None:
    return common.row_if_legal(state, event, prof, (condition,) if condition else ())


def _outcome(row: Transition | None) -> Outcome:
    return None if row is None else (row.next_state, row.sends, row.error)


def _form(o: Outcome) -> str:
    return "none" if o is None else f"{o[0].name}|{'+'.join(o[1])}|{o[2]}"


@lru_cache(maxsize=1024)
def _text(o: Outcome) -> Text:
    if o is None:
        return text("nothing: this event does not exist there", "什么也不会发生：那里没有这个事件")
    base = common.outcome_text(o[0], o[1])
    if o[2]:
        return fmt(text("{b} (the application gets {e})", "{b}（应用程序得到 {e}）"), b=base, e=o[2])
    return base


def build(rng: random.Random, difficulty: Difficulty, seed: int, params: Mapping[str, Any]) -> Variant:
    """Given one profile's row, what does the other profile do?"""
    state, event, condition = (
        State[str(params["state"])],
        Event(str(params["event"])),
        str(params["condition"]),
    )
    given_prof, asked_prof = (RFC9293, LINUX) if params["asked"] == "linux" else (LINUX, RFC9293)
    given, asked = _row(state, event, given_prof, condition), _row(state, event, asked_prof, condition)
    key, shown = _outcome(asked), _outcome(given)
    if key == shown or (given is None and asked is None):
        raise NotWellPosed("no difference")
    candidates: list[common.Option] = [
        (_form(shown), _text(shown), "m:linux_follows_rfc" if asked_prof is LINUX else "m:rfc_follows_linux")
    ]
    for mid, outcome in misconceptions.mutant_diffs(asked_prof).get((state, event), ()):
        if outcome is not None and mid not in ("m:linux_follows_rfc", "m:rfc_follows_linux"):
            o: Outcome = (outcome[0], outcome[1], None)
            candidates.append((_form(o), _text(o), mid))
    for nxt in (state, S.CLOSED, S.ESTABLISHED, S.TIME_WAIT):
        for sends in ((), ("ACK",), ("RST",), ("ACK", "RST")):
            plain: Outcome = (nxt, sends, key[2] if key else None)
            candidates.append((_form(plain), _text(plain), None))
    choices, key_id, _forms = common.pick_choices(rng, (_form(key), _text(key), None), candidates)
    prompt = fmt(
        text(
            "Under {g}, an endpoint in {s}{c}, when {e}: {o}. What does {a} do in the same situation?",
            "在 {g} 下，处于 {s} 的端点{c}，当{e}时：{o}。在同样情况下 {a} 会怎样？",
        ),
        g=common.PROFILE_LABEL[given_prof.name],
        a=common.PROFILE_LABEL[asked_prof.name],
        s=common.state_text(state),
        c=CONDITION_TEXT[condition],
        e=common.event_clause(event),
        o=_text(shown),
    )
    lines = [
        fmt(text("{p}: {r}", "{p}：{r}"), p=common.PROFILE_LABEL[p.name], r=common.row_line(r, p))
        if r is not None
        else fmt(
            text("{p}: no row for this event in {s}.", "{p}：{s} 中没有这个事件的状态行。"),
            p=common.PROFILE_LABEL[p.name],
            s=common.state_text(state),
        )
        for p, r in (
            (RFC9293, _row(state, event, RFC9293, condition)),
            (LINUX, _row(state, event, LINUX, condition)),
        )
    ]
    if asked is not None:
        note = asked.note if asked_prof is LINUX or given is None else given.note
        lines.append(fmt(text("Engine note: {n}.", "引擎注释（英文）：{n}。"), n=note))
    rows = [r for r in (given, asked) if r is not None]
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=common.numbered(lines),
        skills=common.skills(rows, ("c:rfc_vs_linux",)),
        canonical=f"{NAME}|{state.name}|{event.value}|{condition}|{params['asked']}",
        params={"state": state.name, "event": event.value, "condition": condition, "asked": params["asked"]},
    )


def sample_params(rng: random.Random, difficulty: Difficulty) -> dict[str, Any]:
    """A cell of ``difficulty`` and the profile asked about."""
    cells = {Difficulty.EASY: EASY, Difficulty.MEDIUM: MEDIUM, Difficulty.HARD: HARD}[difficulty]
    state, event, condition = rng.choice(cells)
    asked = "rfc9293" if difficulty is Difficulty.HARD and rng.random() < 0.4 else "linux"
    return {"state": state.name, "event": event.value, "condition": condition, "asked": asked}


generate = common.generate_from_params(sample_params, build)
rebuild = common.rebuild_from_params(NAME, build)


FAMILY = Family(
    name=NAME,
    title=text("RFC 9293 vs Linux", "RFC 9293 与 Linux"),
    generate=generate,
    grade=common.grade_choice,
    rebuild=rebuild,
)
