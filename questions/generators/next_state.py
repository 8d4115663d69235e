"""Question family "next state": a socket in STATE gets EVENT; which state is it in next?

The question is one row of the engine's table; the key is that row's next state. Distractors are what
the misconception mutants (generators/misconceptions.py) predict for the same cell, each tagged with
its misconception, topped up with plausible states (the state itself, where other events lead).

Difficulty picks the rows:
- easy: the arcs of the textbook diagram (handshake and four-way close);
- medium: every other state-changing arc (simultaneous open and close, resets, aborts, timers);
- hard: arcs that keep the state (a retransmitted FIN, a partial ACK, ...) and Linux's deviations.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import cache

from questions.engine import (
    LINUX,
    PROFILES,
    RFC9293,
    Event,
    Profile,
    State,
    Transition,
    transition,
    transitions,
)
from questions.generators import common, misconceptions
from questions.generators.base import (
    JSON,
    Difficulty,
    Family,
    GradeResult,
    Text,
    Variant,
    fmt,
    parse_answer,
    text,
)
from questions.generators.common import TEXTBOOK_ARCS

NAME = "next_state"

S = State
E = Event

# Arcs that keep the state but are worth knowing (hard): they happen while a connection closes.
_CLOSING_STATES = frozenset({S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT})
_STAYING_EVENTS = frozenset({E.RCV_FIN, E.RCV_ACK_PARTIAL, E.RCV_DATA, E.CLOSE, E.SEND, E.RCV_ACK})

Question = tuple[str, State, Event]  # (profile name, state, event)


def _unambiguous(prof: Profile) -> dict[tuple[State, Event], Transition]:
    """Cells with exactly one row and no guard: the next state follows from state and event alone."""
    rows: dict[tuple[State, Event], list[Transition]] = {}
    for row in transitions(prof):
        rows.setdefault((row.state, row.event), []).append(row)
    return {cell: found[0] for cell, found in rows.items() if len(found) == 1 and found[0].when is None}


def _ordered(cells: Sequence[tuple[State, Event]]) -> list[tuple[State, Event]]:
    state_order = {s: i for i, s in enumerate(State)}
    event_order = {e: i for i, e in enumerate(Event)}
    return sorted(cells, key=lambda c: (state_order[c[0]], event_order[c[1]]))


@cache
def pool(difficulty: Difficulty) -> tuple[Question, ...]:
    """Every question of ``difficulty``, in a fixed order (so a seed always picks the same one)."""
    rfc = _unambiguous(RFC9293)
    textbook = [cell for cell in TEXTBOOK_ARCS if cell in rfc]
    if difficulty is Difficulty.EASY:
        return tuple((RFC9293.name, s, e) for s, e in textbook)
    if difficulty is Difficulty.MEDIUM:
        moving = [c for c, row in rfc.items() if row.next_state is not c[0] and c not in textbook]
        return tuple((RFC9293.name, s, e) for s, e in _ordered(moving))
    staying = [
        c
        for c, row in rfc.items()
        if row.next_state is c[0] and not row.error and c[0] in _CLOSING_STATES and c[1] in _STAYING_EVENTS
    ]
    linux = _unambiguous(LINUX)
    deviations = [c for c, row in linux.items() if c in rfc and rfc[c].next_state is not row.next_state]
    return tuple((RFC9293.name, s, e) for s, e in _ordered(staying)) + tuple(
        (LINUX.name, s, e) for s, e in _ordered(deviations)
    )


def _successors(state: State, prof: Profile) -> list[State]:
    found: list[State] = []
    for cell, row in _unambiguous(prof).items():
        if cell[0] is state and row.next_state not in found:
            found.append(row.next_state)
    return found


def _distractors(
    rng: random.Random, prof: Profile, state: State, event: Event, key: State
) -> list[tuple[State, str | None]]:
    """Three wrong states, each with the misconception that predicts it (None for a plain slip)."""
    predicted: dict[State, str] = {}
    for misconception_id, outcome in misconceptions.mutant_diffs(prof).get((state, event), ()):
        if outcome is not None and outcome[0] is not key and outcome[0] not in predicted:
            predicted[outcome[0]] = misconception_id
    picked: list[tuple[State, str | None]] = []
    mutants = list(predicted.items())
    for wrong, misconception_id in rng.sample(mutants, min(3, len(mutants))):
        picked.append((wrong, misconception_id))
    tiers: list[list[State]] = [
        [state, *_successors(state, prof)],
        _successors(key, prof),
        list(State),
    ]
    for tier in tiers:
        candidates = [s for s in dict.fromkeys(tier) if s is not key and s not in {p for p, _ in picked}]
        need = 3 - len(picked)
        if need <= 0:
            break
        picked.extend((s, None) for s in rng.sample(candidates, min(need, len(candidates))))
    return picked


def _sends_text(row: Transition) -> Text:
    if not row.sends:
        return text("sending nothing", "不发送报文段")
    flags = "+".join(row.sends)
    return fmt(text("sending {f}", "并发送 {f}"), f=flags)


def _explanation(prof: Profile, row: Transition) -> Text:
    moves = (
        fmt(text("moves to {n}", "进入 {n}"), n=common.state_text(row.next_state))
        if row.next_state is not row.state
        else fmt(text("stays in {n}", "仍停留在 {n}"), n=common.state_text(row.state))
    )
    where = (
        text("RFC 9293 §{rfc}", "RFC 9293 第 {rfc} 节")
        if prof.name == RFC9293.name
        else text(
            "Linux, which departs here from RFC 9293 §{rfc}", "Linux 的行为，此处与 RFC 9293 第 {rfc} 节不同"
        )
    )
    return fmt(
        text(
            "In {state}, when {event}, the endpoint {moves}, {sends}. Why: {note}. ({where})",
            "处于 {state} 时，若{event}，端点{moves}，{sends}。（{where}）",
        ),
        state=common.state_text(row.state),
        event=common.event_clause(row.event),
        moves=moves,
        sends=_sends_text(row),
        note=row.note,
        where=fmt(where, rfc=row.rfc),
    )


def _skills(prof: Profile, row: Transition) -> tuple[str, ...]:
    return common.skills((row,), ("c:state_diagram",), prof)


def build(rng: random.Random, difficulty: Difficulty, seed: int, question: Question) -> Variant:
    """The variant asking ``question``; ``rng`` only orders and picks the choices."""
    profile_name, state, event = question
    prof = PROFILES[profile_name]
    row = transition(state, event, prof)
    key = row.next_state
    choices, key_id, _forms = common.make_choices(
        rng,
        (key.name, common.state_text(key), None),
        [(s.name, common.state_text(s), mid) for s, mid in _distractors(rng, prof, state, event, key)],
    )
    prompt = fmt(
        text(
            "A TCP endpoint ({profile}) is in {state}. Now {event}. Which state is it in next?",
            "一个 TCP 端点（{profile}）处于 {state} 状态。此时{event}。它接下来处于哪个状态？",
        ),
        profile=common.PROFILE_LABEL[prof.name],
        state=common.state_text(state),
        event=common.event_clause(event),
    )
    return common.single_choice(
        family=NAME,
        seed=seed,
        difficulty=difficulty,
        prompt=prompt,
        choices=choices,
        key_id=key_id,
        explanation=_explanation(prof, row),
        skills=_skills(prof, row),
        canonical=f"{NAME}|{prof.name}|{state.name}|{event.value}",
        params={"profile": prof.name, "state": state.name, "event": event.value},
        state_diagram=False,
    )


def generate(rng: random.Random, difficulty: Difficulty, seed: int) -> Variant:
    """A random question of ``difficulty`` drawn from ``rng``."""
    question = rng.choice(pool(difficulty))
    return build(rng, difficulty, seed, question)


def rebuild(params: Mapping[str, JSON], difficulty: Difficulty, seed: int) -> Variant:
    """The same question (profile, state, event) with the current engine's key and explanation."""
    question = (str(params["profile"]), State[str(params["state"])], Event(str(params["event"])))
    return build(random.Random(f"{NAME}|rebuild|{seed}"), difficulty, seed, question)


def grade(variant: Variant, answer: JSON) -> GradeResult:
    """Full marks for the key; a wrong choice scores 0 and names its misconception."""
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    chosen = next(c for c in variant.choices if c.id == parsed)
    key = next(c for c in variant.choices if c.id == variant.key["choice"])
    if chosen.id == key.id:
        return GradeResult(score=1.0, feedback=fmt(text("Correct: {k}.", "正确：{k}。"), k=key.text))
    return GradeResult(
        score=0.0,
        feedback=fmt(
            text(
                "Not quite: you chose {c}; the next state is {k}.", "不对：你选择了 {c}；下一个状态是 {k}。"
            ),
            c=chosen.text,
            k=key.text,
        ),
        misconception=chosen.misconception,
    )


FAMILY = Family(
    name=NAME,
    title=text("Next state", "下一个状态"),
    generate=generate,
    grade=grade,
    rebuild=rebuild,
)
