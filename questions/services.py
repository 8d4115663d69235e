"""Writes. Each service is atomic, takes keyword arguments and no request, and raises DomainError.

Services never enqueue tasks: the views and tasks that call them do (``task.delay_on_commit(id)``).
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from questions.errors import (
    AlreadyAnswered,
    AnswerNotFound,
    AttemptClosed,
    AttemptNotFound,
    IdempotencyKeyReused,
    InvalidJoinCode,
    InvalidResponse,
    NoAttemptsLeft,
    QuizNotFound,
    QuizNotOpen,
)
from questions.generators.base import InputKind
from questions.generators.registry import families, get_family, make_variant
from questions.models import Answer, Attempt, AttemptQuestion, Course, Enrollment, Quiz, QuizSlot
from questions.selectors import (
    UserLike,
    attempt_is_open,
    attempt_question_get,
    quiz_get_for_user,
    quiz_is_open,
    signed_in,
)
from questions.variant_store import variant_from_json, variant_public_all, variant_to_json
from tcpquiz.errors import DomainError

logger = logging.getLogger(__name__)

# Seeds fit a signed 64-bit column on every database.
_SEED_BITS = 62


def join_code_normalize(join_code: str) -> str:
    return join_code.strip().upper()


# --- Courses --------------------------------------------------------------------------------------


@transaction.atomic
def course_create(*, title: str, join_code: str, description: str = "") -> Course:
    course = Course(title=title, join_code=join_code_normalize(join_code), description=description)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def course_join(*, user: User, join_code: str) -> Enrollment:
    """Enroll ``user`` as a student of the course with ``join_code``; joining twice changes nothing."""
    course = Course.objects.filter(join_code=join_code_normalize(join_code)).first()
    if course is None:
        raise InvalidJoinCode(_("No course has this join code. Check it with your instructor."))
    enrollment, _created = Enrollment.objects.get_or_create(
        user=user, course=course, defaults={"role": Enrollment.Role.STUDENT}
    )
    return enrollment


@transaction.atomic
def enrollment_set_role(*, user: User, course: Course, role: Enrollment.Role) -> Enrollment:
    enrollment, _created = Enrollment.objects.update_or_create(
        user=user, course=course, defaults={"role": role}
    )
    return enrollment


@transaction.atomic
def user_signup(*, username: str, password: str, join_code: str, email: str = "") -> User:
    """Create a student account enrolled in the course with ``join_code`` (both or neither)."""
    course = Course.objects.filter(join_code=join_code_normalize(join_code)).first()
    if course is None:
        raise InvalidJoinCode(_("No course has this join code. Check it with your instructor."))
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as error:
        raise DomainError(_("This username is already taken."), details={"username": username}) from error
    Enrollment.objects.create(user=user, course=course, role=Enrollment.Role.STUDENT)
    return user


# --- Quizzes --------------------------------------------------------------------------------------


@transaction.atomic
def quiz_create(
    *,
    course: Course,
    title: str,
    slots: Iterable[tuple[str, str]],
    description: str = "",
    mode: Quiz.Mode = Quiz.Mode.PRACTICE,
    review: Quiz.Review = Quiz.Review.AFTER_SUBMIT,
    time_limit: timedelta | None = None,
    max_attempts: int | None = None,
    shuffle: bool = False,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Quiz:
    """A quiz whose slots are ``(family, difficulty)`` pairs, in order."""
    quiz = Quiz(
        course=course,
        title=title,
        description=description,
        mode=mode,
        review=review,
        time_limit=time_limit,
        max_attempts=max_attempts,
        shuffle=shuffle,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    quiz.full_clean()
    quiz.save()
    known = families()
    for position, (family, difficulty) in enumerate(slots, start=1):
        if family not in known:
            raise DomainError(_("There is no question family called %(family)s.") % {"family": family})
        slot = QuizSlot(quiz=quiz, position=position, family=family, difficulty=difficulty)
        slot.full_clean()
        slot.save()
    return quiz


# --- Attempts -------------------------------------------------------------------------------------


def _attempt_deadline(quiz: Quiz, started_at: datetime) -> datetime | None:
    ends = [
        t
        for t in (started_at + quiz.time_limit if quiz.time_limit else None, quiz.closes_at)
        if t is not None
    ]
    return min(ends) if ends else None


def _attempt_close(attempt: Attempt, now: datetime) -> None:
    """Close an in-progress attempt: expired if its deadline passed, else submitted."""
    if attempt.deadline is not None and now >= attempt.deadline:
        attempt.status = Attempt.Status.EXPIRED
        attempt.submitted_at = attempt.deadline
    else:
        attempt.status = Attempt.Status.SUBMITTED
        attempt.submitted_at = now
    attempt.save(update_fields=["status", "submitted_at"])


@transaction.atomic
def attempt_start(*, user: UserLike, quiz: Quiz, now: datetime | None = None) -> tuple[Attempt, bool]:
    """Open an attempt at ``quiz`` (a variant drawn per slot), or return the one still open.

    Returns ``(attempt, created)``. Raises QuizNotFound, QuizNotOpen or NoAttemptsLeft.
    """
    now = now or timezone.now()
    member = signed_in(user)
    quiz = quiz_get_for_user(user=user, quiz_id=quiz.pk)
    if member is None:
        raise QuizNotFound(_("There is no such quiz in your courses."))
    # One start at a time per student and course: the enrollment row is the lock.
    Enrollment.objects.select_for_update().filter(user=member, course_id=quiz.course_id).first()

    current = (
        Attempt.objects.select_related("quiz")
        .filter(user=member, quiz=quiz, status=Attempt.Status.IN_PROGRESS)
        .first()
    )
    if current is not None:
        if attempt_is_open(attempt=current, now=now):
            return current, False
        _attempt_close(current, now)

    if not quiz_is_open(quiz=quiz, now=now):
        raise QuizNotOpen(_("This quiz is not open for attempts now."))
    used = Attempt.objects.filter(user=member, quiz=quiz).count()
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise NoAttemptsLeft(
            _("You have used all %(count)s attempts at this quiz.") % {"count": quiz.max_attempts},
            details={"max_attempts": quiz.max_attempts},
        )

    attempt = Attempt.objects.create(
        user=member, quiz=quiz, number=used + 1, started_at=now, deadline=_attempt_deadline(quiz, now)
    )
    slots = list(quiz.slots.order_by("position"))
    if quiz.shuffle:
        random.SystemRandom().shuffle(slots)
    for position, slot in enumerate(slots, start=1):
        seed = secrets.randbits(_SEED_BITS)
        variant = make_variant(slot.family, seed, slot.difficulty)
        AttemptQuestion.objects.create(
            attempt=attempt,
            slot=slot,
            position=position,
            family=variant.family,
            seed=seed,
            difficulty=str(variant.difficulty),
            engine_version=variant.engine_version,
            points=slot.points,
            public=variant_public_all(variant),
            variant=variant_to_json(variant),
        )
    return attempt, True


def _attempt_lock(user: UserLike, attempt_id: int) -> Attempt:
    member = signed_in(user)
    attempt = None
    if member is not None:
        attempt = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("quiz")
            .filter(pk=attempt_id, user=member)
            .first()
        )
    if attempt is None:
        raise AttemptNotFound(_("There is no such attempt among yours."))
    return attempt


@transaction.atomic
def attempt_submit(*, user: UserLike, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Close ``attempt`` (submitted, or expired past its deadline); a closed attempt is returned as is."""
    now = now or timezone.now()
    locked = _attempt_lock(user, attempt.pk)
    if locked.status == Attempt.Status.IN_PROGRESS:
        _attempt_close(locked, now)
    return locked


