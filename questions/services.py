"""Writes. Each service is atomic, takes keyword arguments and no request, and raises DomainError.

Services never enqueue tasks: the views and tasks that call them do (``task.delay_on_commit(id)``).
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Func, JSONField, Max, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from questions.compiled import CompiledRead, insert_rows, insert_with_child_columns, update_rows
from questions.engine import ENGINE_VERSION
from questions.errors import (
    AlreadyAnswered,
    AnswerNotFound,
    AttemptClosed,
    AttemptNotFound,
    DeadlinePassed,
    IdempotencyKeyReused,
    InvalidJoinCode,
    InvalidResponse,
    NoAttemptsLeft,
    NotInPractice,
    QuizNotFound,
    QuizNotOpen,
    UnknownFamily,
    UnknownQuestion,
)
from questions.generators import bank
from questions.generators.base import GradeResult, InputKind, Variant
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
    RegradeRecord,
    StoredVariant,
)
from questions.selectors import (
    SlotRow,
    UserLike,
    attempt_is_open,
    attempt_question_get,
    first_unordered,
    question_lang,
    quiz_for_start,
    quiz_is_open,
    response_blanks,
    signed_in,
    text_in,
)
from questions.variant_pool import (
    POOL_TTL_SECONDS,
    DrawnVariant,
    variant_pools_fill,
    variant_pools_ids,
    variants_draw,
    variants_still_stored,
)
from questions.variant_store import variant_from_json, variant_public_all, variant_to_json
from tcpquiz.errors import DomainError

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

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
    is_published: bool = True,
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
        is_published=is_published,
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


def _attempt_close(attempt: Attempt, now: datetime) -> list[int]:
    """Close an in-progress attempt: expired if its deadline passed, else submitted.

    Its saved drafts become answers first; returns their ids (the caller enqueues their grading).
    """
    created = _drafts_finalize(attempt, now)
    if attempt.deadline is not None and now >= attempt.deadline:
        attempt.status = Attempt.Status.EXPIRED
        attempt.submitted_at = attempt.deadline
    else:
        attempt.status = Attempt.Status.SUBMITTED
        attempt.submitted_at = now
    attempt.save(update_fields=["status", "submitted_at"])
    return created


def attempt_start(*, user: UserLike, quiz: Quiz | int, now: datetime | None = None) -> tuple[Attempt, bool]:
    """Open an attempt at ``quiz`` (a quiz or its id; a variant drawn per slot), or return the one
    still open.

    Returns ``(attempt, created)``; a new attempt's questions are in ``attempt.new_questions`` with
    their public payloads decoded. Raises QuizNotFound, QuizNotOpen or NoAttemptsLeft.

    Everything that only reads (the quiz with the student's earlier attempts and its slots, in one
    query; the variants from the pools or the engine) is done before the write transaction, so on
    SQLite the one write lock is held for two INSERTs, not for the whole start: at an exam start a
    class does this within seconds.
    """
    now = now or timezone.now()
    member = signed_in(user)
    if member is None:
        raise QuizNotFound(_("There is no such quiz in your courses."))
    read = quiz_for_start(user=member, quiz_id=quiz if isinstance(quiz, int) else quiz.pk)
    quiz, earlier, slots = read.quiz, read.earlier, read.slots
    if any(status == Attempt.Status.IN_PROGRESS for status, _number in earlier):
        current = _attempt_in_progress(member, quiz)
        if current is not None and attempt_is_open(attempt=current, now=now):
            return current, False
    if not quiz_is_open(quiz=quiz, now=now):
        raise QuizNotOpen(_("This quiz is not open for attempts now."))

    # Question and choice order, and bank draws: a generator seeded from the operating system's
    # (secrets), not SystemRandom, which asks the system for every number (about 100 a start: 0.13 ms
    # of CPU against 0.03). The seed is 128 unpredictable bits, and a start takes far fewer numbers
    # from it than the 624 it would take to work out the generator's state.
    shuffler = random.Random(secrets.randbits(128))
    if quiz.shuffle:
        # Questions and, within each question, its choices.
        shuffler.shuffle(slots)
    # Ready-made variants from the pools (questions.variant_pool) when there are; else drawn here. A
    # start that then finds an attempt opened meanwhile leaves them unused (pools only save time).
    variants = variants_draw([quiz_slot_draw(slot=slot, rng=shuffler) for slot in slots])
    if connection.in_atomic_block:
        # A pooled row may be gone (pruned, or the database reset under the pools). Its foreign key is
        # checked when the outermost transaction commits: here a caller's, so look first. Otherwise
        # the commit below fails on it, and the start, run again, replaces it (saves a query).
        variants = variants_still_stored(variants)
    orders: dict[int, list[int] | None] = {}

    def order_of(variant: DrawnVariant) -> list[int] | None:
        # The choices' order drawn once per variant.
        if variant.id not in orders:
            orders[variant.id] = _choice_order(variant.public, shuffler) if quiz.shuffle else None
        return orders[variant.id]

    first_read = [earlier]  # the first try uses the read above; a try after a conflict reads again

    def create() -> tuple[Attempt, list[AttemptQuestion] | None]:
        nonlocal variants
        if first_read:
            prior = first_read.pop()
        else:
            prior = _attempts_earlier(member, quiz)
            variants = variants_still_stored(variants)  # a concurrent start may have taken one
        return _attempt_create(member, quiz, slots, variants, [order_of(v) for v in variants], now, prior)

    attempt, questions = _retrying_on_conflict(create)
    if questions is None:
        return attempt, False
    for question, variant in zip(questions, variants, strict=True):
        # As a read would give them (callers show them without a query); the variant is not at hand.
        question.public = variant.public.ordered(order_of(variant))
    attempt.new_questions = questions  # type: ignore[attr-defined]
    return attempt, True


def _choice_order(public: Mapping[str, Any], rng: random.Random) -> list[int] | None:
    """A random order (indexes) of the choices of ``public`` (a payload in every language), or None
    if it has fewer than two."""
    count = len(public[next(iter(public))].get("choices") or [])
    if count < 2:
        return None
    order = list(range(count))
    rng.shuffle(order)
    return order


def _retrying_on_conflict(work: Callable[[], _T], tries: int = 3) -> _T:
    """``work()``, run again if a concurrent request won a unique constraint first. ``work`` owns its
    transaction (so a conflict has rolled it back when it gets here).

    Two starts of one attempt, or two submits of one answer, at the same moment: the constraints
    (one open attempt per student and quiz, one number per attempt, one answer per question, one
    idempotency key per attempt) let only one commit, and the other, run again, sees what it made.
    """
    for remaining in reversed(range(tries)):
        try:
            return work()
        except IntegrityError:
            if remaining == 0:
                raise
    raise AssertionError("unreachable")


def _attempt_create(
    member: User,
    quiz: Quiz,
    slots: list[SlotRow],
    variants: list[DrawnVariant],
    orders: list[list[int] | None],
    now: datetime,
    earlier: list[tuple[str, int]],
) -> tuple[Attempt, list[AttemptQuestion] | None]:
    """The write part of ``attempt_start``: ``(attempt, questions)``, or ``(open attempt, None)``.

    ``earlier`` (the student's attempts at the quiz: status, number) was read before the transaction
    (on SQLite it holds the one write lock from its first statement): a concurrent start that wrote
    meanwhile makes this INSERT fail on a constraint (one open attempt, one number per attempt), and
    ``attempt_start`` runs it again with a fresh read.
    """
    current = None
    if any(status == Attempt.Status.IN_PROGRESS for status, _number in earlier):
        current = _attempt_in_progress(member, quiz)
        if current is not None and attempt_is_open(attempt=current, now=now):
            return current, None
    if quiz.max_attempts is not None and len(earlier) >= quiz.max_attempts:
        raise NoAttemptsLeft(
            _("You have used all %(count)s attempts at this quiz.") % {"count": quiz.max_attempts},
            details={"max_attempts": quiz.max_attempts},
        )
    attempt = Attempt(
        user=member,
        quiz=quiz,
        number=max((number for _status, number in earlier), default=0) + 1,
        started_at=now,
        deadline=_attempt_deadline(quiz, now),
    )
    # Variants made in this request (no pool, or an empty one) are written first; pooled ones exist.
    new_rows = [variant.row() for variant in variants if variant.stored is not None]
    if not len(slots) == len(variants) == len(orders):
        raise AssertionError("a start needs one variant and one choice order per slot")
    # The questions' columns (insert_with_child_columns builds the instances once the keys are known).
    columns: dict[str, list[Any]] = {
        "slot_id": [slot.id for slot in slots],
        "position": list(range(1, len(slots) + 1)),
        "family": [variant.family for variant in variants],
        "seed": [variant.seed for variant in variants],
        "difficulty": [variant.difficulty for variant in variants],
        "engine_version": [variant.engine_version for variant in variants],
        "points": [slot.points for slot in slots],
        "stored_id": [variant.id for variant in variants],
        "choice_order": list(orders),
    }
    if current is None and not new_rows and not connection.in_atomic_block:
        # The usual start: on PostgreSQL one statement (it commits or fails whole), so no
        # BEGIN and COMMIT round trips; on SQLite a transaction of two INSERTs.
        return attempt, insert_with_child_columns(attempt, AttemptQuestion, "attempt", columns)
    with transaction.atomic():
        if current is not None:
            _attempt_close(current, now)  # its time is up
        if new_rows:
            StoredVariant.objects.bulk_create(new_rows)
        questions = insert_with_child_columns(attempt, AttemptQuestion, "attempt", columns)
    return attempt, questions


_ATTEMPTS_EARLIER = CompiledRead(
    "attempts-earlier",
    lambda user_id, quiz_id: (
        Attempt.objects.filter(user_id=user_id, quiz_id=quiz_id).order_by().values_list("status", "number")
    ),
)


def _attempts_earlier(member: User, quiz: Quiz) -> list[tuple[str, int]]:
    return _ATTEMPTS_EARLIER.rows(user_id=member.pk, quiz_id=quiz.pk)


def _attempt_in_progress(member: User, quiz: Quiz) -> Attempt | None:
    return (
        Attempt.objects.select_related("quiz")
        .filter(user=member, quiz=quiz, status=Attempt.Status.IN_PROGRESS)
        .first()
    )


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
    """Close ``attempt`` (submitted, or expired past its deadline); a closed attempt is returned as is.

    Its drafts become answers pending grading (see ``attempt_submit_all``, which also returns them).
    """
    return attempt_submit_all(user=user, attempt=attempt, now=now)[0]


def attempts_expire_overdue(*, now: datetime | None = None) -> int:
    """Mark every in-progress attempt past its deadline as expired (drafts become answers); returns how
    many. ``attempts_close_overdue`` also returns the answers to grade."""
    return attempts_close_overdue(now=now)[0]


# --- Answers --------------------------------------------------------------------------------------


def _response_check(question: AttemptQuestion, response: Any) -> None:
    """Refuse a response that cannot be an answer to ``question`` (nothing stored, nothing lost).

    Reads the stored variant's ``kind`` and ``choices`` from ``question.variant_kind`` and
    ``question.variant_choices`` when the query annotated them (``_question_for_answer``)."""
    if hasattr(question, "variant_kind"):
        kind, choices = question.variant_kind, getattr(question, "variant_choices", None) or []
    else:
        kind, choices = question.variant.get("kind"), question.variant.get("choices", [])
    if kind == InputKind.SINGLE:
        choice_ids = [c["id"] for c in choices]
        choice = response.get("choice") if isinstance(response, dict) else None
        if choice not in choice_ids:
            raise InvalidResponse(
                _("Choose one of the offered answers."),
                details={"choice": choice, "allowed": choice_ids},
            )


def _question_for_answer_query(
    *, attempt_id: int, user_id: int, position: int, idempotency_key: str | None = None
) -> QuerySet[AttemptQuestion]:
    """The read of ``_question_for_answer`` (compiled once per connection: see questions.compiled)."""
    query = (
        AttemptQuestion.objects.filter(attempt_id=attempt_id, attempt__user_id=user_id, position=position)
        .select_related("attempt__quiz", "answer", "draft")
        .annotate(
            variant_kind=KeyTextTransform("kind", "stored__variant"),
            variant_choices=KeyTransform("choices", "stored__variant"),
        )
    )
    if idempotency_key is not None:
        # No ORDER BY (Answer's default one joins the question table): the key is unique.
        used = Answer.objects.filter(attempt_id=attempt_id, idempotency_key=idempotency_key).order_by()
        query = query.annotate(key_position=Subquery(used.values("question__position")[:1]))
    if connection.features.has_select_for_update:
        query = query.select_for_update(of=("attempt",))
    return query.order_by()[:1]


# With and without an idempotency key are two shapes, compiled apart (the value names differ).
_QUESTION_FOR_ANSWER = CompiledRead("question-for-answer", _question_for_answer_query)


def _question_for_answer(
    user: UserLike, attempt_id: int, position: int, idempotency_key: str | None
) -> AttemptQuestion:
    """Question ``position`` of ``user``'s attempt ``attempt_id``, in one query, with what answering it
    needs: its attempt and quiz, answer and draft; ``key_position``, the position of the question an
    answer of this attempt with ``idempotency_key`` answered (None if none did); and of its stored
    variant only ``variant_kind`` and ``variant_choices`` (the variant and the public payload are most
    of a question's bytes, and answering reads neither).

    On PostgreSQL the query locks the attempt row (FOR UPDATE OF), so closing the attempt waits for
    this answer and this answer for the closing (then it sees the attempt closed). Two submits of one
    answer at once: the second may not see the first's answer, and its INSERT then fails on the one
    answer per question; ``answer_submit`` runs it again, and it does. SQLite has no row locks: a
    transaction there holds the one write lock from its start (``transaction_mode`` IMMEDIATE).
    """
    member = signed_in(user)
    if member is None:
        raise AttemptNotFound(_("There is no such attempt among yours."))
    values: dict[str, int | str] = {"attempt_id": attempt_id, "user_id": member.pk, "position": position}
    if idempotency_key:
        values["idempotency_key"] = idempotency_key
    question = _QUESTION_FOR_ANSWER.first(**values)
    if question is None:
        attempt = _attempt_lock(user, attempt_id)  # AttemptNotFound if it is not theirs
        _attempt_check_open(attempt, timezone.now())
        raise UnknownQuestion(
            _("This attempt has no question number %(position)s.") % {"position": position},
            details={"question": position},
        )
    return question


def answer_submit(
    *,
    user: UserLike,
    attempt: Attempt | int,
    position: int,
    response: dict[str, Any],
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Answer, bool]:
    """Store ``user``'s answer to question ``position`` of ``attempt`` (an attempt or its id; only
    the user's own is found), pending grading.

    Returns ``(answer, created)``. A repeated ``idempotency_key`` returns the first answer unchanged.
    An answer that was graded as malformed (format error) is replaced; any other is final.
    """
    attempt_id = attempt if isinstance(attempt, int) else attempt.pk
    return _retrying_on_conflict(
        lambda: _answer_submit(user, attempt_id, position, response, idempotency_key, now or timezone.now())
    )


def _answer_submit(
    user: UserLike,
    attempt_id: int,
    position: int,
    response: dict[str, Any],
    idempotency_key: str | None,
    now: datetime,
) -> tuple[Answer, bool]:
    # PostgreSQL: the read (which locks the attempt row) and the write are one transaction. SQLite: a
    # transaction holds the database's one write lock from its first statement, so the read comes
    # before it, and the transaction holds the lock for a look at the attempt's status and the write.
    row_locks = connection.features.has_select_for_update
    with transaction.atomic() if row_locks else contextlib.nullcontext():
        question = _question_for_answer(user, attempt_id, position, idempotency_key)
        locked = question.attempt
        answer: Answer | None = getattr(question, "answer", None)
        key_position = getattr(question, "key_position", None)
        if key_position is not None:
            if key_position != position:
                raise IdempotencyKeyReused(
                    _("This idempotency key was already used for another question."),
                    details={"idempotency_key": idempotency_key},
                )
            if answer is not None:
                return answer, False
        _attempt_check_open(locked, now)
        _response_check(question, response)
        with transaction.atomic(savepoint=not row_locks):
            if not row_locks:
                _attempt_check_still_open(locked, now)
            return _answer_write(question, answer, response, idempotency_key, now)


def _attempt_check_still_open(attempt: Attempt, now: datetime) -> None:
    """SQLite, in the write transaction: refuse if ``attempt`` was closed since it was read."""
    status = first_unordered(Attempt.objects.filter(pk=attempt.pk).values_list("status", flat=True))
    if status != Attempt.Status.IN_PROGRESS:
        attempt.refresh_from_db(fields=["status", "submitted_at"])
        _attempt_check_open(attempt, now)


def _answer_write(
    question: AttemptQuestion,
    answer: Answer | None,
    response: dict[str, Any],
    idempotency_key: str | None,
    now: datetime,
) -> tuple[Answer, bool]:
    """Store the answer to ``question`` (replacing ``answer`` if it was malformed); its draft goes."""
    draft: Draft | None = getattr(question, "draft", None)
    if draft is not None:
        # The answer supersedes whatever was being composed.
        draft.delete()
    if answer is not None:
        if answer.format_error is None:
            raise AlreadyAnswered(
                _("You have already answered question %(position)s.") % {"position": question.position},
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
        # A new response is a new grading job: it goes through the fast (never tried) path again.
        answer.grading_attempts = 0
        answer.idempotency_key = idempotency_key or ""
        answer.save()
        return answer, True
    answer = Answer(
        attempt=question.attempt,
        question=question,
        response=response,
        idempotency_key=idempotency_key or "",
        created_at=now,
    )
    insert_rows([answer])
    return answer, True


def _answer_lock(answer_id: int, *, with_variant: bool = False) -> Answer:
    # The variant, when grading needs it, in the same query (not a second one through the question).
    related = "question__stored" if with_variant else "question"
    locked = Answer.objects.select_for_update(of=("self",)).select_related(related)
    answer = locked.filter(pk=answer_id).first()
    if answer is None:
        raise AnswerNotFound(_("There is no such answer."))
    return answer


class _VariantForGrading(Func):
    """A stored variant without its diagram: graders never read it, and it is most of the bytes."""

    output_field = JSONField()
    template = "%(expressions)s"

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s - 'diagram_svg')", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="json_remove(%(expressions)s, '$.diagram_svg')", **extra
        )


def _grading_test_delay() -> None:
    # TEST ONLY (TCPQUIZ_GRADING_TEST_DELAY_S): lets the fault tests kill a worker while it grades.
    if settings.GRADING_TEST_DELAY_S > 0:
        time.sleep(settings.GRADING_TEST_DELAY_S)


def _graded_fields(answer_id: int, stored_variant: dict[str, Any], response: Any) -> dict[str, Any]:
    """The columns grading ``response`` sets on answer ``answer_id`` (status failed if the grader raised)."""
    try:
        variant = variant_from_json(stored_variant)
        result = get_family(variant.family).grade(variant, response)
    except Exception:
        # A grader bug is not transient: retrying cannot help; the answer can be regraded later.
        logger.exception("Grading answer %s raised; marked failed.", answer_id)
        return {"status": Answer.Status.FAILED}
    return _result_fields(result)


def _result_fields(result: GradeResult) -> dict[str, Any]:
    """The columns of a graded answer, from its grader's result."""
    return {
        "score": 0.0 if result.format_error else min(1.0, max(0.0, float(result.score))),
        "feedback": dict(result.feedback),
        "misconception": result.misconception or "",
        "format_error": dict(result.format_error) if result.format_error else None,
        "status": Answer.Status.GRADED,
        "graded_at": timezone.now(),
    }


def answer_grade(*, answer_id: int, now: datetime | None = None) -> Answer:
    """Grade a pending answer with its family's grader. Safe to run twice: a graded answer is returned.

    Each run is counted first (in its own transaction), so an answer whose grading keeps crashing is
    marked failed after GRADING_MAX_ATTEMPTS runs instead of being retried forever. This is the careful
    path (retries, the sweep's suspects, the admin's re-enqueue); ``answers_grade_batch`` is the fast one.
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
        answer = _answer_lock(answer_id, with_variant=True)
        if answer.status != Answer.Status.PENDING:
            return answer
        _grading_test_delay()
        fields = _graded_fields(answer.pk, answer.question.variant, answer.response)
        if now is not None and "graded_at" in fields:
            fields["graded_at"] = now
        for name, value in fields.items():
            setattr(answer, name, value)
        answer.save(update_fields=list(fields))
        return answer


def answers_grade_batch(
    *, answer_ids: Iterable[int] | None = None, limit: int | None = None, now: datetime | None = None
) -> list[int]:
    """Grade up to ``limit`` pending answers at once; returns the ids it graded (or marked failed).

    Without ``answer_ids`` it takes the oldest pending answers never tried before: an answer that was
    tried goes through ``answer_grade``, which counts each run first. Safe to run twice, and
    concurrently: an answer is written only while it is still pending, so it is graded once.

    On PostgreSQL the rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent
    workers take disjoint batches, and claim, grades and run counts commit together. On SQLite, where
    a write transaction holds the whole database, the answers are graded first, outside any
    transaction, then written in one short transaction, each only if still as read (pending, same
    run count). Either way a worker killed mid-batch leaves every answer of it pending and untried.
    """
    limit = limit or settings.GRADING_BATCH_SIZE
    pending = Answer.objects.filter(status=Answer.Status.PENDING)
    if answer_ids is None:
        pending = pending.filter(grading_attempts=0)
    else:
        pending = pending.filter(pk__in=list(answer_ids))
    columns = ("pk", "grading_attempts", "response", _VariantForGrading("question__stored__variant"))
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            # The rows are claimed in a subquery of the answer table alone, and only those are joined
            # to their variants. With the join in the locking query, a plan made from stale statistics
            # (the table grew by thousands of answers since autovacuum last analysed it) joined every
            # pending answer, stripped every variant and sorted the lot for each batch of 50: 226 ms
            # instead of 3 with 10,200 pending (EXPLAIN ANALYZE), a backlog drained at 170/s.
            claimed = pending.select_for_update(skip_locked=True).order_by("pk").values("pk")[:limit]
            ours = Answer.objects.filter(pk__in=Subquery(claimed)).order_by("pk")
            rows = list(ours.values_list(*columns))
            graded = _answers_graded(rows, now)
            # The rows are ours until commit: written as they are, one statement per row in one pipeline.
            _answers_graded_write(graded)
            return [answer_id for answer_id, _runs, _fields in graded]
    rows = list(pending.order_by("pk").values_list(*columns)[:limit])
    graded = _answers_graded(rows, now)
    with transaction.atomic():
        return _answers_graded_save(graded)


# Every column grading may set, as it is before grading (a failed grading sets only the status).
_GRADING_RESET: dict[str, Any] = {
    "status": Answer.Status.PENDING,
    "score": None,
    "feedback": {},
    "misconception": "",
    "format_error": None,
    "graded_at": None,
}


def _answers_graded(
    rows: list[tuple[int, int, Any, dict[str, Any]]], now: datetime | None
) -> list[tuple[int, int, dict[str, Any]]]:
    """(answer id, runs so far, columns to set) for each row (id, runs, response, stored variant)."""
    graded = []
    for answer_id, runs, response, stored_variant in rows:
        _grading_test_delay()
        fields = _graded_fields(answer_id, stored_variant, response)
        if now is not None and "graded_at" in fields:
            fields["graded_at"] = now
        graded.append((answer_id, runs, fields))
    return graded


def _answers_graded_save(graded: list[tuple[int, int, dict[str, Any]]]) -> list[int]:
    """Write each grade if its answer is still pending with the same runs; returns the ids written.

    Run in a transaction that holds the write lock from its first statement (SQLite's IMMEDIATE), so
    nothing changes between the look and the write.
    """
    still = dict(
        Answer.objects.filter(pk__in=[answer_id for answer_id, _runs, _fields in graded])
        .filter(status=Answer.Status.PENDING)
        .values_list("pk", "grading_attempts")
    )
    kept = [(answer_id, runs, fields) for answer_id, runs, fields in graded if still.get(answer_id) == runs]
    _answers_graded_write(kept)
    return [answer_id for answer_id, _runs, _fields in kept]


def _answers_graded_write(graded: list[tuple[int, int, dict[str, Any]]]) -> None:
    """Store each (answer id, runs so far, columns grading set), counting the run."""
    update_rows(
        Answer,
        ["grading_attempts", *_GRADING_RESET],
        [
            (answer_id, {"grading_attempts": runs + 1, **_GRADING_RESET, **fields})
            for answer_id, runs, fields in graded
        ],
    )


@transaction.atomic
def answers_grading_reset(*, answer_ids: Iterable[int]) -> list[int]:
    """Give failed or stuck answers a fresh start (pending, no run counted); returns the pending ids.

    The caller enqueues them. A graded answer is left alone.
    """
    ids = list(answer_ids)
    Answer.objects.filter(pk__in=ids, status__in=[Answer.Status.PENDING, Answer.Status.FAILED]).update(
        status=Answer.Status.PENDING, grading_attempts=0, swept_at=None
    )
    return list(
        Answer.objects.filter(pk__in=ids, status=Answer.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


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


# --- Regrading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    answer_id: int
    family: str
    old_score: float | None
    new_score: float | None


@dataclass(frozen=True)
class RegradeSummary:
    """What ``answers_regrade`` did (or, in a dry run, would do)."""

    dry_run: bool
    questions: int = 0  # stored variants recomputed
    keys_changed: int = 0  # of which the key now means something else
    answers: int = 0  # answers graded again (one RegradeRecord each, unless a dry run)
    errors: int = 0  # variants that could not be recomputed (left as they were)
    changes: tuple[ScoreChange, ...] = ()  # the answers whose score changed


def _key_meaning(variant: Variant) -> Any:
    """The key as the student sees it: choice texts rather than ids (a rebuild may reorder choices)."""
    if variant.kind in (InputKind.SINGLE, InputKind.MULTIPLE) and isinstance(variant.key, dict):
        text = {c.id: c.text.get("en", "") for c in variant.choices}
        if "choice" in variant.key:
            return text.get(str(variant.key["choice"]))
        if isinstance(variant.key.get("choices"), list):
            return sorted(text.get(str(c), "") for c in variant.key["choices"])
    return variant.key


def _response_remap(old: Variant, new: Variant, response: Any) -> Any:
    """``response`` to ``old`` in terms of ``new``: choice ids matched by text, other kinds unchanged."""
    if new.kind not in (InputKind.SINGLE, InputKind.MULTIPLE) or not isinstance(response, dict):
        return response
    by_text = {c.text.get("en", ""): c.id for c in new.choices}
    old_text = {c.id: c.text.get("en", "") for c in old.choices}
    if "choice" in response:
        return response | {"choice": by_text.get(old_text.get(str(response["choice"]), ""), "")}
    if isinstance(response.get("choices"), list):
        return response | {
            "choices": [by_text.get(old_text.get(str(c), ""), "") for c in response["choices"]]
        }
    return response


def answers_regrade(
    *,
    family: str | None = None,
    dry_run: bool = False,
    include_current: bool = False,
    chunk_size: int = 200,
) -> RegradeSummary:
    """Recompute the stored variants made by an older engine and grade their answers again.

    Each variant is rebuilt with ``bank.recompute`` (same question, current key) and stored; its
    answer, if graded or failed, is graded again with ``bank.regrade`` and a RegradeRecord keeps the
    old and new score. A pending answer just gets the new variant, graded as usual. Either way its
    response is rewritten in the new variant's choice ids (a rebuild may reorder choices).
    ``family`` limits the run to one question family, ``include_current`` recomputes variants of the
    current engine too, ``dry_run`` writes nothing.
    Each chunk is one transaction; the answer row is locked while its question changes, so a grader
    running meanwhile either grades with the new key or is regraded here. Running it twice changes
    nothing the second time (the variants are then current).
    """
    if family is not None and family not in families():
        raise UnknownFamily(
            _("There is no question family called %(family)s.") % {"family": family},
            details={"family": family},
        )
    questions = AttemptQuestion.objects.order_by("pk")
    if family is not None:
        questions = questions.filter(family=family)
    if not include_current:
        questions = questions.exclude(engine_version=ENGINE_VERSION)
    ids = list(questions.values_list("pk", flat=True))
    counts = {"questions": 0, "keys_changed": 0, "answers": 0, "errors": 0}
    changes: list[ScoreChange] = []
    for start in range(0, len(ids), chunk_size):
        with transaction.atomic():
            for question_id in ids[start : start + chunk_size]:
                _question_regrade(question_id, dry_run, counts, changes)
    return RegradeSummary(dry_run=dry_run, changes=tuple(changes), **counts)


def _question_regrade(
    question_id: int, dry_run: bool, counts: dict[str, int], changes: list[ScoreChange]
) -> None:
    answer = Answer.objects.select_for_update(of=("self",)).filter(question_id=question_id).first()
    question = AttemptQuestion.objects.select_related("stored").get(pk=question_id)
    try:
        old = variant_from_json(question.variant)
        new = bank.recompute(old.ref())
    except Exception:
        logger.exception(
            "Regrade: the variant of question %s could not be recomputed; left as is.", question_id
        )
        counts["errors"] += 1
        return
    counts["questions"] += 1
    counts["keys_changed"] += _key_meaning(old) != _key_meaning(new)
    regraded: dict[str, Any] | None = None
    if answer is not None and answer.status != Answer.Status.PENDING:
        response = _response_remap(old, new, answer.response)
        try:
            result = bank.regrade(old, answer.response, new)
        except Exception:
            logger.exception("Regrading answer %s raised; marked failed.", answer.pk)
            regraded = {"status": Answer.Status.FAILED, "score": None, "response": response}
        else:
            regraded = _result_fields(result) | {"response": response}
        counts["answers"] += 1
        old_score = answer.score if answer.status == Answer.Status.GRADED else None
        if regraded.get("score") != old_score:
            changes.append(ScoreChange(answer.pk, question.family, old_score, regraded.get("score")))
    if dry_run:
        return
    old_key, old_version = question.variant.get("key"), question.engine_version
    stored = question.stored
    stored.variant = variant_to_json(new)
    stored.public = variant_public_all(new)
    stored.engine_version = new.engine_version
    stored.save(update_fields=["variant", "public", "engine_version"])
    question.engine_version = new.engine_version
    if question.choice_order and sorted(question.choice_order) != list(range(len(new.choices))):
        question.choice_order = None  # the rebuilt question has other choices: shown as generated
    question.save(update_fields=["engine_version", "choice_order"])
    if answer is None:
        return
    if regraded is None:
        # Pending: graded later against the new variant, so its response follows the choices there.
        answer.response = _response_remap(old, new, answer.response)
        answer.save(update_fields=["response"])
        return
    old_score = answer.score if answer.status == Answer.Status.GRADED else None
    for name, value in regraded.items():
        setattr(answer, name, value)
    answer.save(update_fields=list(regraded))
    RegradeRecord.objects.create(
        answer=answer,
        old_score=old_score,
        new_score=answer.score if answer.status == Answer.Status.GRADED else None,
        old_engine_version=old_version,
        new_engine_version=new.engine_version,
        old_key=old_key,
        new_key=new.key,
    )


# --- Instructor authoring -------------------------------------------------------------------------
# Callers pass objects fetched with the ``*_for_instructor`` selectors, which check who teaches what.

# No 0/O or 1/I: codes are read aloud and copied from slides.
_JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def join_code_generate() -> str:
    """A fresh random join code such as ``TCP-7K2Q-M9XD`` (not checked for uniqueness)."""
    first, second = ("".join(secrets.choice(_JOIN_CODE_ALPHABET) for _ in range(4)) for _ in range(2))
    return f"TCP-{first}-{second}"


def _clean(instance: Any) -> None:
    """``full_clean`` that raises a DomainError (shown as a message or a 400), not a ValidationError."""
    try:
        instance.full_clean()
    except ValidationError as error:
        messages = [str(m) for m in error.messages]
        raise DomainError(" ".join(messages), details=getattr(error, "message_dict", {})) from error


@transaction.atomic
def course_join_code_regenerate(*, course: Course) -> Course:
    """Give ``course`` a fresh random join code; the old code stops working at once."""
    locked = Course.objects.select_for_update().get(pk=course.pk)
    code = join_code_generate()
    while Course.objects.filter(join_code=code).exists():
        code = join_code_generate()
    locked.join_code = code
    locked.save(update_fields=["join_code"])
    return locked


@transaction.atomic
def quiz_update(
    *,
    quiz: Quiz,
    title: str,
    description: str,
    mode: str,
    review: str,
    time_limit: timedelta | None,
    max_attempts: int | None,
    shuffle: bool,
    opens_at: datetime | None,
    closes_at: datetime | None,
    is_published: bool,
) -> Quiz:
    """Change a quiz's settings. Attempts already started keep the questions they drew."""
    locked = Quiz.objects.select_for_update().get(pk=quiz.pk)
    locked.title = title
    locked.description = description
    locked.mode = mode
    locked.review = review
    locked.time_limit = time_limit
    locked.max_attempts = max_attempts
    locked.shuffle = shuffle
    locked.opens_at = opens_at
    locked.closes_at = closes_at
    locked.is_published = is_published
    _clean(locked)
    locked.save()
    return locked


def _quiz_lock(quiz: Quiz) -> Quiz:
    # Slot positions are renumbered under the quiz's row lock, so two edits never collide.
    return Quiz.objects.select_for_update().get(pk=quiz.pk)


def _family_check(family: str) -> None:
    if family not in families():
        raise UnknownFamily(
            _("There is no question family called %(family)s.") % {"family": family},
            details={"family": family},
        )


@transaction.atomic
def quiz_slot_add(*, quiz: Quiz, family: str, difficulty: str, points: int = 1) -> QuizSlot:
    """Append a question slot to ``quiz``: each new attempt draws a fresh variant of ``family``."""
    locked = _quiz_lock(quiz)
    _family_check(family)
    last = locked.slots.aggregate(last=Max("position"))["last"] or 0
    slot = QuizSlot(quiz=locked, position=last + 1, family=family, difficulty=difficulty, points=points)
    _clean(slot)
    slot.save()
    return slot


@transaction.atomic
def quiz_slot_update(*, slot: QuizSlot, family: str, difficulty: str, points: int) -> QuizSlot:
    """Change what a slot draws; questions already drawn by attempts stay as they are."""
    _quiz_lock(slot.quiz)
    _family_check(family)
    locked = QuizSlot.objects.get(pk=slot.pk)
    locked.family = family
    locked.difficulty = difficulty
    locked.points = points
    _clean(locked)
    locked.save(update_fields=["family", "difficulty", "points"])
    return locked


@transaction.atomic
def quiz_slot_remove(*, slot: QuizSlot) -> None:
    """Delete a slot and close the gap (the slots after it move up one position)."""
    locked = _quiz_lock(slot.quiz)
    current = locked.slots.filter(pk=slot.pk).first()
    if current is None:
        return
    position = current.position
    current.delete()
    for later in locked.slots.filter(position__gt=position).order_by("position"):
        later.position -= 1
        later.save(update_fields=["position"])


@transaction.atomic
def quiz_slot_move(*, slot: QuizSlot, offset: int) -> QuizSlot:
    """Swap a slot with its neighbour ``offset`` (-1 up, +1 down); at either end nothing moves."""
    locked = _quiz_lock(slot.quiz)
    current = locked.slots.get(pk=slot.pk)
    neighbour = locked.slots.filter(position=current.position + offset).first()
    if neighbour is None:
        return current
    here, there = current.position, neighbour.position
    # Positions are unique per quiz: park the slot past the end while its neighbour takes its place.
    current.position = (locked.slots.aggregate(last=Max("position"))["last"] or 0) + 1
    current.save(update_fields=["position"])
    neighbour.position = here
    neighbour.save(update_fields=["position"])
    current.position = there
    current.save(update_fields=["position"])
    return current


# --- Students: drafts, submit-all, deadlines, "another one like this", the practice page -------------


def _attempt_check_open(attempt: Attempt, now: datetime) -> None:
    """Refuse work on a closed attempt; past its deadline, say so plainly."""
    if (
        attempt.status == Attempt.Status.IN_PROGRESS
        and attempt.deadline is not None
        and now >= attempt.deadline
    ):
        raise DeadlinePassed(
            _(
                "Time is up: the deadline of this attempt has passed, so this answer was not accepted. "
                "The answers saved before the deadline count."
            ),
            details={"deadline": attempt.deadline.isoformat()},
        )
    if not attempt_is_open(attempt=attempt, now=now):
        raise AttemptClosed(_("This attempt is closed: no more answers can be submitted."))


def _drafts_finalize(attempt: Attempt, now: datetime) -> list[int]:
    """Turn the attempt's drafts into answers (pending grading); returns the new answers' ids.

    A blank draft is no answer, and a question already answered keeps its answer.
    """
    created: list[int] = []
    drafts = (
        Draft.objects.filter(attempt=attempt)
        .select_related("question__stored")
        .defer("question__stored__variant")
        .order_by("question__position")
    )
    answered = set(Answer.objects.filter(attempt=attempt).values_list("question_id", flat=True))
    for draft in drafts:
        question = draft.question
        if question.pk in answered or response_blanks(question.public["en"], draft.response) is None:
            continue
        answer = Answer.objects.create(
            attempt=attempt, question=question, response=draft.response, created_at=now
        )
        created.append(answer.pk)
    Draft.objects.filter(attempt=attempt).delete()
    return created


@transaction.atomic
def draft_save(
    *, user: UserLike, attempt: Attempt, position: int, response: dict[str, Any], now: datetime | None = None
) -> Draft:
    """Autosave the response being composed for question ``position`` (the latest save wins).

    Raises DeadlinePassed, AttemptClosed, UnknownQuestion or AlreadyAnswered (a final answer exists).
    """
    now = now or timezone.now()
    locked = _attempt_lock(user, attempt.pk)
    _attempt_check_open(locked, now)
    question = attempt_question_get(attempt=locked, position=position)
    answer = Answer.objects.filter(question=question).first()
    if answer is not None and answer.format_error is None:
        raise AlreadyAnswered(
            _("You have already answered question %(position)s.") % {"position": position},
            details={"answer": answer.pk},
        )
    draft, _created = Draft.objects.update_or_create(
        question=question, defaults={"attempt": locked, "response": response, "saved_at": now}
    )
    return draft


@transaction.atomic
def attempt_submit_all(
    *, user: UserLike, attempt: Attempt, now: datetime | None = None
) -> tuple[Attempt, list[int]]:
    """Close ``attempt``: every saved draft becomes an answer. Returns the attempt and the ids of
    the answers to grade. Past the deadline the attempt is expired (the drafts saved before count);
    a closed attempt is returned as it is, with nothing to grade."""
    now = now or timezone.now()
    locked = _attempt_lock(user, attempt.pk)
    created: list[int] = []
    if locked.status == Attempt.Status.IN_PROGRESS:
        created = _attempt_close(locked, now)
    return locked, created


@transaction.atomic
def attempt_expire_if_overdue(
    *, user: UserLike, attempt: Attempt, now: datetime | None = None
) -> tuple[Attempt, list[int]]:
    """Close ``attempt`` if its deadline has passed (the pages call this as they load, so an attempt
    closes at its deadline even before the periodic sweep); else change nothing."""
    now = now or timezone.now()
    locked = _attempt_lock(user, attempt.pk)
    if locked.status == Attempt.Status.IN_PROGRESS and not attempt_is_open(attempt=locked, now=now):
        return locked, _attempt_close(locked, now)
    return locked, []


@transaction.atomic
def attempts_close_overdue(*, now: datetime | None = None) -> tuple[int, list[int]]:
    """Expire every in-progress attempt past its deadline, turning its drafts into answers.

    Returns how many attempts closed and the ids of the answers to grade.
    """
    now = now or timezone.now()
    overdue = Attempt.objects.select_for_update(skip_locked=True).filter(
        status=Attempt.Status.IN_PROGRESS, deadline__lte=now
    )
    closed = 0
    created: list[int] = []
    for attempt in overdue:
        created += _attempt_close(attempt, now)
        closed += 1
    return closed, created


@transaction.atomic
def attempt_question_add_like(
    *, user: UserLike, attempt: Attempt, position: int, now: datetime | None = None
) -> AttemptQuestion:
    """Practice only: append a fresh variant of the same family and difficulty as question
    ``position`` ("another one like this"). Raises NotInPractice in an exam."""
    now = now or timezone.now()
    locked = _attempt_lock(user, attempt.pk)
    if locked.quiz.mode != Quiz.Mode.PRACTICE:
        raise NotInPractice(_("An exam gives one question per slot: there is no other one to draw."))
    _attempt_check_open(locked, now)
    like = attempt_question_get(attempt=locked, position=position)
    last = locked.questions.aggregate(last=Max("position"))["last"] or 0
    seed = secrets.randbits(_SEED_BITS)
    variant = make_variant(like.family, seed, like.difficulty)
    stored = StoredVariant.objects.create(
        family=variant.family,
        seed=seed,
        difficulty=str(variant.difficulty),
        engine_version=variant.engine_version,
        public=variant_public_all(variant),
        variant=variant_to_json(variant),
    )
    return AttemptQuestion.objects.create(
        attempt=locked,
        slot=like.slot,
        position=last + 1,
        family=variant.family,
        seed=seed,
        difficulty=str(variant.difficulty),
        engine_version=variant.engine_version,
        points=like.points,
        stored=stored,
    )


@transaction.atomic
def practice_answer_record(
    *,
    user: User,
    variant: Variant,
    response: dict[str, Any],
    requested_skills: list[str],
    now: datetime | None = None,
) -> tuple[PracticeAnswer, bool]:
    """Grade an answer given on the practice page at once and keep it for the student's mastery.

    Returns ``(answer, created)``: only the first answer to a variant counts, a resent one returns it.
    A malformed answer raises InvalidResponse and is not kept (it costs nothing).
    """
    now = now or timezone.now()
    fields = {
        "user": user,
        "family": variant.family,
        "seed": variant.seed,
        "difficulty": str(variant.difficulty),
        "engine_version": variant.engine_version,
    }
    earlier = PracticeAnswer.objects.filter(**fields).first()
    if earlier is not None:
        return earlier, False
    try:
        result = get_family(variant.family).grade(variant, response)
    except Exception as error:
        logger.exception("Grading a practice answer to %s (seed %s) raised.", variant.family, variant.seed)
        raise DomainError(_("This question could not be graded. Try another one.")) from error
    if result.format_error:
        lang = question_lang(get_language())
        raise InvalidResponse(text_in(dict(result.format_error), lang), details={"response": response})
    try:
        with transaction.atomic():
            answer = PracticeAnswer.objects.create(
                **fields,
                skills=list(variant.skills),
                requested_skills=list(requested_skills),
                response=response,
                score=min(1.0, max(0.0, float(result.score))),
                feedback=dict(result.feedback),
                misconception=result.misconception or "",
                created_at=now,
            )
    except IntegrityError:
        # The same form sent twice at once: the first one counts.
        return PracticeAnswer.objects.get(**fields), False
    return answer, True


# --- Question banks -------------------------------------------------------------------------------


@transaction.atomic
def question_bank_create(*, course: Course, title: str) -> QuestionBank:
    bank = QuestionBank(course=course, title=title)
    _clean(bank)
    bank.save()
    return bank


@transaction.atomic
def question_bank_rename(*, bank: QuestionBank, title: str) -> QuestionBank:
    locked = QuestionBank.objects.select_for_update().get(pk=bank.pk)
    locked.title = title
    _clean(locked)
    locked.save(update_fields=["title"])
    return locked


@transaction.atomic
def bank_item_add(*, bank: QuestionBank, family: str, difficulty: str) -> BankItem:
    """Add a (family, difficulty) item to ``bank``; the same pair twice is refused."""
    _family_check(family)
    if bank.items.filter(family=family, difficulty=difficulty).exists():
        raise DomainError(_("This bank already has this family at this difficulty."))
    item = BankItem(bank=bank, family=family, difficulty=difficulty)
    _clean(item)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as error:
        raise DomainError(_("This bank already has this family at this difficulty.")) from error
    return item


@transaction.atomic
def bank_item_remove(*, item: BankItem) -> None:
    BankItem.objects.filter(pk=item.pk).delete()


@transaction.atomic
def quiz_slot_add_from_bank(*, quiz: Quiz, bank: QuestionBank, points: int = 1) -> QuizSlot:
    """Append a slot that draws a random item of ``bank`` (of the quiz's course) for each attempt."""
    locked = _quiz_lock(quiz)
    if bank.course_id != locked.course_id:
        raise DomainError(_("This question bank belongs to another course."))
    first = bank.items.order_by("id").first()
    if first is None:
        raise DomainError(_("This question bank is empty: add items to it first."))
    last = locked.slots.aggregate(last=Max("position"))["last"] or 0
    slot = QuizSlot(
        quiz=locked,
        position=last + 1,
        family=first.family,
        difficulty=first.difficulty,
        points=points,
        bank=bank,
    )
    _clean(slot)
    slot.save()
    return slot


def quiz_slot_draw(*, slot: QuizSlot | SlotRow, rng: random.Random) -> tuple[str, str]:
    """The (family, difficulty) a new attempt gets for ``slot``: a random bank item, or its own."""
    if slot.bank_id is not None:
        items = list(BankItem.objects.filter(bank_id=slot.bank_id).values_list("family", "difficulty"))
        if items:
            return rng.choice(items)
    return slot.family, slot.difficulty


# --- Variant pools --------------------------------------------------------------------------------

# However large a class, a pool is never filled beyond this many variants ahead.
_VARIANT_POOL_MAX = 5_000


def _quiz_variant_pairs(quiz: Quiz) -> list[tuple[str, str]]:
    """Every (family, difficulty) an attempt at ``quiz`` may draw (a bank slot draws any of its items)."""
    pairs: set[tuple[str, str]] = set()
    for slot in quiz.slots.all():
        items: list[tuple[str, str]] = []
        if slot.bank_id is not None:
            items = list(BankItem.objects.filter(bank_id=slot.bank_id).values_list("family", "difficulty"))
        pairs.update(items or [(slot.family, slot.difficulty)])
    return sorted(pairs)


def quiz_variants_prepare(*, quiz_id: int, size: int | None = None, limit: int | None = None) -> int:
    """Fill the variant pools ``quiz_id`` draws from to VARIANT_POOL_SIZE, plus ``size`` more (one per
    student of a quiz about to open).

    The extra ``size`` are on top of the standing pool, not instead of it: a class's own starts then
    leave each pool at its standing size, and no top-up (set off when a start leaves a pool below
    half of it) runs in the middle of the start wave, when the web processes need every core
    (bench.storm's traces: the top-up's first chunks fell in the exam's busiest second).

    Makes at most ``limit`` variants; returns how many it made (so ``limit``: maybe more to do). A
    missing quiz prepares nothing.
    """
    quiz = Quiz.objects.filter(pk=quiz_id).first()
    if quiz is None:
        return 0
    target = min(_VARIANT_POOL_MAX, (size or 0) + settings.VARIANT_POOL_SIZE)
    return variant_pools_fill(pairs=_quiz_variant_pairs(quiz), size=target, limit=limit)


# A stored variant no question uses is kept this long: a pool that is still filled keeps its own.
STORED_VARIANT_KEEP = timedelta(seconds=POOL_TTL_SECONDS) + timedelta(days=1)


def stored_variants_prune(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Delete up to ``limit`` stored variants no question uses, older than STORED_VARIANT_KEEP and in
    no pool (a pool nobody drew from, since dropped; a deleted attempt's). Returns how many.

    A pooled id whose row is gone anyway (drawn while this ran) costs its start one retry with a new
    variant (``variants_still_stored``), never a wrong or lost question."""
    now = now or timezone.now()
    pooled = variant_pools_ids()
    if pooled is None:
        return 0
    unused = StoredVariant.objects.filter(question__isnull=True, created_at__lt=now - STORED_VARIANT_KEEP)
    oldest = unused.order_by("created_at").values_list("pk", flat=True)[:limit]
    ids = [pk for pk in oldest if pk not in pooled]
    deleted = 0
    for start in range(0, len(ids), 500):
        # Still unused at the moment of deleting: a start may have just taken one.
        chunk = StoredVariant.objects.filter(pk__in=ids[start : start + 500], question__isnull=True)
        deleted += chunk.delete()[0]
    return deleted


@transaction.atomic
def attempts_close_overdue_for_user(*, user: UserLike, now: datetime | None = None) -> list[int]:
    """Close ``user``'s attempts whose deadline has passed (pages listing attempts call it, so none
    shows "in progress" after its time); returns the ids of the answers to grade."""
    now = now or timezone.now()
    member = signed_in(user)
    if member is None:
        return []
    created: list[int] = []
    in_progress = Attempt.objects.select_for_update(of=("self",)).select_related("quiz")
    for attempt in in_progress.filter(user=member, status=Attempt.Status.IN_PROGRESS):
        if not attempt_is_open(attempt=attempt, now=now):
            created += _attempt_close(attempt, now)
    return created
