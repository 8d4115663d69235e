"""Helpers shared by the families: bilingual wording of engine facts, choices, grading, skills."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from questions.engine import (
    ENGINE_VERSION,
    LINUX,
    RFC9293,
    TABLE,
    TIMER_EVENTS,
    Event,
    IllegalTransition,
    Profile,
    State,
    Transition,
    transition,
)
from questions.engine.concepts import EVENT_NAMES, state_label
from questions.generators import diagrams, misconceptions
from questions.generators.base import (
    JSON,
    Choice,
    Difficulty,
    GradeResult,
    InputKind,
    NotWellPosed,
    Text,
    Variant,
    fmt,
    format_error,
    join,
    parse_answer,
    resample,
    text,
)

S = State
E = Event
CHOICE_IDS: tuple[str, ...] = ("a", "b", "c", "d", "e", "f")
MOD = 1 << 32

# The arcs every textbook diagram draws: the handshake and the orderly four-way close.
TEXTBOOK_ARCS: tuple[tuple[State, Event], ...] = (
    (S.CLOSED, E.LISTEN),
    (S.CLOSED, E.CONNECT),
    (S.LISTEN, E.RCV_SYN),
    (S.SYN_SENT, E.RCV_SYN_ACK),
    (S.SYN_RECEIVED, E.RCV_ACK),
    (S.ESTABLISHED, E.CLOSE),
    (S.ESTABLISHED, E.RCV_FIN),
    (S.FIN_WAIT_1, E.RCV_ACK),
    (S.FIN_WAIT_2, E.RCV_FIN),
    (S.CLOSE_WAIT, E.CLOSE),
    (S.LAST_ACK, E.RCV_ACK),
    (S.TIME_WAIT, E.TIMEOUT_TIME_WAIT),
)

PROFILE_LABEL: dict[str, Text] = {
    RFC9293.name: text("RFC 9293", "RFC 9293"),
    LINUX.name: text("Linux", "Linux"),
}

STATE_CONCEPTS: dict[State, tuple[str, ...]] = {
    S.LISTEN: ("c:handshake", "c:socket_calls"),
    S.SYN_SENT: ("c:handshake",),
    S.SYN_RECEIVED: ("c:handshake",),
    S.FIN_WAIT_1: ("c:four_way_close",),
    S.FIN_WAIT_2: ("c:four_way_close", "c:half_close"),
    S.CLOSE_WAIT: ("c:four_way_close", "c:half_close"),
    S.CLOSING: ("c:sim_close",),
    S.LAST_ACK: ("c:four_way_close",),
    S.TIME_WAIT: ("c:time_wait",),
    S.CLOSED: ("c:closed_fictional",),
}
EVENT_CONCEPTS: dict[Event, tuple[str, ...]] = {
    E.RCV_RST: ("c:rst",),
    E.ABORT: ("c:abort", "c:rst"),
    E.TIMEOUT_TIME_WAIT: ("c:two_msl",),
    E.TIMEOUT_FIN_WAIT_2: ("c:fin_wait_2_timeout",),
    E.TIMEOUT_RTO: ("c:retransmission",),
    E.TIMEOUT_KEEPALIVE: ("c:keepalive",),
    E.CONNECT: ("c:socket_calls",),
    E.LISTEN: ("c:socket_calls",),
    E.CLOSE: ("c:socket_calls",),
    E.SHUTDOWN: ("c:half_close",),
}
CELL_CONCEPTS: dict[tuple[State, Event], tuple[str, ...]] = {
    (S.SYN_SENT, E.RCV_SYN): ("c:sim_open",),
    (S.SYN_RECEIVED, E.RCV_SYN_ACK): ("c:sim_open",),
    (S.FIN_WAIT_1, E.RCV_FIN): ("c:sim_close",),
    (S.FIN_WAIT_1, E.RCV_FIN_ACK): ("c:three_segment_close",),
    (S.CLOSED, E.RCV_SYN): ("c:connect_refused",),
    (S.TIME_WAIT, E.RCV_FIN): ("c:lost_last_ack",),
    (S.TIME_WAIT, E.RCV_RST): ("c:rfc1337",),
    (S.ESTABLISHED, E.CLOSE): ("c:four_way_close",),
}


# --------------------------------------------------------------------------- wording


@cache
def state_text(state: State) -> Text:
    """A state as students see it: "TIME_WAIT" / "TIME_WAIT 时间等待"."""
    return {"en": state_label(state, "en"), "zh-hans": state_label(state, "zh-hans")}


def states_text(states: Iterable[State]) -> Text:
    """A path of states joined by arrows."""
    return join((state_text(s) for s in states), sep=" → ")


def event_text(event: Event) -> Text:
    """The event's name: "receives FIN" / "收到 FIN"."""
    return EVENT_NAMES[event]


