"""The admin's list of answers stuck or failed in grading, and its "re-enqueue" action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from questions import services
from questions.admin import STUCK_AFTER
from questions.models import Answer, Attempt
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/questions/gradingissue/"


@pytest.fixture
def admin_client_(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-root-123456"))
    return client


def _answer(student: User, attempt: Attempt, position: int) -> Answer:
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=position, response={"choice": key_choice(attempt, position)}
    )
    return answer


def test_admin_grading_issues_lists_stuck_and_failed_only(
    admin_client_: Client, student: User, attempt: Attempt
) -> None:
    """The list shows failed answers and answers pending longer than STUCK_AFTER, nothing else."""
    stuck, failed, fresh = (_answer(student, attempt, p) for p in (1, 2, 3))
    Answer.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - STUCK_AFTER - timedelta(seconds=1))
    Answer.objects.filter(pk=failed.pk).update(status=Answer.Status.FAILED, grading_attempts=6)
    response = admin_client_.get(CHANGELIST)
    assert response.status_code == 200
    listed = {a.pk for a in response.context["cl"].result_list}
    assert listed == {stuck.pk, failed.pk}
    assert fresh.pk not in listed


def test_admin_grading_issues_reenqueue_grades_them(
    admin_client_: Client,
    student: User,
    attempt: Attempt,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    """ "Re-enqueue" gives failed and stuck answers a fresh start, and the worker grades them."""
    stuck, failed = (_answer(student, attempt, p) for p in (1, 2))
    Answer.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - STUCK_AFTER - timedelta(seconds=1), grading_attempts=3
    )
    Answer.objects.filter(pk=failed.pk).update(status=Answer.Status.FAILED, grading_attempts=6)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            CHANGELIST,
            {"action": "answers_reenqueue", "_selected_action": [stuck.pk, failed.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "2 answers sent for grading again." in response.content.decode()
    graded = Answer.objects.filter(pk__in=[stuck.pk, failed.pk])
    assert {(a.status, a.score, a.grading_attempts) for a in graded} == {(Answer.Status.GRADED, 1.0, 1)}


def test_admin_lists_drafts_and_practice_answers_read_only(
    admin_client_: Client, student: User, attempt: Attempt
) -> None:
    """Drafts and practice answers are in the admin, to look at, not to edit or add."""
    services.draft_save(user=student, attempt=attempt, position=1, response={"choice": "a"})
    drafts = admin_client_.get("/admin/questions/draft/")
    assert drafts.status_code == 200
    assert "1 draft" in drafts.content.decode()
    assert admin_client_.get("/admin/questions/draft/add/").status_code == 403
    assert admin_client_.get("/admin/questions/practiceanswer/").status_code == 200
    assert admin_client_.get("/admin/questions/practiceanswer/add/").status_code == 403
