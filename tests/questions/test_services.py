"""Services: the domain's writes, their refusals and their idempotence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from questions import services
from questions.errors import (
    AlreadyAnswered,
    AttemptClosed,
    AttemptNotFound,
    IdempotencyKeyReused,
    InvalidJoinCode,
    InvalidResponse,
    NoAttemptsLeft,
    QuizNotFound,
    QuizNotOpen,
    UnknownQuestion,
)
from questions.generators.registry import make_variant
from questions.models import Answer, Attempt, Course, Enrollment, Quiz
from questions.variant_store import variant_to_json
from tests.conftest import key_choice, make_user, wrong_choice

pytestmark = pytest.mark.django_db


def test_course_join_enrolls_as_student(course: Course) -> None:
    """A valid join code (any case, spaces around) enrolls the user as a student."""
    user = make_user("carol")
    enrollment = services.course_join(user=user, join_code="  test-tcp1 ")
    assert enrollment.course == course
    assert enrollment.role == Enrollment.Role.STUDENT


def test_course_join_twice_keeps_one_enrollment(student: User, course: Course) -> None:
    """Joining a course one is already in changes nothing."""
    services.course_join(user=student, join_code=course.join_code)
    assert Enrollment.objects.filter(user=student, course=course).count() == 1


def test_course_join_unknown_code_refused(db: None) -> None:
    """An unknown join code raises InvalidJoinCode."""
    with pytest.raises(InvalidJoinCode):
        services.course_join(user=make_user("dave"), join_code="NOPE")


def test_user_signup_creates_enrolled_student(course: Course) -> None:
    """Signing up with a join code creates the user and their student enrollment."""
    user = services.user_signup(username="erin", password="a-long-password-1", join_code=course.join_code)
    assert user.check_password("a-long-password-1")
    assert Enrollment.objects.get(user=user).role == Enrollment.Role.STUDENT


def test_user_signup_bad_code_creates_nothing(course: Course) -> None:
    """A bad join code creates no user."""
    with pytest.raises(InvalidJoinCode):
        services.user_signup(username="erin", password="a-long-password-1", join_code="WRONG")
    assert not User.objects.filter(username="erin").exists()


def test_attempt_start_stores_one_variant_per_slot(student: User, quiz: Quiz) -> None:
    """Starting draws and stores a variant per slot, with the public payload in both languages."""
    attempt, created = services.attempt_start(user=student, quiz=quiz)
    assert created
    questions = list(attempt.questions.order_by("position"))
    assert [q.position for q in questions] == [1, 2, 3]
    for question, slot in zip(questions, quiz.slots.order_by("position"), strict=True):
        assert question.family == slot.family
        assert question.difficulty == slot.difficulty
        stored = make_variant(question.family, question.seed, question.difficulty)
        assert question.variant == variant_to_json(stored)
        assert set(question.public) == {"en", "zh-hans"}
        assert "key" not in question.public["en"]


def test_attempt_start_seeds_differ(student: User, quiz: Quiz) -> None:
    """Seeds come from a secure random source: the questions of an attempt do not share one."""
    attempt, _ = services.attempt_start(user=student, quiz=quiz)
    assert len(set(attempt.questions.values_list("seed", flat=True))) == 3


def test_attempt_start_resumes_open_attempt(student: User, quiz: Quiz, attempt: Attempt) -> None:
    """Starting again while an attempt is open returns that attempt."""
    again, created = services.attempt_start(user=student, quiz=quiz)
    assert again == attempt
    assert not created


def test_attempt_start_refused_for_outsider(outsider: User, quiz: Quiz) -> None:
    """Someone not enrolled in the course cannot start its quiz."""
    with pytest.raises(QuizNotFound):
        services.attempt_start(user=outsider, quiz=quiz)


def test_attempt_start_refused_for_anonymous(quiz: Quiz) -> None:
    """An anonymous user cannot start a quiz."""
    with pytest.raises(QuizNotFound):
        services.attempt_start(user=AnonymousUser(), quiz=quiz)


def test_attempt_start_refused_after_max_attempts(student: User, quiz: Quiz) -> None:
    """After max_attempts closed attempts, starting again raises NoAttemptsLeft."""
    quiz.max_attempts = 1
    quiz.save()
    attempt, _ = services.attempt_start(user=student, quiz=quiz)
    services.attempt_submit(user=student, attempt=attempt)
    with pytest.raises(NoAttemptsLeft):
        services.attempt_start(user=student, quiz=quiz)


def test_attempt_start_refused_when_quiz_closed(student: User, quiz: Quiz) -> None:
    """A quiz past its closing time cannot be started."""
    quiz.opens_at = timezone.now() - timedelta(days=2)
    quiz.closes_at = timezone.now() - timedelta(days=1)
    quiz.save()
    with pytest.raises(QuizNotOpen):
        services.attempt_start(user=student, quiz=quiz)


def test_attempt_start_deadline_from_time_limit(student: User, quiz: Quiz) -> None:
    """A time limit sets the attempt's deadline."""
    quiz.time_limit = timedelta(minutes=10)
    quiz.save()
    now = timezone.now()
    attempt, _ = services.attempt_start(user=student, quiz=quiz, now=now)
    assert attempt.deadline == now + timedelta(minutes=10)