@transaction.atomic
def attempts_expire_overdue(*, now: datetime | None = None) -> int:
    """Mark every in-progress attempt past its deadline as expired; returns how many."""
    now = now or timezone.now()
    return Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline__lte=now).update(
        status=Attempt.Status.EXPIRED, submitted_at=F("deadline")
    )


# --- Answers --------------------------------------------------------------------------------------


def _response_check(question: AttemptQuestion, response: Any) -> None:
    """Refuse a response that cannot be an answer to ``question`` (nothing stored, nothing lost)."""
    variant = question.variant
    if variant.get("kind") == InputKind.SINGLE:
        choice_ids = [c["id"] for c in variant.get("choices", [])]
        choice = response.get("choice") if isinstance(response, dict) else None
        if choice not in choice_ids:
            raise InvalidResponse(
                _("Choose one of the offered answers."),
                details={"choice": choice, "allowed": choice_ids},
            )


@transaction.atomic
def answer_submit(
    *,
    user: UserLike,
    attempt: Attempt,
    position: int,
    response: dict[str, Any],
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Answer, bool]:
    """Store ``user``'s answer to question ``position`` of ``attempt``, pending grading.

    Returns ``(answer, created)``. A repeated ``idempotency_key`` returns the first answer unchanged.
    An answer that was graded as malformed (format error) is replaced; any other is final.
    """
    now = now or timezone.now()
    locked = _attempt_lock(user, attempt.pk)
    if idempotency_key:
        earlier = Answer.objects.select_related("question").filter(
            attempt=locked, idempotency_key=idempotency_key
        )
        if (first := earlier.first()) is not None:
            if first.question.position != position:
                raise IdempotencyKeyReused(
                    _("This idempotency key was already used for another question."),
                    details={"idempotency_key": idempotency_key},
                )
            return first, False
    if not attempt_is_open(attempt=locked, now=now):
        raise AttemptClosed(_("This attempt is closed: no more answers can be submitted."))
    question = attempt_question_get(attempt=locked, position=position)
    _response_check(question, response)

    answer = Answer.objects.filter(question=question).first()
    if answer is not None:
        if answer.format_error is None:
            raise AlreadyAnswered(
                _("You have already answered question %(position)s.") % {"position": position},
                details={"answer": answer.pk},
            )
        answer.response = response
        answer.status = Answer.Status.PENDING
        answer.score = None
        answer.feedback = {}
        answer.misconception = ""
        answer.format_error = None
        answer.graded_at = None
        answer.swept_at = None
        answer.idempotency_key = idempotency_key or ""
        answer.save()
        return answer, True
    answer = Answer.objects.create(
        attempt=locked,
        question=question,
        response=response,
        idempotency_key=idempotency_key or "",
        created_at=now,
    )
    return answer, True


