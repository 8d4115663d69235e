"""Celery tasks, run in-process: thin, idempotent, and safe to run twice."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from questions import services
from questions.models import Answer, Attempt
from questions.tasks import answers_pending_sweep, attempts_expire_overdue, grade_answer
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db


def test_grade_answer_twice_grades_once(student: User, attempt: Attempt) -> None:
    """Running the grading task twice grades once: the second run changes nothing."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    grade_answer.apply(args=(answer.pk,)).get()
    first = Answer.objects.get(pk=answer.pk)
    grade_answer.apply(args=(answer.pk,)).get()
    second = Answer.objects.get(pk=answer.pk)
    assert first.status == Answer.Status.GRADED
    assert (second.score, second.graded_at, second.grading_attempts) == (1.0, first.graded_at, 1)


def test_grade_answer_missing_answer_is_no_error(db: None) -> None:
    """A task for a deleted answer finishes quietly (nothing to retry)."""
    result = grade_answer.apply(args=(999_999,))
    assert result.successful()


def test_answers_pending_sweep_grades_left_behind(student: User, attempt: Attempt, settings: object) -> None:
    """The sweep re-enqueues answers left pending; with eager tasks they are graded at once."""
    settings.GRADING_SWEEP_AFTER_SECONDS = 0  # type: ignore[attr-defined]
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    assert answers_pending_sweep.apply().get() == 1
    assert Answer.objects.get(pk=answer.pk).status == Answer.Status.GRADED


def test_attempts_expire_overdue_task_runs(attempt: Attempt) -> None:
    """The expiry task calls its service and reports how many attempts it closed."""
    assert attempts_expire_overdue.apply().get() == 0