def test_answer_submit_stores_pending_answer(student: User, attempt: Attempt) -> None:
    """A valid answer is stored, pending, ungraded."""
    answer, created = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    assert created
    assert answer.status == Answer.Status.PENDING
    assert answer.score is None


def test_answer_submit_refused_for_other_users_attempt(other_student: User, attempt: Attempt) -> None:
    """Nobody can answer someone else's attempt; it looks like it does not exist."""
    with pytest.raises(AttemptNotFound):
        services.answer_submit(user=other_student, attempt=attempt, position=1, response={"choice": "a"})


def test_answer_submit_refused_after_submit(student: User, attempt: Attempt) -> None:
    """A submitted attempt takes no more answers."""
    services.attempt_submit(user=student, attempt=attempt)
    with pytest.raises(AttemptClosed):
        services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})


def test_answer_submit_refused_after_deadline(student: User, attempt: Attempt) -> None:
    """An attempt past its deadline takes no more answers."""
    attempt.deadline = timezone.now() - timedelta(seconds=1)
    attempt.save()
    with pytest.raises(AttemptClosed):
        services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})


def test_answer_submit_unknown_question(student: User, attempt: Attempt) -> None:
    """A question number the attempt does not have raises UnknownQuestion."""
    with pytest.raises(UnknownQuestion):
        services.answer_submit(user=student, attempt=attempt, position=99, response={"choice": "a"})


def test_answer_submit_unknown_choice(student: User, attempt: Attempt) -> None:
    """A choice the question does not offer raises InvalidResponse and stores nothing."""
    with pytest.raises(InvalidResponse):
        services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "zz"})
    assert not Answer.objects.exists()


def test_answer_submit_second_answer_refused(student: User, attempt: Attempt) -> None:
    """A question is answered once; a second answer raises AlreadyAnswered."""
    services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    with pytest.raises(AlreadyAnswered):
        services.answer_submit(
            user=student, attempt=attempt, position=1, response={"choice": wrong_choice(attempt, 1)}
        )


def test_answer_submit_idempotency_key_returns_first(student: User, attempt: Attempt) -> None:
    """Resending with the same idempotency key returns the first answer and creates nothing."""
    choice = key_choice(attempt, 1)
    first, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": choice}, idempotency_key="k1"
    )
    again, created = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": choice}, idempotency_key="k1"
    )
    assert again == first
    assert not created
    assert Answer.objects.count() == 1


def test_answer_submit_idempotency_key_reuse_refused(student: User, attempt: Attempt) -> None:
    """One idempotency key cannot answer two questions."""
    services.answer_submit(
        user=student,
        attempt=attempt,
        position=1,
        response={"choice": key_choice(attempt, 1)},
        idempotency_key="k",
    )
    with pytest.raises(IdempotencyKeyReused):
        services.answer_submit(
            user=student,
            attempt=attempt,
            position=2,
            response={"choice": key_choice(attempt, 2)},
            idempotency_key="k",
        )