def event_clause(event: Event) -> Text:
    """ "it calls close()" / "its retransmission timer expires"."""
    name = EVENT_NAMES[event]
    if event in TIMER_EVENTS:
        return fmt(text("its {e}", "它的{e}"), e=name)
    return fmt(text("it {e}", "它{e}"), e=name)


@cache
def flags_text(sends: tuple[str, ...]) -> Text:
    """ "SYN+ACK", or "no segment" when nothing is sent."""
    if not sends:
        return text("no segment", "不发送报文段")
    flags = "+".join(sends)
    return text(flags, flags)


@cache
def sends_phrase(sends: tuple[str, ...]) -> Text:
    """ "sends ACK+FIN" / "sends nothing"."""
    if not sends:
        return text("sends nothing", "不发送报文段")
    return fmt(text("sends {f}", "发送 {f}"), f=flags_text(sends))


@cache
def outcome_text(next_state: State, sends: tuple[str, ...]) -> Text:
    """ "→ FIN_WAIT_2, sends no segment"."""
    if not sends:
        return fmt(text("→ {s}, sends nothing", "→ {s}，不发送报文段"), s=state_text(next_state))
    return fmt(text("→ {s}, sends {f}", "→ {s}，发送 {f}"), s=state_text(next_state), f=flags_text(sends))


def rfc_cite(row: Transition) -> Text:
    """ "RFC 9293 §3.10.7.4" in both languages."""
    return fmt(text("RFC 9293 §{r}", "RFC 9293 第 {r} 节"), r=row.rfc)


def row_line(row: Transition, profile: Profile | None = None, who: Text | None = None) -> Text:
    """One step of an engine trace: "FIN_WAIT_1 —receives FIN→ CLOSING, sends ACK (RFC §, skill)"."""
    linux = profile is not None and profile.name == LINUX.name
    line = _row_line(row, linux)
    if who is None:
        return line
    return fmt(text("{w}: {l}", "{w}：{l}"), w=who, l=line)


@lru_cache(maxsize=4096)
def _row_line(row: Transition, linux: bool) -> Text:
    where = rfc_cite(row)
    if linux and RFC9293.name not in row.profiles:
        where = fmt(text("Linux; cf. {w}", "Linux 行为；参见 {w}"), w=where)
    prefix = text("", "")
    error = (
        fmt(text(" (the application sees {e})", "（应用程序得到 {e}）"), e=row.error) if row.error else None
    )
    sends = (
        fmt(text("sends {f}", "发送 {f}"), f=flags_text(row.sends))
        if row.sends
        else text("sends nothing", "不发送报文段")
    )
    return fmt(
        text(
            "{p}{s} —{e}→ {n}, {f}{err} [{w}; skill {k}]",
            "{p}{s} —{e}→ {n}，{f}{err}［{w}；技能 {k}］",
        ),
        p=prefix,
        s=state_text(row.state),
        e=event_text(row.event),
        n=state_text(row.next_state),
        f=sends,
        err=error or text("", ""),
        w=where,
        k=row.id,
    )


def join_lines(lines: Sequence[Text]) -> Text:
    """``lines`` joined by spaces (an empty list gives an empty text)."""
    return join(lines, sep=" ")


