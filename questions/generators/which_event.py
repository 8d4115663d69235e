"""Question family "which event": the inverse of next_state. An endpoint went from A to B (sending
what it sent); which event took it there?

The key is a row of the engine's table. Every other event that would do exactly the same from A
(same next state, same segment) is left out of the choices, so exactly one choice is right.
Distractors are events a misconception mutant sends from A to B (tagged with that misconception),
topped up with events that really lead elsewhere; the explanation shows what each choice really does.

Difficulty picks the rows: easy = the textbook handshake and four-way close (RFC 9293); medium =
every other state-changing row of RFC 9293 (simultaneous open/close, resets, aborts, timers);
hard = Linux's rows, including its deviations, and rows that stay in their state but send something.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import cache

from questions.engine import LINUX, PROFILES, RFC9293, Event, State, transition
from questions.generators import common, misconceptions
from questions.generators.base import (
    JSON,
    Difficulty,
    Family,
    Variant,
    fmt,
    resample,
    text,
)

NAME = "which_event"
S = State
E = Event

# Events a student could plausibly name; illegal ones in A are fine distractors too.
PLAUSIBLE: tuple[Event, ...] = (
    E.LISTEN,
    E.CONNECT,
    E.CLOSE,
    E.ABORT,
    E.RCV_SYN,
    E.RCV_SYN_ACK,
    E.RCV_ACK,
    E.RCV_FIN,
    E.RCV_FIN_ACK,
    E.RCV_RST,
    E.TIMEOUT_RTO,
    E.TIMEOUT_TIME_WAIT,
)

Question = tuple[str, State, Event]


@cache
def pool(difficulty: Difficulty) -> tuple[Question, ...]:
    """Every question of ``difficulty`` in a fixed order."""
    if difficulty is Difficulty.EASY:
        return tuple((RFC9293.name, s, e) for s, e in common.TEXTBOOK_ARCS)
    if difficulty is Difficulty.MEDIUM:
        table = misconceptions.base_table(RFC9293)
        return tuple(
            (RFC9293.name, s, e)
            for (s, e), (n, _sends) in table.items()
            if n is not s and (s, e) not in common.TEXTBOOK_ARCS and transition(s, e, RFC9293).error is None
        )
    table = misconceptions.base_table(LINUX)
    return tuple(
        (LINUX.name, s, e)
        for (s, e), (n, sends) in table.items()
        if (n is not s or sends) and transition(s, e, LINUX).error is None
    )


def build(rng: random.Random, difficulty: Difficulty, seed: int, question: Question) -> Variant:
    """The variant asking which event caused ``question``'s row."""
    profile_name, state, event = question
    prof = PROFILES[profile_name]
    table = misconceptions.base_table(prof)
    row = transition(state, event, prof)
    outcome = (row.next_state, row.sends)
    same = {e for e in Event if table.get((state, e)) == outcome}
    candidates: list[common.Option] = []
    for m in misconceptions.TABLE_MUTANTS:
        mutant = misconceptions.mutant_table(m.id, prof)
        for e in PLAUSIBLE:
            if e in same:
                continue
            predicted = mutant.get((state, e))
            if predicted == outcome and predicted != table.get((state, e)):
                candidates.append((e.value, common.event_text(e), m.id))
    for e in PLAUSIBLE:
        if e not in same:
            candidates.append((e.value, common.event_text(e), None))
    choices, key_id, forms = common.pick_choices(
        rng, (event.value, common.event_text(event), None), candidates, row.id
    )
    sends = (
        fmt(text(", sending {f}", "，并发送 {f}"), f=common.flags_text(row.sends))
        if row.sends
        else text(", sending nothing", "，没有发送报文段")
    )
    moved = text("moved to", "进入了") if row.next_state is not state else text("stayed in", "仍停留在")
    prompt = fmt(
        text(
            "A TCP endpoint ({p}) was in {a}. After one event it {m} {b}{s}. Which event was it?",
            "一个 TCP 端点（{p}）原处于 {a}。发生一个事件后，它{m} {b}{s}。这是哪个事件？",
        ),
        p=common.PROFILE_LABEL[prof.name],
        a=common.state_text(state),
        m=moved,
        b=common.state_text(row.next_state),
        s=sends,
    )
    lines = [common.row_line(row, prof)]
    for choice in choices:
        e = Event(forms[choice.id])
        if e is event:
            continue
        real = table.get((state, e))
        if real is None:
            lines.append(
                fmt(
                    text("“{e}” cannot happen in {a}.", "在 {a} 中不会发生“{e}”。"),
                    e=common.event_text(e),
                    a=common.state_text(state),
                )
            )
        else:
            lines.append(common.row_line(transition(state, e, prof), prof))
    explanation = common.numbered(
        lines,
        head=fmt(
            text("The engine's table ({p}):", "引擎的状态表（{p}）："), p=common.PROFILE_LABEL[prof.name]
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
        skills=common.skills([row], profile=prof),
        canonical=f"{NAME}|{prof.name}|{state.name}|{event.value}",
        params={"profile": prof.name, "state": state.name, "event": event.value},
    )


def generate(rng: random.Random, difficulty: Difficulty, seed: int) -> Variant:
    """A random question of ``difficulty``."""
    questions = pool(difficulty)
    return resample(lambda: build(rng, difficulty, seed, rng.choice(questions)))


def rebuild(params: Mapping[str, JSON], difficulty: Difficulty, seed: int) -> Variant:
    """The same (profile, state, event) question with the current engine."""
    question = (str(params["profile"]), State[str(params["state"])], Event(str(params["event"])))
    return build(random.Random(f"{NAME}|{seed}"), difficulty, seed, question)


FAMILY = Family(
    name=NAME,
    title=text("Which event?", "哪个事件？"),
    generate=generate,
    grade=common.grade_choice,
    rebuild=rebuild,
)