def test_answer_grade_scores_key_full_marks(student: User, attempt: Attempt) -> None:
    """Grading the key stores score 1, feedback in both languages and the grading time."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    graded = services.answer_grade(answer_id=answer.pk)
    assert graded.status == Answer.Status.GRADED
    assert graded.score == 1.0
    assert set(graded.feedback) == {"en", "zh-hans"}
    assert graded.graded_at is not None
    assert graded.grading_attempts == 1


def test_answer_grade_wrong_choice_records_misconception(student: User, attempt: Attempt) -> None:
    """A wrong choice scores 0 and keeps the misconception its choice was tagged with."""
    question = attempt.questions.get(position=1)
    choice = next(c for c in question.variant["choices"] if c["id"] != question.variant["key"]["choice"])
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": choice["id"]}
    )
    graded = services.answer_grade(answer_id=answer.pk)
    assert graded.score == 0.0
    assert graded.misconception == (choice["misconception"] or "")


def test_answer_grade_twice_changes_nothing(student: User, attempt: Attempt) -> None:
    """A second grading run returns the graded answer untouched (one run counted)."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    first = services.answer_grade(answer_id=answer.pk)
    second = services.answer_grade(answer_id=answer.pk)
    assert (second.score, second.graded_at, second.grading_attempts) == (first.score, first.graded_at, 1)


def test_answer_grade_unknown_family_marks_failed(student: User, attempt: Attempt) -> None:
    """A variant whose family no longer exists is marked failed, not retried forever."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    stored = answer.question.stored
    stored.variant = {**stored.variant, "family": "gone"}
    stored.save()
    assert services.answer_grade(answer_id=answer.pk).status == Answer.Status.FAILED


def test_answer_grade_gives_up_after_max_runs(student: User, attempt: Attempt, settings: object) -> None:
    """An answer already run GRADING_MAX_ATTEMPTS times is marked failed on the next run."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    Answer.objects.filter(pk=answer.pk).update(grading_attempts=5)
    assert services.answer_grade(answer_id=answer.pk).status == Answer.Status.FAILED


def test_answer_submit_replaces_format_error(student: User, attempt: Attempt) -> None:
    """An answer graded as malformed may be sent again; it is then pending once more."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    Answer.objects.filter(pk=answer.pk).update(
        status=Answer.Status.GRADED,
        score=0.0,
        graded_at=timezone.now(),
        format_error={"en": "x", "zh-hans": "x"},
    )
    again, created = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    assert created
    assert again.pk == answer.pk
    assert again.status == Answer.Status.PENDING
    assert again.format_error is None


def test_attempt_submit_closes_attempt(student: User, attempt: Attempt) -> None:
    """Submitting marks the attempt submitted, with its time."""
    closed = services.attempt_submit(user=student, attempt=attempt)
    assert closed.status == Attempt.Status.SUBMITTED
    assert closed.submitted_at is not None


def test_attempt_submit_twice_changes_nothing(student: User, attempt: Attempt) -> None:
    """A second submit keeps the first submission time."""
    first = services.attempt_submit(user=student, attempt=attempt)
    second = services.attempt_submit(user=student, attempt=attempt)
    assert second.submitted_at == first.submitted_at


def test_attempt_submit_past_deadline_expires(student: User, attempt: Attempt) -> None:
    """An attempt submitted after its deadline is expired at the deadline."""
    deadline = timezone.now() - timedelta(minutes=1)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=deadline)
    closed = services.attempt_submit(user=student, attempt=attempt)
    assert closed.status == Attempt.Status.EXPIRED
    assert closed.submitted_at == deadline


def test_attempts_expire_overdue_closes_only_overdue(student: User, attempt: Attempt) -> None:
    """The expiry sweep closes attempts past their deadline and leaves the others."""
    assert services.attempts_expire_overdue() == 0
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert services.attempts_expire_overdue() == 1
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED


def test_answers_pending_sweep_claims_old_pending_once(student: User, attempt: Attempt) -> None:
    """The sweep returns answers pending longer than the threshold, once per threshold period."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    now = timezone.now()
    assert services.answers_pending_sweep(older_than=timedelta(seconds=30), now=now) == []
    later = now + timedelta(seconds=31)
    assert services.answers_pending_sweep(older_than=timedelta(seconds=30), now=later) == [answer.pk]
    assert services.answers_pending_sweep(older_than=timedelta(seconds=30), now=later) == []
    much_later = later + timedelta(seconds=31)
    assert services.answers_pending_sweep(older_than=timedelta(seconds=30), now=much_later) == [answer.pk]


def test_answers_pending_sweep_skips_graded(student: User, attempt: Attempt) -> None:
    """Graded answers are never swept."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    services.answer_grade(answer_id=answer.pk)
    later = timezone.now() + timedelta(hours=1)
    assert services.answers_pending_sweep(older_than=timedelta(seconds=1), now=later) == []