def cap(line: Text) -> Text:
    """``line`` with its first letter in upper case (English; Chinese is unchanged)."""
    return {lang: value[:1].upper() + value[1:] for lang, value in line.items()}


def numbered(lines: Sequence[Text], head: Text | None = None, tail: Text | None = None) -> Text:
    """``lines`` numbered 1., 2., ... under ``head``, followed by ``tail``, one per line."""
    parts: list[Text] = [head] if head is not None else []
    parts.extend(fmt(text("{n}. {line}", "{n}. {line}"), n=i, line=line) for i, line in enumerate(lines, 1))
    if tail is not None:
        parts.append(tail)
    return join(parts, sep="\n")


def misconception_note(misconception_id: str) -> dict[str, str]:
    """ "Misconception: <name>. <correction>" for feedback."""
    m = misconceptions.get(misconception_id)
    return fmt(text("Misconception: {n}. {c}", "误区：{n}。{c}"), n=m.name, c=m.correction)


@cache
def rows_by_key() -> dict[str, Transition]:
    """Every row of the engine's TABLE by its unique key (id, profiles and guard)."""
    return {row.key: row for row in TABLE}


# Rows whose guard was narrowed keep their arc: a stored walk naming the old key rebuilds with the new.
RENAMED_ROW_KEYS: dict[str, str] = {
    # 1.2.0: only an in-window SYN (not the retransmitted one) returns a passive SYN_RECEIVED to LISTEN.
    "t:SYN_RECEIVED:rcv_syn[rfc9293|passive]": "t:SYN_RECEIVED:rcv_syn[rfc9293|passive&in_window]",
}


def row_if_legal(
    state: State, event: Event, profile: Profile = RFC9293, conditions: Collection[str] = ()
) -> Transition | None:
    """The row ``event`` takes in ``state`` (``transition``), or None where the event cannot happen."""
    try:
        return transition(state, event, profile, conditions)
    except IllegalTransition:
        return None


def row_for_key(key: str) -> Transition:
    """The row with ``key`` (or the key it was renamed to); NotWellPosed when the engine has no such row."""
    found = rows_by_key().get(RENAMED_ROW_KEYS.get(key, key))
    if found is None:
        raise NotWellPosed(f"no row {key} in this engine")
    return found


# --------------------------------------------------------------------------- skills


def row_concepts(row: Transition) -> tuple[str, ...]:
    """The concept skills one table row touches."""
    return (
        *STATE_CONCEPTS.get(row.state, ()),
        *EVENT_CONCEPTS.get(row.event, ()),
        *CELL_CONCEPTS.get((row.state, row.event), ()),
    )


def skills(
    rows: Iterable[Transition], concepts: Iterable[str] = (), profile: Profile | None = None
) -> tuple[str, ...]:
    """Transition skills of ``rows`` (in order, once each), then concept skills."""
    row_list = list(rows)
    ids = [row.id for row in row_list]
    found = [c for row in row_list for c in row_concepts(row)]
    found.extend(concepts)
    if profile is not None and profile.name == LINUX.name:
        found.append("c:rfc_vs_linux")
    return (*dict.fromkeys(ids), *dict.fromkeys(found))


# --------------------------------------------------------------------------- choices and grading

Option = tuple[str, Text, str | None]  # (canonical form, text, misconception predicting it)


def make_choices(
    rng: random.Random, key: Option, wrong: Sequence[Option]
) -> tuple[tuple[Choice, ...], str, dict[str, str]]:
    """The key and ``wrong`` shuffled into choices a, b, c...: (choices, key id, id → form)."""
    options: list[tuple[Option, bool]] = [(key, True), *((w, False) for w in wrong)]
    rng.shuffle(options)
    choices = tuple(
        Choice(id=cid, text=shown, misconception=None if is_key else mid)
        for cid, ((_, shown, mid), is_key) in zip(CHOICE_IDS, options, strict=False)
    )
    key_id = next(c.id for c, (_, is_key) in zip(choices, options, strict=False) if is_key)
    forms = {c.id: form for c, ((form, _, _), _) in zip(choices, options, strict=False)}
    return choices, key_id, forms


