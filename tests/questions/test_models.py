"""Database constraints back the invariants that concurrent requests could break."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from questions.models import Answer, Attempt, AttemptQuestion, Course, Enrollment, Quiz

pytestmark = pytest.mark.django_db


def test_answer_one_per_question(attempt: Attempt) -> None:
    """The database refuses a second answer to the same attempt question."""
    question = attempt.questions.get(position=1)
    Answer.objects.create(attempt=attempt, question=question, response={"choice": "a"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(attempt=attempt, question=question, response={"choice": "b"})


def test_answer_idempotency_key_unique_per_attempt(attempt: Attempt) -> None:
    """Two answers of one attempt cannot share an idempotency key; empty keys never collide."""
    q1, q2, q3 = attempt.questions.order_by("position")
    Answer.objects.create(attempt=attempt, question=q1, response={}, idempotency_key="")
    Answer.objects.create(attempt=attempt, question=q2, response={}, idempotency_key="")
    Answer.objects.create(attempt=attempt, question=q3, response={}, idempotency_key="k")
    other = Answer(attempt=attempt, question=q3, response={}, idempotency_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.bulk_create([other])


def test_attempt_one_open_per_user_and_quiz(student: User, quiz: Quiz, attempt: Attempt) -> None:
    """A second in-progress attempt for the same user and quiz is refused by the database."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(user=student, quiz=quiz, number=2)


def test_attempt_closed_needs_submitted_at(attempt: Attempt) -> None:
    """A closed attempt without a submission time is refused."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.SUBMITTED)


def test_enrollment_one_per_user_and_course(student: User, course: Course) -> None:
    """A user is enrolled in a course at most once."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(user=student, course=course, role=Enrollment.Role.INSTRUCTOR)


def test_answer_graded_needs_score(attempt: Attempt) -> None:
    """A graded answer without a score is refused."""
    question = attempt.questions.get(position=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(
            attempt=attempt,
            question=question,
            response={},
            status=Answer.Status.GRADED,
            graded_at=timezone.now(),
        )


def test_quiz_closes_after_opens(course: Course) -> None:
    """A quiz cannot close before it opens."""
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Quiz.objects.create(course=course, title="x", opens_at=now, closes_at=now)


@pytest.mark.parametrize(
    ("model", "column", "covering"),
    [
        (Attempt, "user_id", ["user_id", "quiz_id", "number"]),
        (AttemptQuestion, "attempt_id", ["attempt_id", "position"]),
    ],
)
def test_foreign_key_served_by_a_unique_index_has_none_of_its_own(
    model: type[Any], column: str, covering: list[str]
) -> None:
    """A start writes these rows: an index on the key alone would only duplicate the unique index that
    leads with it (which serves every lookup by the key)."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = [c["columns"] for c in found.values() if c["index"] or c["unique"]]
    assert [column] not in indexes
    assert covering in indexes
