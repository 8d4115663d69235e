"""Reads. Every selector that takes a ``user`` returns only what that user may see.

Objects a user may not see are reported as not found (404), never as forbidden: an id tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from questions.errors import AnswerNotFound, AttemptNotFound, CourseNotFound, QuizNotFound, UnknownQuestion
from questions.generators import misconceptions
from questions.models import Answer, Attempt, AttemptQuestion, Course, Enrollment, Quiz

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


def _visible_quizzes(user: UserLike) -> QuerySet[Quiz]:
    member = signed_in(user)
    if member is None:
        return Quiz.objects.none()
    return (
        Quiz.objects.filter(course__enrollments__user=member)
        .filter(
            Q(is_published=True)
            | Q(course__enrollments__user=member, course__enrollments__role=Enrollment.Role.INSTRUCTOR)
        )
        .distinct()
        .select_related("course")
        .annotate(slot_count=Count("slots", distinct=True))
    )


def quiz_list_for_user(*, user: UserLike, course_id: int | None = None) -> QuerySet[Quiz]:
    """The quizzes of the courses ``user`` is enrolled in (instructors also see unpublished ones)."""
    quizzes = _visible_quizzes(user)
    if course_id is not None:
        quizzes = quizzes.filter(course_id=course_id)
    return quizzes.order_by("course__title", "id")


def quiz_get_for_user(*, user: UserLike, quiz_id: int) -> Quiz:
    """The quiz, if ``user`` may see it; QuizNotFound otherwise."""
    quiz = _visible_quizzes(user).filter(pk=quiz_id).first()
    if quiz is None:
        raise QuizNotFound(_("There is no such quiz in your courses."))
    return quiz


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


def attempt_questions(*, attempt: Attempt) -> list[AttemptQuestion]:
    """The attempt's questions in order, each with ``answer_or_none`` set (no extra query per question)."""
    questions = list(attempt.questions.select_related("answer").order_by("position"))
    for question in questions:
        question.answer_or_none = getattr(question, "answer", None)  # type: ignore[attr-defined]
    return questions


def attempt_question_get(*, attempt: Attempt, position: int) -> AttemptQuestion:
    question = attempt.questions.filter(position=position).first()
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
    questions = attempt.questions.select_related("answer")
    total = answered = graded = pending = points_total = 0
    points_scored = 0.0
    for question in questions:
        total += 1
        points_total += question.points
        answer: Answer | None = getattr(question, "answer", None)
        if answer is None:
            continue
        answered += 1
        if answer.status == Answer.Status.PENDING:
            pending += 1
        elif answer.status == Answer.Status.GRADED:
            graded += 1
            points_scored += (answer.score or 0.0) * question.points
    return AttemptProgress(total, answered, graded, pending, points_total, round(points_scored, 2))


# --- Answers ------------------------------------------------------------------------------------------


def answer_get_for_user(*, user: UserLike, answer_id: int) -> Answer:
    """The answer, if it belongs to one of ``user``'s attempts; AnswerNotFound otherwise."""
    member = signed_in(user)
    answer = None
    if member is not None:
        answer = (
            Answer.objects.select_related("question", "attempt", "attempt__quiz")
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
    variant = answer.question.variant
    choice_texts = {c["id"]: text_in(c["text"], lang) for c in variant.get("choices", [])}
    key = variant.get("key")
    key_choice = key.get("choice") if isinstance(key, dict) else None
    chosen = answer.response.get("choice") if isinstance(answer.response, dict) else None
    score = float(answer.score or 0.0)
    return AnswerResult(
        score=score,
        correct=answer.format_error is None and score >= 1.0,
        feedback=text_in(answer.feedback, lang),
        format_error=text_in(answer.format_error, lang) if answer.format_error else None,
        misconception=answer.misconception or None,
        misconception_title=misconception_title(answer.misconception, lang) if answer.misconception else None,
        misconception_correction=(
            misconception_correction(answer.misconception, lang) if answer.misconception else None
        ),
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