def pick_wrong(rng: random.Random, key: str, candidates: Iterable[Option], n: int) -> list[Option]:
    """Up to ``n`` distinct wrong options: predicted ones (misconception set) first, then plain ones.

    Candidates are (canonical form, text, misconception); the key's form and repeated forms are
    skipped (the first misconception naming a form wins), so no distractor ever equals the key.
    """
    seen = {key}
    predicted: list[Option] = []
    plain: list[Option] = []
    for form, shown, mid in candidates:
        if form in seen:
            continue
        seen.add(form)
        (predicted if mid else plain).append((form, shown, mid))
    picked = rng.sample(predicted, min(n, len(predicted)))
    if len(picked) < n:
        picked += rng.sample(plain, min(n - len(picked), len(plain)))
    return picked


def pick_choices(
    rng: random.Random, key: Option, candidates: Iterable[Option], reason: str = "too few distractors"
) -> tuple[tuple[Choice, ...], str, dict[str, str]]:
    """Three distractors from ``candidates`` (``pick_wrong``) shuffled with the key (``make_choices``).

    Raises NotWellPosed(``reason``) when fewer than three distinct wrong options remain.
    """
    wrong = pick_wrong(rng, key[0], candidates, 3)
    if len(wrong) < 3:
        raise NotWellPosed(reason)
    return make_choices(rng, key, wrong)


def grade_single(variant_key: Mapping[str, JSON], choices: Sequence[Choice], chosen_id: str) -> GradeResult:
    """Full marks for the key; a wrong choice scores 0 and names the misconception predicting it."""
    key = next(c for c in choices if c.id == variant_key["choice"])
    chosen = next(c for c in choices if c.id == chosen_id)
    if chosen.id == key.id:
        return GradeResult(score=1.0, feedback=fmt(text("Correct: {k}.", "正确：{k}。"), k=key.text))
    parts = [
        fmt(
            text(
                "Not quite: you chose “{c}”; the answer is “{k}”.", "不对：你选择了“{c}”；正确答案是“{k}”。"
            ),
            c=chosen.text,
            k=key.text,
        )
    ]
    if chosen.misconception:
        parts.append(misconception_note(chosen.misconception))
    return GradeResult(score=0.0, feedback=join(parts, sep=" "), misconception=chosen.misconception)


def grade_choice(variant: Variant, answer: JSON) -> GradeResult:
    """The grade function of every single-choice family."""
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    return grade_single(variant.key, variant.choices, parsed)


def grade_statements(variant: Variant, answer: JSON) -> GradeResult:
    """Multiple response: each statement judged on its own; full marks only for the exact set.

    The score is the share of statements classified right. A wrongly selected statement names the
    misconception it states; a missed true one names ``params["missed"][id]`` when set.
    """
    parsed = parse_answer(variant, answer)
    if isinstance(parsed, GradeResult):
        return parsed
    true_ids = set(variant.key["choices"])
    chosen: frozenset[str] = parsed
    right = sum(1 for c in variant.choices if (c.id in chosen) == (c.id in true_ids))
    score = right / len(variant.choices)
    if score >= 1.0:
        return GradeResult(
            score=1.0,
            feedback=text("Correct: exactly the true statements.", "正确：恰好选中了全部正确陈述。"),
        )
    missed_map: Mapping[str, JSON] = variant.params.get("missed", {})
    notes: list[Text] = []
    first: str | None = None
    for c in variant.choices:
        if c.id in chosen and c.id not in true_ids:
            notes.append(fmt(text("“{t}” is false.", "“{t}”是错误的。"), t=c.text))
            if c.misconception:
                notes.append(misconception_note(c.misconception))
                first = first or c.misconception
        elif c.id not in chosen and c.id in true_ids:
            notes.append(fmt(text("“{t}” is true.", "“{t}”是正确的。"), t=c.text))
            missed = missed_map.get(c.id)
            if isinstance(missed, str):
                notes.append(misconception_note(missed))
                first = first or missed
    head = fmt(
        text("{r} of {n} statements judged right.", "{n} 条陈述中判断正确 {r} 条。"),
        r=right,
        n=len(variant.choices),
    )
    return GradeResult(score=score, feedback=join([head, *notes], sep=" "), misconception=first)