def _answer_lock(answer_id: int) -> Answer:
    answer = (
        Answer.objects.select_for_update(of=("self",)).select_related("question").filter(pk=answer_id).first()
    )
    if answer is None:
        raise AnswerNotFound(_("There is no such answer."))
    return answer


def answer_grade(*, answer_id: int, now: datetime | None = None) -> Answer:
    """Grade a pending answer with its family's grader. Safe to run twice: a graded answer is returned.

    Each run is counted first (in its own transaction), so an answer whose grading keeps crashing is
    marked failed after GRADING_MAX_ATTEMPTS runs instead of being retried forever.
    """
    with transaction.atomic():
        answer = _answer_lock(answer_id)
        if answer.status != Answer.Status.PENDING:
            return answer
        answer.grading_attempts += 1
        if answer.grading_attempts > settings.GRADING_MAX_ATTEMPTS:
            answer.status = Answer.Status.FAILED
            logger.error(
                "Answer %s failed grading %s times; marked failed.", answer.pk, answer.grading_attempts - 1
            )
        answer.save(update_fields=["grading_attempts", "status"])
        if answer.status != Answer.Status.PENDING:
            return answer

    with transaction.atomic():
        answer = _answer_lock(answer_id)
        if answer.status != Answer.Status.PENDING:
            return answer
        try:
            variant = variant_from_json(answer.question.variant)
            result = get_family(variant.family).grade(variant, answer.response)
        except Exception:
            # A grader bug is not transient: retrying cannot help; the answer can be regraded later.
            logger.exception("Grading answer %s raised; marked failed.", answer.pk)
            answer.status = Answer.Status.FAILED
            answer.save(update_fields=["status"])
            return answer
        answer.score = 0.0 if result.format_error else min(1.0, max(0.0, float(result.score)))
        answer.feedback = dict(result.feedback)
        answer.misconception = result.misconception or ""
        answer.format_error = dict(result.format_error) if result.format_error else None
        answer.status = Answer.Status.GRADED
        answer.graded_at = now or timezone.now()
        answer.save(
            update_fields=["score", "feedback", "misconception", "format_error", "status", "graded_at"]
        )
        return answer


@transaction.atomic
def answers_pending_sweep(
    *, older_than: timedelta, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Claim the answers pending for longer than ``older_than`` (and not swept since); returns their ids.

    The caller enqueues them. Marking them swept keeps a slow worker from being sent a copy per sweep.
    """
    now = now or timezone.now()
    cutoff = now - older_than
    ids = list(
        Answer.objects.filter(status=Answer.Status.PENDING, created_at__lte=cutoff)
        .filter(Q(swept_at__isnull=True) | Q(swept_at__lte=cutoff))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    Answer.objects.filter(pk__in=ids).update(swept_at=now)
    return ids
