"""Reads. Every selector that takes a ``user`` returns only what that user may see.

Objects a user may not see are reported as not found (404), never as forbidden: an id tells nothing.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple, TypeVar

import fsrs
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from questions.aggregates import JSONRows
from questions.compiled import CompiledRead
from questions.engine import Event, State
from questions.engine.concepts import CONCEPTS, EVENT_NAMES, state_label
from questions.engine.diagrams import ladder_svg, state_diagram_svg
from questions.errors import (
    AnswerNotFound,
    AttemptNotFound,
    CourseNotFound,
    NoMatchingQuestion,
    QuestionBankNotFound,
    QuizNotFound,
    QuizSlotNotFound,
    UnknownFamily,
    UnknownQuestion,
)
from questions.generators import bank, misconceptions, scenarios
from questions.generators.base import Difficulty, Family, InputKind, Variant
from questions.generators.ladder import normalise as ladder_normalise
from questions.generators.registry import families, get_family, make_variant
from questions.models import (
    Answer,
    Attempt,
    AttemptQuestion,
    BankItem,
    Course,
    Draft,
    Enrollment,
    PracticeAnswer,
    QuestionBank,
    Quiz,
    QuizSlot,
)
from questions.variant_store import json_loads, variant_to_json

UserLike = User | AnonymousUser


def signed_in(user: UserLike) -> User | None:
    """The user if signed in, else None (selectors then find nothing)."""
    return user if isinstance(user, User) and user.is_authenticated else None


def question_lang(language_code: str | None) -> str:
    """The generators' language for a Django language code: "zh-hans" for any Chinese, else "en"."""
    if language_code and language_code.lower().startswith("zh"):
        return "zh-hans"
    return "en"


def text_in(text: Any, lang: str) -> str:
    """One language of a stored ``{"en": ..., "zh-hans": ...}`` text (English if ``lang`` is missing)."""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("en") or "")
    return "" if text is None else str(text)


# --- Courses and quizzes ----------------------------------------------------------------------------


def course_list_for_user(*, user: UserLike) -> QuerySet[Course]:
    """The courses ``user`` is enrolled in, each annotated with ``role``."""
    member = signed_in(user)
    if member is None:
        return Course.objects.none()
    role = Enrollment.objects.filter(course=OuterRef("pk"), user=member).values("role")[:1]
    return (
        Course.objects.filter(enrollments__user=member).annotate(role=Subquery(role)).order_by("title", "id")
    )


def course_get_for_user(*, user: UserLike, course_id: int) -> Course:
    """The course, if ``user`` is enrolled in it; CourseNotFound otherwise."""
    course = course_list_for_user(user=user).filter(pk=course_id).first()
    if course is None:
        raise CourseNotFound(_("There is no such course among yours."))
    return course


def _visible_quizzes(user: UserLike, *, with_slot_count: bool = True) -> QuerySet[Quiz]:
    """The quizzes ``user`` may see: published ones of their courses, and every one of a course they
    teach. The one place this rule lives. A join on the user's own enrollment (one per course, so no
    fan-out and no DISTINCT); each quiz carries ``viewer_role``, and ``slot_count`` unless told not to."""
    member = signed_in(user)
    if member is None:
        return Quiz.objects.none()
    return _visible_quizzes_of(member.pk, with_slot_count=with_slot_count)


def _visible_quizzes_of(user_id: int, *, with_slot_count: bool) -> QuerySet[Quiz]:
    quizzes = (
        Quiz.objects.filter(course__enrollments__user_id=user_id)
        .annotate(viewer_role=F("course__enrollments__role"))
        .filter(Q(is_published=True) | Q(viewer_role=Enrollment.Role.INSTRUCTOR))
        .select_related("course")
    )
    if with_slot_count:
        quizzes = quizzes.annotate(slot_count=_slot_count())
    return quizzes


def _slot_count() -> Coalesce:
    count = QuizSlot.objects.filter(quiz=OuterRef("pk")).order_by().values("quiz").annotate(n=Count("pk"))
    return Coalesce(Subquery(count.values("n")[:1]), 0)


def quiz_list_for_user(*, user: UserLike, course_id: int | None = None) -> QuerySet[Quiz]:
    """The quizzes of the courses ``user`` is enrolled in (instructors also see unpublished ones)."""
    quizzes = _visible_quizzes(user)
    if course_id is not None:
        quizzes = quizzes.filter(course_id=course_id)
    return quizzes.order_by("course__title", "id")


_R = TypeVar("_R")


def first_unordered(query: QuerySet[Any, _R]) -> _R | None:
    """The row a unique lookup finds, or None: ``first()`` without its ORDER BY (on a hot path, the
    ordering costs compiling and, for some default orderings, a join)."""
    return next(iter(query.order_by()[:1]), None)


# One quiz as _visible_quizzes has it, compiled once per connection (a start and a quiz page read it).
_QUIZ_FOR_USER = CompiledRead(
    "quiz-for-user",
    lambda user_id, quiz_id: (
        _visible_quizzes_of(user_id, with_slot_count=True).filter(pk=quiz_id).order_by()[:1]
    ),
)


def quiz_get_for_user(*, user: UserLike, quiz_id: int) -> Quiz:
    """The quiz, if ``user`` may see it (with its ``slot_count``); QuizNotFound otherwise. One query
    (see ``_visible_quizzes``)."""
    member = signed_in(user)
    quiz = None if member is None else _QUIZ_FOR_USER.first(user_id=member.pk, quiz_id=quiz_id)
    if quiz is None:
        raise QuizNotFound(_("There is no such quiz in your courses."))
    return quiz


class SlotRow(NamedTuple):
    """A quiz slot's values, as starting an attempt uses them (no model instance)."""

    id: int
    position: int
    family: str
    difficulty: str
    points: int
    bank_id: int | None


@dataclass(frozen=True)
class QuizForStart:
    """What starting an attempt reads: the quiz, the user's attempts at it so far as ``(status,
    number)``, and its slots in order."""

    quiz: Quiz
    earlier: list[tuple[str, int]]
    slots: list[SlotRow]


def _quiz_for_start_query(user_id: int, quiz_id: int) -> QuerySet[Quiz]:
    earlier = (
        Attempt.objects.filter(user_id=user_id, quiz=OuterRef("pk"))
        .order_by()
        .values("quiz")
        .annotate(rows=JSONRows("status", "number"))
        .values("rows")
    )
    slots = (
        QuizSlot.objects.filter(quiz=OuterRef("pk"))
        .order_by()
        .values("quiz")
        .annotate(rows=JSONRows(*SlotRow._fields))
        .values("rows")
    )
    return (
        _visible_quizzes_of(user_id, with_slot_count=False)
        .filter(pk=quiz_id)
        .annotate(earlier_rows=Subquery(earlier), slot_rows=Subquery(slots))
        .order_by()[:1]
    )


_QUIZ_FOR_START = CompiledRead("quiz-for-start", _quiz_for_start_query)