def partial_credit(total: int, wrong: Sequence[str], summary: Text, misconception: str | None) -> GradeResult:
    """The grade of ``total`` blanks of which ``wrong`` (ids like "r3.seq", in row order) are wrong.

    The score is the share right; ``summary`` is formatted with r (right), n (total) and s (the first
    wrong row, also ``first_wrong_step``); ``misconception``, when set, is named after it.
    """
    first = int(wrong[0].split(".")[0][1:])
    parts = [fmt(summary, r=total - len(wrong), n=total, s=first)]
    if misconception:
        parts.append(misconception_note(misconception))
    return GradeResult(
        score=(total - len(wrong)) / total,
        feedback=join(parts, sep=" "),
        misconception=misconception,
        first_wrong_step=first,
    )


def format_error_cell(cell: str, value: str) -> GradeResult:
    """The format error for a ladder cell that cannot be read (a state, flags or a number)."""
    return format_error(
        f"Cell {cell}: cannot read “{value}” (expected a state name, flags like SYN+ACK, or a number).",
        f"格子 {cell}：无法识别“{value}”（应为状态名、形如 SYN+ACK 的标志位或数字）。",
    )


def seq_eq(a: int, b: int) -> bool:
    """Sequence numbers compare modulo 2^32."""
    return (a - b) % MOD == 0


# --------------------------------------------------------------------------- variants

SampleParams = Callable[[random.Random, Difficulty], Mapping[str, Any]]
Build = Callable[[random.Random, Difficulty, int, Mapping[str, Any]], Variant]
Generate = Callable[[random.Random, Difficulty, int], Variant]
Rebuild = Callable[[Mapping[str, JSON], Difficulty, int], Variant]


def single_choice(
    *,
    family: str,
    seed: int,
    difficulty: Difficulty,
    prompt: Text,
    choices: tuple[Choice, ...],
    key_id: str,
    explanation: Text,
    skills: tuple[str, ...],
    canonical: str,
    params: Mapping[str, JSON],
    state_diagram: bool = True,
) -> Variant:
    """A single-choice variant of the current engine, shown with the textbook state diagram unless
    ``state_diagram`` is false."""
    return Variant(
        family=family,
        seed=seed,
        difficulty=difficulty,
        engine_version=ENGINE_VERSION,
        kind=InputKind.SINGLE,
        prompt=prompt,
        choices=choices,
        key={"choice": key_id},
        explanation=explanation,
        skills=skills,
        canonical=canonical,
        params=params,
        diagram_svg=diagrams.state_diagram() if state_diagram else None,
        diagrams=diagrams.state_diagrams() if state_diagram else {},
    )


def generate_from_params(sample_params: SampleParams, build: Build) -> Generate:
    """A family's ``generate``: ``build`` on what ``sample_params`` draws, both drawn again from the
    same rng until the variant is well posed (``resample``)."""

    def generate(rng: random.Random, difficulty: Difficulty, seed: int) -> Variant:
        return resample(lambda: build(rng, difficulty, seed, sample_params(rng, difficulty)))

    return generate


def rebuild_from_params(family: str, build: Build, recomputed: tuple[str, ...] = ()) -> Rebuild:
    """A family's ``rebuild``: ``build`` on the stored params less the ``recomputed`` keys (``build``
    derives them again), with its rng fixed by the family and the seed."""

    def rebuild(params: Mapping[str, JSON], difficulty: Difficulty, seed: int) -> Variant:
        kept = {k: v for k, v in params.items() if k not in recomputed} if recomputed else params
        return build(random.Random(f"{family}|{seed}"), difficulty, seed, kept)

    return rebuild