def quiz_for_start(*, user: UserLike, quiz_id: int) -> QuizForStart:
    """The quiz (if ``user`` may see it; QuizNotFound otherwise), the user's earlier attempts at it
    and its slots, in one query: a start is the request a whole class makes at once."""
    member = signed_in(user)
    quiz = None if member is None else _QUIZ_FOR_START.first(user_id=member.pk, quiz_id=quiz_id)
    if quiz is None:
        raise QuizNotFound(_("There is no such quiz in your courses."))
    earlier_rows: str | None = quiz.earlier_rows  # type: ignore[attr-defined]
    slot_rows: str | None = quiz.slot_rows  # type: ignore[attr-defined]
    earlier = [(str(status), int(number)) for status, number in json_loads(earlier_rows or "[]")]
    slots = sorted((SlotRow(*row) for row in json_loads(slot_rows or "[]")), key=lambda slot: slot.position)
    return QuizForStart(quiz, earlier, slots)


def quiz_is_open(*, quiz: Quiz, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if quiz.opens_at is not None and now < quiz.opens_at:
        return False
    return quiz.closes_at is None or now < quiz.closes_at


# --- Attempts -----------------------------------------------------------------------------------------


def attempt_list_for_user(*, user: UserLike, quiz: Quiz) -> QuerySet[Attempt]:
    member = signed_in(user)
    if member is None:
        return Attempt.objects.none()
    return Attempt.objects.filter(user=member, quiz=quiz).order_by("-number")


def attempt_get_for_user(*, user: UserLike, attempt_id: int) -> Attempt:
    """The attempt, if it is ``user``'s own; AttemptNotFound otherwise."""
    attempt = None
    if user.is_authenticated:
        attempt = (
            Attempt.objects.select_related("quiz", "quiz__course").filter(pk=attempt_id, user=user).first()
        )
    if attempt is None:
        raise AttemptNotFound(_("There is no such attempt among yours."))
    return attempt


def attempt_open_get(*, user: UserLike, quiz: Quiz, now: datetime | None = None) -> Attempt | None:
    """``user``'s attempt at ``quiz`` that is still open for answers, if any."""
    attempt = attempt_list_for_user(user=user, quiz=quiz).filter(status=Attempt.Status.IN_PROGRESS).first()
    if attempt is None or not attempt_is_open(attempt=attempt, now=now):
        return None
    return attempt


def attempt_is_open(*, attempt: Attempt, now: datetime | None = None) -> bool:
    """True while answers may still be submitted."""
    now = now or timezone.now()
    if attempt.status != Attempt.Status.IN_PROGRESS:
        return False
    if attempt.deadline is not None and now >= attempt.deadline:
        return False
    return quiz_is_open(quiz=attempt.quiz, now=now)


def attempt_question_get(*, attempt: Attempt, position: int) -> AttemptQuestion:
    question = attempt.questions.select_related("stored").filter(position=position).first()
    if question is None:
        raise UnknownQuestion(
            _("This attempt has no question number %(position)s.") % {"position": position},
            details={"question": position},
        )
    return question


def attempt_review_allowed(*, attempt: Attempt, now: datetime | None = None) -> bool:
    """May the student see scores, feedback and explanations of this attempt yet?"""
    now = now or timezone.now()
    quiz = attempt.quiz
    if quiz.review == quiz.Review.NEVER:
        return False
    if quiz.review == quiz.Review.AFTER_CLOSE:
        return quiz.closes_at is not None and now >= quiz.closes_at
    # AFTER_SUBMIT: practice shows each result as it lands; an exam waits for the attempt to close.
    if quiz.mode == quiz.Mode.PRACTICE:
        return True
    return not attempt_is_open(attempt=attempt, now=now)


@dataclass(frozen=True)
class AttemptProgress:
    total: int
    answered: int
    graded: int
    pending: int
    points_total: int
    points_scored: float

    @property
    def percent_answered(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0

    @property
    def percent_scored(self) -> int:
        return round(100 * self.points_scored / self.points_total) if self.points_total else 0


def attempt_progress(*, attempt: Attempt) -> AttemptProgress:
    # Only the columns counted here: the stored variants are most of a question's bytes.
    questions = attempt.questions.select_related("answer").only(
        "points", "attempt_id", "answer__status", "answer__score"
    )
    return attempt_progress_of([(q.points, getattr(q, "answer", None)) for q in questions])


def attempt_progress_of(questions: Sequence[AttemptQuestion | tuple[int, Answer | None]]) -> AttemptProgress:
    """The progress counted from questions in hand: AttemptQuestions with ``answer_or_none`` set (as
    ``attempt_questions_full`` returns them), or ``(points, answer)`` pairs."""
    total = answered = graded = pending = points_total = 0
    points_scored = 0.0
    for question in questions:
        if isinstance(question, tuple):
            points, answer = question
        else:
            points, answer = question.points, getattr(question, "answer_or_none", None)
        total += 1
        points_total += points
        if answer is None:
            continue
        answered += 1
        if answer.status == Answer.Status.PENDING:
            pending += 1
        elif answer.status == Answer.Status.GRADED:
            graded += 1
            points_scored += (answer.score or 0.0) * points
    return AttemptProgress(total, answered, graded, pending, points_total, round(points_scored, 2))


# --- Answers ------------------------------------------------------------------------------------------


def answer_get_for_user(*, user: UserLike, answer_id: int) -> Answer:
    """The answer, if it belongs to one of ``user``'s attempts; AnswerNotFound otherwise."""
    member = signed_in(user)
    answer = None
    if member is not None:
        answer = (
            Answer.objects.select_related("question__stored", "attempt", "attempt__quiz")
            .filter(pk=answer_id, attempt__user=member)
            .first()
        )
    if answer is None:
        raise AnswerNotFound(_("There is no such answer among yours."))
    return answer


@dataclass(frozen=True)
class AnswerResult:
    """What a student is shown about a graded answer, in one language."""

    score: float
    correct: bool
    feedback: str
    format_error: str | None
    misconception: str | None
    misconception_title: str | None
    misconception_correction: str | None
    explanation: str
    key: Any
    key_text: str | None
    chosen_text: str | None


def answer_result(*, answer: Answer, lang: str) -> AnswerResult | None:
    """The graded answer's result in ``lang``; None while it is not graded."""
    if answer.status != Answer.Status.GRADED:
        return None
    return _result(
        answer.question.variant,
        answer.response,
        float(answer.score or 0.0),
        answer.feedback,
        answer.misconception,
        answer.format_error,
        lang,
    )


def _result(
    variant: dict[str, Any],
    response: Any,
    score: float,
    feedback: Any,
    misconception: str,
    format_error: Any,
    lang: str,
) -> AnswerResult:
    choice_texts = {c["id"]: text_in(c["text"], lang) for c in variant.get("choices", [])}
    key = variant.get("key")
    key_choice = key.get("choice") if isinstance(key, dict) else None
    chosen = response.get("choice") if isinstance(response, dict) else None
    return AnswerResult(
        score=score,
        correct=format_error is None and score >= 1.0,
        feedback=text_in(feedback, lang),
        format_error=text_in(format_error, lang) if format_error else None,
        misconception=misconception or None,
        misconception_title=misconception_title(misconception, lang) if misconception else None,
        misconception_correction=(misconception_correction(misconception, lang) if misconception else None),
        explanation=text_in(variant.get("explanation"), lang),
        key=key,
        key_text=choice_texts.get(key_choice) if isinstance(key_choice, str) else None,
        chosen_text=choice_texts.get(chosen) if isinstance(chosen, str) else None,
    )


def misconception_title(misconception_id: str, lang: str) -> str:
    """The misconception's name in ``lang`` (its id if the catalogue does not know it)."""
    entry = misconceptions.BY_ID.get(misconception_id)
    return entry.name[lang] if entry is not None else misconception_id


def misconception_correction(misconception_id: str, lang: str) -> str | None:
    """The sentence that corrects the misconception, in ``lang``."""
    entry = misconceptions.BY_ID.get(misconception_id)
    return entry.correction[lang] if entry is not None else None


# --- Instructors --------------------------------------------------------------------------------------
# An instructor sees the courses they teach and everything in them; any other course is "not found".


def user_is_instructor(*, user: UserLike) -> bool:
    """True if ``user`` teaches at least one course."""
    member = signed_in(user)
    return (
        member is not None
        and Enrollment.objects.filter(user=member, role=Enrollment.Role.INSTRUCTOR).exists()
    )


def course_list_for_instructor(*, user: UserLike) -> QuerySet[Course]:
    """The courses ``user`` teaches, each annotated with ``student_count`` and ``quiz_count``."""
    member = signed_in(user)
    if member is None:
        return Course.objects.none()
    taught = Enrollment.objects.filter(user=member, role=Enrollment.Role.INSTRUCTOR).values("course_id")
    students = (
        Enrollment.objects.filter(course=OuterRef("pk"), role=Enrollment.Role.STUDENT)
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    quizzes = Quiz.objects.filter(course=OuterRef("pk")).order_by().values("course").annotate(n=Count("pk"))
    return (
        Course.objects.filter(pk__in=taught)
        .annotate(
            student_count=Coalesce(Subquery(students), 0),
            quiz_count=Coalesce(Subquery(quizzes.values("n")), 0),
        )
        .order_by("title", "id")
    )


def course_get_for_instructor(*, user: UserLike, course_id: int) -> Course:
    """The course, if ``user`` teaches it; CourseNotFound otherwise."""
    course = course_list_for_instructor(user=user).filter(pk=course_id).first()
    if course is None:
        raise CourseNotFound(_("There is no such course among those you teach."))
    return course


def quiz_list_for_instructor(*, course: Course) -> QuerySet[Quiz]:
    """Every quiz of ``course`` (published or not), with ``slot_count`` and ``attempt_count``."""
    return (
        Quiz.objects.filter(course=course)
        .annotate(
            slot_count=Count("slots", distinct=True),
            attempt_count=Count("attempts", distinct=True),
        )
        .order_by("id")
    )


def quiz_get_for_instructor(*, user: UserLike, quiz_id: int) -> Quiz:
    """The quiz, if ``user`` teaches its course; QuizNotFound otherwise."""
    member = signed_in(user)
    quiz = None
    if member is not None:
        quiz = (
            Quiz.objects.select_related("course")
            .filter(
                pk=quiz_id,
                course__enrollments__user=member,
                course__enrollments__role=Enrollment.Role.INSTRUCTOR,
            )
            .first()
        )
    if quiz is None:
        raise QuizNotFound(_("There is no such quiz in the courses you teach."))
    return quiz


def quiz_slots(*, quiz: Quiz) -> list[QuizSlot]:
    return list(quiz.slots.select_related("bank").order_by("position"))


def quiz_slot_get(*, quiz: Quiz, slot_id: int) -> QuizSlot:
    """The slot of ``quiz`` with ``slot_id``; QuizSlotNotFound if ``quiz`` has none."""
    slot = quiz.slots.filter(pk=slot_id).first()
    if slot is None:
        raise QuizSlotNotFound(_("This quiz has no such question slot."))
    return slot


def course_roster(*, course: Course) -> QuerySet[Enrollment]:
    """The course's members (instructors first, then by username), each with ``attempt_count``."""
    return (
        Enrollment.objects.filter(course=course)
        .select_related("user")
        .annotate(
            attempt_count=Count(
                "user__attempts", filter=Q(user__attempts__quiz__course=course), distinct=True
            )
        )
        .order_by("role", "user__username")
    )


@dataclass(frozen=True)
class AttemptResult:
    """One attempt as its instructor sees it: points, and the score of each slot (None: unanswered)."""

    attempt: Attempt
    username: str
    points_scored: float
    points_total: int
    answered: int
    pending: int
    slot_scores: dict[int, float | None] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.points_scored / self.points_total) if self.points_total else 0


@dataclass(frozen=True)
class SlotSummary:
    """How a slot went over all attempts: ``average`` is the mean score in [0, 1] of graded answers."""

    slot: QuizSlot
    answered: int
    graded: int
    average: float | None

    @property
    def percent(self) -> int | None:
        return None if self.average is None else round(100 * self.average)


@dataclass(frozen=True)
class QuizResults:
    quiz: Quiz
    slots: list[SlotSummary]
    attempts: list[AttemptResult]

    @property
    def average_percent(self) -> int | None:
        closed = [a for a in self.attempts if a.attempt.status != Attempt.Status.IN_PROGRESS]
        return round(sum(a.percent for a in closed) / len(closed)) if closed else None


def quiz_results(*, quiz: Quiz) -> QuizResults:
    """Every attempt at ``quiz`` with its score, and each slot's average (three queries in all)."""
    slots = quiz_slots(quiz=quiz)
    attempts = list(quiz.attempts.select_related("user").order_by("user__username", "number"))
    questions = AttemptQuestion.objects.filter(attempt__quiz=quiz).select_related("answer")
    by_attempt: dict[int, list[AttemptQuestion]] = {}
    for question in questions:
        by_attempt.setdefault(question.attempt_id, []).append(question)

    rows: list[AttemptResult] = []
    slot_scores: dict[int, list[float]] = {slot.pk: [] for slot in slots}
    slot_answered: dict[int, int] = {slot.pk: 0 for slot in slots}
    for attempt in attempts:
        scored = 0.0
        total = answered = pending = 0
        per_slot: dict[int, float | None] = {slot.pk: None for slot in slots}
        for question in by_attempt.get(attempt.pk, []):
            total += question.points
            answer: Answer | None = getattr(question, "answer", None)
            if answer is None:
                continue
            answered += 1
            if question.slot_id in slot_answered:
                slot_answered[question.slot_id] += 1
            if answer.status == Answer.Status.PENDING:
                pending += 1
            elif answer.status == Answer.Status.GRADED:
                score = float(answer.score or 0.0)
                scored += score * question.points
                if question.slot_id in per_slot:
                    per_slot[question.slot_id] = score
                    slot_scores[question.slot_id].append(score)
        rows.append(
            AttemptResult(
                attempt=attempt,
                username=attempt.user.get_username(),
                points_scored=round(scored, 2),
                points_total=total,
                answered=answered,
                pending=pending,
                slot_scores=per_slot,
            )
        )
    summaries = [
        SlotSummary(
            slot=slot,
            answered=slot_answered[slot.pk],
            graded=len(slot_scores[slot.pk]),
            average=sum(slot_scores[slot.pk]) / len(slot_scores[slot.pk]) if slot_scores[slot.pk] else None,
        )
        for slot in slots
    ]
    return QuizResults(quiz=quiz, slots=summaries, attempts=rows)


# --- Question families (instructors preview them) -----------------------------------------------------

FAMILY_PREVIEW_MAX = 20


@dataclass(frozen=True)
class FamilyInfo:
    name: str
    title: str
    kinds: tuple[str, ...]
    two_endpoint: bool
    difficulties: tuple[str, ...]


@cache
def _family_kinds(name: str) -> tuple[str, ...]:
    """The input kinds a family asks for (some switch kind by variant), from a fixed sample of seeds."""
    found = {str(make_variant(name, seed, level).kind) for level in Difficulty for seed in range(16)}
    return tuple(sorted(found))


def family_list(*, lang: str) -> list[FamilyInfo]:
    """Every question family, in the order instructors see them, titled in ``lang``."""
    return [
        FamilyInfo(
            name=name,
            title=family.title[lang],
            kinds=_family_kinds(name),
            two_endpoint=family.two_endpoint,
            difficulties=tuple(str(level) for level in Difficulty),
        )
        for name, family in families().items()
    ]


def family_get(*, name: str) -> Family:
    """The family called ``name``; UnknownFamily if there is none."""
    try:
        return get_family(name)
    except KeyError:
        raise UnknownFamily(
            _("There is no question family called %(family)s.") % {"family": name},
            details={"family": name, "known": list(families())},
        ) from None


def family_preview(*, name: str, n: int, difficulty: str, seed: int) -> list[Variant]:
    """Up to ``n`` distinct variants of family ``name`` (no two alike): same arguments, same variants."""
    family_get(name=name)
    return bank.batch(random.Random(seed), [name], min(n, FAMILY_PREVIEW_MAX), Difficulty(difficulty))


def skill_title(skill: str, lang: str) -> str | None:
    """A concept skill's title in ``lang``; None for transition skills (their id says it all)."""
    concept = CONCEPTS.get(skill)
    return concept[lang] if concept is not None else None


def variant_for_instructor(*, variant: Variant, lang: str) -> dict[str, Any]:
    """Everything about a variant in ``lang``, laid out for an instructor's preview.

    ``Variant.full`` plus: each choice marked ``is_key`` with its misconception (id, title, correction),
    skills with titles, and the key in readable form for the kinds without choices (``key_lines``, and
    ``ladder`` rows or trace ``steps`` with the blanks / wrong step filled in).
    """
    full = variant.full(lang)
    key = full["key"] if isinstance(full["key"], dict) else {}
    keyed = set(key.get("choices") or ([key["choice"]] if "choice" in key else []))
    misconception_of: dict[str, str] = full["misconceptions"]
    choices = []
    for choice in full["choices"]:
        mid = misconception_of.get(choice["id"])
        choices.append(
            {
                "id": choice["id"],
                "text": choice["text"],
                "is_key": choice["id"] in keyed,
                "misconception": (
                    {
                        "id": mid,
                        "title": misconception_title(mid, lang),
                        "correction": misconception_correction(mid, lang),
                    }
                    if mid
                    else None
                ),
            }
        )
    widget: dict[str, Any] = full["widget"] or {}
    key_lines: list[str] = []
    ladder: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    if "order" in key:
        items = {item["id"]: item["text"] for item in widget.get("items", [])}
        start = widget.get("start") or {}
        key_lines = [str(start["text"])] if start.get("text") else []
        key_lines += [str(items.get(item, item)) for item in key["order"]]
    elif "values" in key:
        fields = {f["id"]: f for f in widget.get("fields", [])}
        for name, value in key["values"].items():
            spec = fields.get(name, {})
            unit = f" {spec['unit']}" if spec.get("unit") else ""
            key_lines.append(f"{spec.get('label', name)}: {value}{unit}")
    elif "cells" in key:
        cells = key["cells"]
        for row in widget.get("rows", []):
            ladder.append(
                {
                    "n": row["n"],
                    "from": row["from"],
                    "len": row.get("len", 0),
                    "fate": row.get("fate", ""),
                    "cells": [
                        {
                            "value": cells.get(f"r{row['n']}.{column}", row["cells"].get(column)),
                            "is_blank": f"r{row['n']}.{column}" in cells,
                        }
                        for column in widget.get("columns", [])
                    ],
                }
            )
    elif "step" in key:
        steps = [dict(step, is_key=step["n"] == key["step"]) for step in widget.get("steps", [])]
        if key["step"] is None:
            key_lines = [str(widget.get("valid_label") or _("The trace is valid."))]
    return full | {
        "choices": choices,
        "skills": [{"id": s, "title": skill_title(s, lang)} for s in full["skills"]],
        "key_lines": key_lines,
        "ladder": ladder,
        "steps": steps,
    }


# --- Students: modes, navigation, review, mastery and practice ---------------------------------------

# Mastery of a skill is measured on its last MASTERY_RECENT variants; HISTORY_LIMIT answers are read.
MASTERY_RECENT = 10
HISTORY_LIMIT = 400
# The practice page samples at most this many variants looking for one on the requested skills.
PRACTICE_DRAW_TRIES = 400
PRACTICE_CANDIDATES = 4
_SKILL_RE = re.compile(r"^(t:[A-Z][A-Z0-9_]*:[a-z][a-z0-9_]*|c:[a-z][a-z0-9_]*)$")
_NAMES_TEXT = {"en": ("client", "server"), "zh-hans": ("客户端", "服务器")}
MODULO_32 = 1 << 32


def skill_is_valid(skill: str) -> bool:
    """Does ``skill`` look like a skill id (``t:<STATE>:<event>`` or ``c:<name>``)?"""
    return bool(_SKILL_RE.match(skill))


def skill_label(skill: str, lang: str) -> str:
    """A skill as a student reads it: a concept's title, or "In FIN_WAIT_1: receives FIN"."""
    concept = CONCEPTS.get(skill)
    if concept is not None:
        return concept[lang]
    parts = skill.split(":")
    if len(parts) == 3 and parts[0] == "t":
        try:
            state, event = State[parts[1]], Event(parts[2])
        except (KeyError, ValueError):
            return skill
        if lang == "zh-hans":
            return f"{state_label(state, lang)}：{EVENT_NAMES[event][lang]}"
        return f"In {state.name}: {EVENT_NAMES[event][lang]}"
    return skill


def attempt_seconds_left(*, attempt: Attempt, now: datetime | None = None) -> int | None:
    """Whole seconds until the deadline of an in-progress attempt; None when it has none."""
    if attempt.deadline is None or attempt.status != Attempt.Status.IN_PROGRESS:
        return None
    now = now or timezone.now()
    return max(0, int((attempt.deadline - now).total_seconds()))


def attempt_questions_full(*, attempt: Attempt, with_variant: bool = True) -> list[AttemptQuestion]:
    """The attempt's questions in order, with ``answer_or_none`` and ``draft_or_none`` (one query).

    ``with_variant=False`` leaves out the stored variants (keys, explanations): the public payloads
    are all a student's question list needs, and the variants are the larger part to read.
    """
    query = attempt.questions.select_related("answer", "draft", "stored").order_by("position")
    questions = list(query if with_variant else query.defer("stored__variant"))
    for question in questions:
        question.answer_or_none = getattr(question, "answer", None)  # type: ignore[attr-defined]
        question.draft_or_none = getattr(question, "draft", None)  # type: ignore[attr-defined]
    return questions


def response_blanks(public: dict[str, Any], response: Any) -> int | None:
    """How many parts of ``response`` are left blank: None if nothing is answered, 0 if complete."""
    if not isinstance(response, dict):
        return None
    kind = public.get("kind")
    widget = public.get("widget") or {}
    if kind == InputKind.SINGLE:
        return 0 if response.get("choice") else None
    if kind == InputKind.MULTIPLE:
        return 0 if response.get("choices") else None
    if kind == InputKind.ORDER:
        return 0 if response.get("order") else None
    if kind == InputKind.TRACE_STEP:
        return 0 if "step" in response else None
    values: dict[str, Any]
    if kind == InputKind.NUMERIC:
        ids = [f["id"] for f in widget.get("fields", [])]
        values = response["values"] if isinstance(response.get("values"), dict) else {}
    elif kind == InputKind.LADDER:
        ids = list(widget.get("blanks", []))
        values = response["cells"] if isinstance(response.get("cells"), dict) else {}
    else:
        return None
    blank = len([i for i in ids if str(values.get(i, "")).strip() == ""])
    return None if ids and blank == len(ids) else blank


@dataclass(frozen=True)
class NavItem:
    """One question in the attempt's navigator: its position and how far it got."""

    position: int
    state: str  # unanswered | saved | incomplete | answered | grading | retrying | correct | partial | wrong

    @property
    def label(self) -> str:
        return {
            "unanswered": _("not answered"),
            "saved": _("saved"),
            "incomplete": _("incomplete"),
            "answered": _("answered"),
            "grading": _("grading"),
            "retrying": _("grading, retrying"),
            "correct": _("correct"),
            "partial": _("partly correct"),
            "wrong": _("not correct"),
        }[self.state]

    @property
    def done(self) -> bool:
        return self.state not in ("unanswered", "incomplete")


def question_state(question: AttemptQuestion, *, review: bool) -> str:
    """Where ``question`` stands (see NavItem.state); results only when ``review`` is allowed."""
    answer: Answer | None = getattr(question, "answer_or_none", None)
    if answer is not None and not (answer.status == Answer.Status.GRADED and answer.format_error):
        if not review:
            return "answered"
        if answer.status == Answer.Status.PENDING:
            return "grading"
        if answer.status == Answer.Status.FAILED:
            return "retrying"
        score = float(answer.score or 0.0)
        return "correct" if score >= 1.0 else ("partial" if score > 0 else "wrong")
    draft: Draft | None = getattr(question, "draft_or_none", None)
    blanks = response_blanks(question.public["en"], draft.response) if draft is not None else None
    if blanks is None:
        return "unanswered"
    return "saved" if blanks == 0 else "incomplete"


@dataclass(frozen=True)
class AttemptOverview:
    """An attempt as its student sees it: mode, time, navigator, what is done and (if allowed) score."""

    attempt: Attempt
    questions: list[AttemptQuestion]
    nav: list[NavItem]
    is_open: bool
    is_exam: bool
    review: bool
    seconds_left: int | None
    points_total: int
    points_scored: float
    pending: int

    @property
    def total(self) -> int:
        return len(self.nav)

    @property
    def done(self) -> int:
        return sum(1 for item in self.nav if item.done)

    @property
    def unanswered(self) -> list[int]:
        return [item.position for item in self.nav if item.state == "unanswered"]

    @property
    def incomplete(self) -> list[int]:
        return [item.position for item in self.nav if item.state == "incomplete"]

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def percent_scored(self) -> int:
        return round(100 * self.points_scored / self.points_total) if self.points_total else 0

    def first_open_position(self) -> int:
        """The first question still to do (or the first one, when all are done)."""
        todo = [item.position for item in self.nav if not item.done]
        return todo[0] if todo else (self.nav[0].position if self.nav else 1)


def attempt_overview(
    *, attempt: Attempt, now: datetime | None = None, with_variant: bool = True
) -> AttemptOverview:
    """Everything the attempt pages show around a question, from one query (see
    ``attempt_questions_full`` for ``with_variant``)."""
    now = now or timezone.now()
    questions = attempt_questions_full(attempt=attempt, with_variant=with_variant)
    review = attempt_review_allowed(attempt=attempt, now=now)
    nav = [NavItem(q.position, question_state(q, review=review)) for q in questions]
    scored = 0.0
    pending = 0
    for question in questions:
        answer: Answer | None = getattr(question, "answer_or_none", None)
        if answer is None:
            continue
        if answer.status == Answer.Status.GRADED:
            scored += float(answer.score or 0.0) * question.points
        else:
            pending += 1
    return AttemptOverview(
        attempt=attempt,
        questions=questions,
        nav=nav,
        is_open=attempt_is_open(attempt=attempt, now=now),
        is_exam=attempt.quiz.mode == Quiz.Mode.EXAM,
        review=review,
        seconds_left=attempt_seconds_left(attempt=attempt, now=now),
        points_total=sum(q.points for q in questions),
        points_scored=round(scored, 2),
        pending=pending,
    )


# --- Review: the answer given against the key, with the engine's diagrams ----------------------------


def _choice_rows(public: dict[str, Any], chosen: set[str], key: set[str] | None) -> list[dict[str, Any]]:
    return [
        {
            "id": c["id"],
            "text": c["text"],
            "chosen": c["id"] in chosen,
            "key": None if key is None else c["id"] in key,
        }
        for c in public.get("choices", [])
    ]


def _int_or_none(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.lstrip("+-").isdigit() else None


def answer_comparison(public: dict[str, Any], response: Any, key: Any) -> dict[str, Any]:
    """The answer given set against the key (when ``key`` is not None), ready for a template.

    The shape depends on the kind: ``choices`` (single, multiple), ``rows`` (order, numeric, ladder)
    or ``steps`` (trace_step); each part says what was given, what the key holds and whether they agree.
    ``kind`` and ``shown`` (is the key in it?) are always there.
    """
    return {
        **_comparison(public, response, key),
        "kind": public.get("kind"),
        "shown": isinstance(key, dict),
    }


def _comparison(public: dict[str, Any], response: Any, key: Any) -> dict[str, Any]:
    kind = public.get("kind")
    widget: dict[str, Any] = public.get("widget") or {}
    given: dict[str, Any] = response if isinstance(response, dict) else {}
    shown = isinstance(key, dict)
    right: dict[str, Any] = key if isinstance(key, dict) else {}
    if kind in (InputKind.SINGLE, InputKind.MULTIPLE):
        if kind == InputKind.SINGLE:
            chosen = {str(given["choice"])} if given.get("choice") else set()
            keyed = {str(right.get("choice"))}
        else:
            chosen = {str(c) for c in given.get("choices") or []}
            keyed = {str(c) for c in right.get("choices", [])}
        return {"choices": _choice_rows(public, chosen, keyed if shown else None)}
    if kind == InputKind.ORDER:
        return _order_comparison(widget, given, right, shown)
    if kind == InputKind.NUMERIC:
        return _numeric_comparison(widget, given, right, shown)
    if kind == InputKind.LADDER:
        return _ladder_comparison(widget, given, right, shown)
    if kind == InputKind.TRACE_STEP:
        has_step = "step" in given
        chosen_step = given.get("step") if has_step else "none"
        key_step = right.get("step", "none") if shown else "none"
        return {
            "steps": [
                {
                    "n": s["n"],
                    "step": s,
                    "chosen": has_step and chosen_step == s["n"],
                    "key": key_step == s["n"],
                }
                for s in widget.get("steps", [])
            ],
            "valid_label": widget.get("valid_label"),
            "valid_chosen": has_step and chosen_step is None,
            "valid_key": shown and key_step is None,
            "shown": shown,
        }
    return {}


def _order_comparison(
    widget: dict[str, Any], given: dict[str, Any], right: dict[str, Any], shown: bool
) -> dict[str, Any]:
    texts = {item["id"]: item["text"] for item in widget.get("items", [])}
    order = [texts.get(str(i), str(i)) for i in given.get("order") or []]
    keyed = [texts.get(str(i), str(i)) for i in right.get("order", [])]
    rows = [
        {
            "n": n + 1,
            "given": order[n] if n < len(order) else None,
            "key": keyed[n] if n < len(keyed) else None,
            "ok": (n < len(order) and n < len(keyed) and order[n] == keyed[n]) if shown else None,
        }
        for n in range(max(len(order), len(keyed)))
    ]
    return {"start": (widget.get("start") or {}).get("text"), "end": widget.get("end"), "rows": rows}


def _numeric_comparison(
    widget: dict[str, Any], given: dict[str, Any], right: dict[str, Any], shown: bool
) -> dict[str, Any]:
    values: dict[str, Any] = given["values"] if isinstance(given.get("values"), dict) else {}
    keys: dict[str, Any] = right.get("values", {})
    rows = []
    for f in widget.get("fields", []):
        number = _int_or_none(values.get(f["id"]))
        key_value = keys.get(f["id"])
        ok = None
        if shown and key_value is not None:
            ok = number is not None and (number - int(key_value)) % MODULO_32 == 0
        rows.append(
            {
                "id": f["id"],
                "label": f.get("label", f["id"]),
                "unit": f.get("unit"),
                "segment": f.get("segment"),
                "given": values.get(f["id"], ""),
                "key": key_value,
                "ok": ok,
            }
        )
    return {"rows": rows, "segments": widget.get("segments", [])}


def _ladder_comparison(
    widget: dict[str, Any], given: dict[str, Any], right: dict[str, Any], shown: bool
) -> dict[str, Any]:
    cells: dict[str, Any] = given["cells"] if isinstance(given.get("cells"), dict) else {}
    keys: dict[str, Any] = right.get("cells", {})
    columns = list(widget.get("columns", []))
    grid = []
    for row in widget.get("rows", []):
        out: list[dict[str, Any]] = []
        for column in columns:
            cell_id = f"r{row['n']}.{column}"
            value = row["cells"].get(column)
            if value is not None:
                out.append({"column": column, "blank": False, "value": value})
                continue
            typed = str(cells.get(cell_id, ""))
            key_value = keys.get(cell_id)
            ok = None
            if shown and key_value is not None:
                mine = ladder_normalise(column, typed) if typed.strip() else None
                ok = mine is not None and mine == ladder_normalise(column, str(key_value))
            out.append({"column": column, "blank": True, "given": typed, "key": key_value, "ok": ok})
        grid.append(
            {
                "n": row["n"],
                "from": row.get("from"),
                "len": row.get("len"),
                "fate": row.get("fate"),
                "cells": out,
            }
        )
    return {"names": widget.get("names", {}), "columns": columns, "rows": grid}


@lru_cache(maxsize=512)
def _state_svg(highlight: tuple[str, ...], lang: str, id_prefix: str) -> str:
    return state_diagram_svg(highlight=highlight, lang=lang, id_prefix=id_prefix)


@lru_cache(maxsize=512)
def _ladder_svg(params_json: str, lang: str, id_prefix: str) -> str | None:
    params = json.loads(params_json)
    isn = params.get("isn") or (1000, 5000)
    try:
        run = scenarios.cached_run(
            str(params["scenario"]),
            int(params.get("first", 0)),
            str(params.get("profile", "rfc9293")),
            (int(isn[0]), int(isn[1])),
            tuple((int(who), int(n)) for who, n in params.get("data") or ()),
        )
    except (KeyError, ValueError, TypeError):
        return None
    names = _NAMES_TEXT[lang]
    lines: list[dict[str, Any]] = []
    for seg in run.segments:
        lines.append(
            {
                "step": seg.n,
                "states": {names[0]: seg.states[0].name, names[1]: seg.states[1].name},
                "segments": [
                    {
                        "from": names[seg.src],
                        "to": names[1 - seg.src],
                        "flags": list(seg.flags),
                        "seq": seg.seq,
                        "ack": seg.ack,
                        "len": seg.length,
                        "fate": seg.fate,
                    }
                ],
            }
        )
    lines.append(
        {
            "step": len(lines) + 1,
            "states": {names[0]: run.final[0].name, names[1]: run.final[1].name},
            "segments": [],
        }
    )
    return ladder_svg(lines, lang=lang, names=names, id_prefix=id_prefix)


def variant_diagrams(variant: dict[str, Any], lang: str, id_prefix: str) -> tuple[str | None, str | None]:
    """The explanation's diagrams: the state diagram with the variant's arcs highlighted, and (for a
    two-endpoint scenario) the engine's ladder of it. Each SVG's ids start with ``id_prefix``."""
    transitions = tuple(sorted(s for s in variant.get("skills", []) if s.startswith("t:")))
    state_svg = _state_svg(transitions, lang, f"{id_prefix}-states") if transitions else None
    params = variant.get("params") or {}
    ladder = None
    if isinstance(params, dict) and params.get("scenario"):
        ladder = _ladder_svg(json.dumps(params, sort_keys=True), lang, f"{id_prefix}-ladder")
    return state_svg, ladder


@dataclass(frozen=True)
class QuestionReview:
    """One question of a closed attempt (or a practised one), as the review page shows it."""

    position: int
    points: int
    public: dict[str, Any]
    answer: Answer | None
    response: Any
    result: AnswerResult | None
    comparison: dict[str, Any]
    state_svg: str | None
    ladder_svg: str | None
    skills: list[tuple[str, str]]
    state: str
    # none (not answered) | hidden (review not allowed) | pending | failed | graded
    status: str


def _review_status(answer: Answer | None, review: bool) -> str:
    if answer is None:
        return "none"
    if not review:
        return "hidden"
    return str(answer.status)


def question_review(*, question: AttemptQuestion, lang: str, review: bool) -> QuestionReview:
    """``question`` for the review page; the key, explanation and diagrams only when ``review``."""
    public = question.public[lang]
    answer: Answer | None = getattr(question, "answer_or_none", None)
    draft: Draft | None = getattr(question, "draft_or_none", None)
    response = answer.response if answer is not None else (draft.response if draft is not None else None)
    result = answer_result(answer=answer, lang=lang) if (answer is not None and review) else None
    state_svg = ladder = None
    if review:
        state_svg, ladder = variant_diagrams(question.variant, lang, f"q{question.position}")
    return QuestionReview(
        position=question.position,
        points=question.points,
        public=public,
        answer=answer,
        response=response,
        result=result,
        comparison=answer_comparison(public, response, question.variant.get("key") if review else None),
        state_svg=state_svg,
        ladder_svg=ladder,
        skills=[(s, skill_label(s, lang)) for s in question.variant.get("skills", [])] if review else [],
        state=question_state(question, review=review),
        status=_review_status(answer, review),
    )


@dataclass(frozen=True)
class SkillScore:
    skill: str
    label: str
    points_total: int
    points_scored: float

    @property
    def percent(self) -> int:
        return round(100 * self.points_scored / self.points_total) if self.points_total else 0

    @property
    def is_concept(self) -> bool:
        return self.skill.startswith("c:")


def attempt_skill_breakdown(*, questions: list[AttemptQuestion], lang: str) -> list[SkillScore]:
    """Per skill of the attempt's variants: the points at stake and scored (graded answers only),
    weakest first."""
    totals: dict[str, list[float]] = {}
    for question in questions:
        answer: Answer | None = getattr(question, "answer_or_none", None)
        scored = (
            float(answer.score or 0.0) * question.points
            if answer is not None and answer.status == Answer.Status.GRADED
            else 0.0
        )
        for skill in question.variant.get("skills", []):
            entry = totals.setdefault(skill, [0.0, 0.0])
            entry[0] += question.points
            entry[1] += scored
    rows = [SkillScore(s, skill_label(s, lang), int(t), round(p, 2)) for s, (t, p) in totals.items()]
    return sorted(rows, key=lambda r: (not r.is_concept, r.percent, r.label))


# --- Mastery and spaced repetition (py-fsrs) ------------------------------------------------------------


@dataclass(frozen=True)
class SkillEvent:
    """One graded variant: when, which skills it exercised, and how it went."""

    at: datetime
    skills: tuple[str, ...]
    score: float

    @property
    def correct(self) -> bool:
        return self.score >= 1.0


def skill_history(*, user: UserLike, limit: int = HISTORY_LIMIT) -> list[SkillEvent]:
    """The user's last ``limit`` graded answers (quizzes and the practice page), oldest first.

    Malformed answers (format errors) count for nothing, here as in the score.
    """
    member = signed_in(user)
    if member is None:
        return []
    graded = (
        Answer.objects.filter(attempt__user=member, status=Answer.Status.GRADED, format_error__isnull=True)
        .order_by("-graded_at")
        .values_list("graded_at", "score", "question__stored__variant__skills")[:limit]
    )
    practised = (
        PracticeAnswer.objects.filter(user=member)
        .order_by("-created_at")
        .values_list("created_at", "score", "skills")[:limit]
    )
    events = [
        SkillEvent(at, tuple(skills or ()), float(score or 0.0))
        for at, score, skills in [*graded, *practised]
        if at is not None
    ]
    events.sort(key=lambda e: e.at)
    return events[-limit:]


@dataclass(frozen=True)
class SkillMastery:
    """How a student stands on one skill: share right of its recent variants, and when it is due."""

    skill: str
    label: str
    right: int
    seen: int
    due: datetime
    retrievability: float

    @property
    def percent(self) -> int:
        return round(100 * self.right / self.seen) if self.seen else 0

    @property
    def is_concept(self) -> bool:
        return self.skill.startswith("c:")


@cache
def _scheduler() -> fsrs.Scheduler:
    # No fuzzing: the same history always gives the same due dates.
    return fsrs.Scheduler(enable_fuzzing=False)


def _rating(event: SkillEvent) -> fsrs.Rating:
    if event.correct:
        return fsrs.Rating.Good
    return fsrs.Rating.Hard if event.score >= 0.5 else fsrs.Rating.Again


def skill_mastery(*, user: UserLike, lang: str, now: datetime | None = None) -> list[SkillMastery]:
    """Every skill the user has met, weakest first.

    Mastery is the share of its last MASTERY_RECENT variants answered right. Each graded variant is
    also a review of each of its skills for FSRS (right: Good; half right: Hard; else Again); the
    replayed card gives the skill's next due date and its recall probability now.
    """
    now = now or timezone.now()
    scheduler = _scheduler()
    recent: dict[str, list[bool]] = {}
    cards: dict[str, fsrs.Card] = {}
    for event in skill_history(user=user):
        rating = _rating(event)
        for skill in event.skills:
            recent.setdefault(skill, []).append(event.correct)
            card = cards.get(skill) or fsrs.Card(card_id=len(cards) + 1, due=event.at)
            cards[skill], _log = scheduler.review_card(card, rating, event.at)
    rows = []
    for skill, results in recent.items():
        last = results[-MASTERY_RECENT:]
        card = cards[skill]
        rows.append(
            SkillMastery(
                skill=skill,
                label=skill_label(skill, lang),
                right=sum(last),
                seen=len(last),
                due=card.due,
                retrievability=float(scheduler.get_card_retrievability(card, now)),
            )
        )
    return sorted(rows, key=lambda r: (r.percent, -r.seen, r.label))


@dataclass(frozen=True)
class OpenQuiz:
    quiz: Quiz
    attempt: Attempt | None
    attempts_used: int
    attempts_left: int | None
    seconds_left: int | None


@dataclass(frozen=True)
class PastAttempt:
    attempt: Attempt
    review: bool
    points_scored: float
    points_total: int
    pending: int

    @property
    def percent(self) -> int:
        return round(100 * self.points_scored / self.points_total) if self.points_total else 0


@dataclass(frozen=True)
class Dashboard:
    courses: list[Course]
    open_quizzes: list[OpenQuiz]
    past_attempts: list[PastAttempt]
    mastery: list[SkillMastery]
    weakest: list[SkillMastery]
    due: list[SkillMastery]


DASHBOARD_PAST = 8
DASHBOARD_WEAKEST = 5
DASHBOARD_DUE = 5


def student_dashboard(*, user: UserLike, lang: str, now: datetime | None = None) -> Dashboard:
    """The student's home: courses, quizzes open now, recent attempts, and mastery per skill."""
    now = now or timezone.now()
    member = signed_in(user)
    courses = list(course_list_for_user(user=user))
    quizzes = [q for q in quiz_list_for_user(user=user) if quiz_is_open(quiz=q, now=now)]
    attempts = list(
        Attempt.objects.filter(user=member).select_related("quiz", "quiz__course").order_by("-started_at")
        if member is not None
        else []
    )
    used: dict[int, int] = {}
    current: dict[int, Attempt] = {}
    for attempt in attempts:
        used[attempt.quiz_id] = used.get(attempt.quiz_id, 0) + 1
        if attempt_is_open(attempt=attempt, now=now):
            current[attempt.quiz_id] = attempt
    open_quizzes = []
    for quiz in quizzes:
        left = None if quiz.max_attempts is None else max(0, quiz.max_attempts - used.get(quiz.pk, 0))
        started = current.get(quiz.pk)
        if started is None and left == 0:
            continue
        open_quizzes.append(
            OpenQuiz(
                quiz=quiz,
                attempt=started,
                attempts_used=used.get(quiz.pk, 0),
                attempts_left=left,
                seconds_left=attempt_seconds_left(attempt=started, now=now) if started else None,
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    open_quizzes.sort(key=lambda o: (o.attempt is None, o.quiz.closes_at or far, o.quiz.title))

    closed = [a for a in attempts if not attempt_is_open(attempt=a, now=now)][:DASHBOARD_PAST]
    points: dict[int, list[float]] = {a.pk: [0, 0.0, 0] for a in closed}
    for question in AttemptQuestion.objects.filter(attempt__in=[a.pk for a in closed]).select_related(
        "answer"
    ):
        entry = points[question.attempt_id]
        entry[0] += question.points
        answer: Answer | None = getattr(question, "answer", None)
        if answer is not None and answer.status == Answer.Status.GRADED:
            entry[1] += float(answer.score or 0.0) * question.points
        elif answer is not None:
            entry[2] += 1
    past = [
        PastAttempt(
            attempt=a,
            review=attempt_review_allowed(attempt=a, now=now),
            points_scored=round(points[a.pk][1], 2),
            points_total=int(points[a.pk][0]),
            pending=int(points[a.pk][2]),
        )
        for a in closed
    ]
    mastery = skill_mastery(user=user, lang=lang, now=now)
    weakest = [m for m in mastery if m.seen >= 2 and m.percent < 100][:DASHBOARD_WEAKEST]
    due = sorted((m for m in mastery if m.due <= now), key=lambda m: m.retrievability)[:DASHBOARD_DUE]
    return Dashboard(courses, open_quizzes, past, mastery, weakest, due)


# --- The practice page ------------------------------------------------------------------------------------


@cache
def _family_skills() -> dict[str, frozenset[str]]:
    """The skills each family was seen to exercise in a small fixed sample (computed once)."""
    seen: dict[str, frozenset[str]] = {}
    for name in families():
        skills: set[str] = set()
        for seed in range(6):
            for level in Difficulty:
                skills.update(make_variant(name, seed, level).skills)
        seen[name] = frozenset(skills)
    return seen


def practice_draw(*, skills: Sequence[str], seed: int, family: str | None = None) -> Variant:
    """A variant exercising at least one of ``skills`` (any, if empty), drawn deterministically from
    ``seed``: families whose sample meets a requested skill are sampled, at most PRACTICE_DRAW_TRIES
    times, and of the first PRACTICE_CANDIDATES hits the one meeting most requested skills wins.

    Raises UnknownFamily or NoMatchingQuestion.
    """
    wanted = frozenset(skills)
    if family is not None:
        family_get(name=family)
        names = [family]
    else:
        index = _family_skills()
        names = [name for name in families() if not wanted or index[name] & wanted] or list(families())
    rng = random.Random(f"practice|{seed}|{','.join(sorted(wanted))}|{family or ''}")
    levels = list(Difficulty)
    hits: list[Variant] = []
    for _attempt in range(PRACTICE_DRAW_TRIES):
        variant = make_variant(rng.choice(names), rng.getrandbits(62), rng.choice(levels))
        if not wanted:
            return variant
        if wanted & set(variant.skills):
            hits.append(variant)
            if len(hits) == PRACTICE_CANDIDATES:
                break
    if not hits:
        raise NoMatchingQuestion(
            _("No question exercises these skills yet. Try a mixed practice instead."),
            details={"skills": sorted(wanted)},
        )
    return max(hits, key=lambda v: len(wanted & set(v.skills)))


def practice_answer_get(*, user: UserLike, variant: Variant) -> PracticeAnswer | None:
    """The user's answer to this very variant on the practice page, if any."""
    member = signed_in(user)
    if member is None:
        return None
    return PracticeAnswer.objects.filter(
        user=member,
        family=variant.family,
        seed=variant.seed,
        difficulty=str(variant.difficulty),
        engine_version=variant.engine_version,
    ).first()


def practice_result(*, practice_answer: PracticeAnswer, variant: Variant, lang: str) -> AnswerResult:
    """The practice answer's result in ``lang`` (same shape as a quiz answer's)."""
    data = variant_to_json(variant)
    return _result(
        data,
        practice_answer.response,
        practice_answer.score,
        practice_answer.feedback,
        practice_answer.misconception,
        None,
        lang,
    )


def practice_review(*, variant: Variant, practice_answer: PracticeAnswer | None, lang: str) -> QuestionReview:
    """A practice-page question for the page: answered, with its key, explanation and diagrams."""
    data = variant_to_json(variant)
    public = variant.public(lang)
    if practice_answer is None:
        return QuestionReview(
            1,
            1,
            public,
            None,
            None,
            None,
            answer_comparison(public, None, None),
            None,
            None,
            [],
            "unanswered",
            "none",
        )
    result = practice_result(practice_answer=practice_answer, variant=variant, lang=lang)
    state_svg, ladder = variant_diagrams(data, lang, "practice")
    return QuestionReview(
        position=1,
        points=1,
        public=public,
        answer=None,
        response=practice_answer.response,
        result=result,
        comparison=answer_comparison(public, practice_answer.response, variant.key),
        state_svg=state_svg,
        ladder_svg=ladder,
        skills=[(s, skill_label(s, lang)) for s in variant.skills],
        state="correct" if result.correct else ("partial" if result.score > 0 else "wrong"),
        status="graded",
    )


# --- Question banks -----------------------------------------------------------------------------------


def question_bank_list(*, course: Course) -> QuerySet[QuestionBank]:
    """The course's question banks, each with ``item_count`` and ``slot_count`` (slots drawing from it)."""
    return (
        QuestionBank.objects.filter(course=course)
        .annotate(item_count=Count("items", distinct=True), slot_count=Count("slots", distinct=True))
        .order_by("title", "id")
    )


def question_bank_get_for_instructor(*, user: UserLike, bank_id: int) -> QuestionBank:
    """The bank, if ``user`` teaches its course; QuestionBankNotFound otherwise."""
    member = signed_in(user)
    bank = None
    if member is not None:
        bank = (
            QuestionBank.objects.select_related("course")
            .filter(
                pk=bank_id,
                course__enrollments__user=member,
                course__enrollments__role=Enrollment.Role.INSTRUCTOR,
            )
            .first()
        )
    if bank is None:
        raise QuestionBankNotFound(_("There is no such question bank in the courses you teach."))
    return bank


def bank_item_get(*, bank: QuestionBank, item_id: int) -> BankItem:
    item = bank.items.filter(pk=item_id).first()
    if item is None:
        raise QuestionBankNotFound(_("This question bank has no such item."))
    return item


# --- Variant pools ------------------------------------------------------------------------------------


def quizzes_opening_soon(*, within: timedelta, now: datetime | None = None) -> list[tuple[int, int]]:
    """(quiz id, number of students) of every published quiz opening within ``within`` from now."""
    now = now or timezone.now()
    students = (
        Enrollment.objects.filter(course=OuterRef("course"), role=Enrollment.Role.STUDENT)
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    opening = Quiz.objects.filter(is_published=True, opens_at__gt=now, opens_at__lte=now + within)
    return [
        (quiz_id, count or 0)
        for quiz_id, count in opening.annotate(students=Subquery(students)).values_list("pk", "students")
    ]
