"""API parity for the student modes: mode and time left, autosave drafts, submit-all, and a review
that is served only when the quiz's review policy allows it (the key never leaks before)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from questions import services
from questions.models import Answer, Attempt, Course, Quiz
from tests.questions.student_helpers import exam_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(course: Course) -> Quiz:
    return exam_create(course)


def _start(api: APIClient, quiz: Quiz) -> dict[str, Any]:
    response = api.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _secrets(attempt: Attempt) -> list[str]:
    """Texts that only a key or an explanation contains."""
    found = []
    for question in attempt.questions.all():
        found.append(question.variant["explanation"]["en"])
        found.append(json.dumps({"key": question.variant["key"]}))
    return found


def test_api_attempt_has_mode_and_time_remaining(api: APIClient, exam: Quiz) -> None:
    """An exam attempt says its mode, whether review is allowed, and the seconds left."""
    body = _start(api, exam)
    assert body["mode"] == "exam"
    assert body["review_allowed"] is False
    assert 890 <= body["time_remaining_seconds"] <= 900
    assert all(q["draft"] is None for q in body["questions"])


def test_api_draft_put_then_get(api: APIClient, exam: Quiz) -> None:
    """PUT saves a draft (incomplete is fine), GET and the attempt's questions return it."""
    attempt_id = _start(api, exam)["id"]
    url = f"/api/v1/attempts/{attempt_id}/questions/2/draft/"
    response = api.put(url, {"response": {"partial": True}}, format="json")
    assert response.status_code == 200
    assert api.get(url).json()["response"] == {"partial": True}
    questions = api.get(f"/api/v1/attempts/{attempt_id}/questions/").json()
    assert questions[1]["draft"] == {"partial": True}


def test_api_draft_refuses_non_object(api: APIClient, exam: Quiz) -> None:
    """A draft must be a JSON object."""
    attempt_id = _start(api, exam)["id"]
    response = api.put(f"/api/v1/attempts/{attempt_id}/questions/1/draft/", {"response": [1]}, format="json")
    assert response.status_code == 400


def test_api_draft_after_deadline_409(api: APIClient, exam: Quiz) -> None:
    """After the deadline a draft is refused: 409 deadline_passed with a clear message."""
    attempt_id = _start(api, exam)["id"]
    Attempt.objects.filter(pk=attempt_id).update(
        deadline=Attempt.objects.get().started_at - timedelta(seconds=1)
    )
    response = api.put(f"/api/v1/attempts/{attempt_id}/questions/1/draft/", {"response": {}}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "deadline_passed"
    assert "Time is up" in response.json()["error"]["message"]


def test_api_submit_all_turns_drafts_into_answers(
    api: APIClient, exam: Quiz, django_capture_on_commit_callbacks: Any
) -> None:
    """Submitting the attempt makes the saved drafts answers and grades them."""
    attempt_id = _start(api, exam)["id"]
    question = Attempt.objects.get().questions.get(position=1)
    api.put(
        f"/api/v1/attempts/{attempt_id}/questions/1/draft/",
        {"response": question.variant["key"]},
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = api.post(f"/api/v1/attempts/{attempt_id}/submit/").json()
    assert body["status"] == "submitted"
    assert Answer.objects.get().status == Answer.Status.GRADED
    assert body["review_allowed"] is True


def test_api_key_never_leaks_before_review(api: APIClient, student: User, exam: Quiz) -> None:
    """While the exam is open no endpoint carries a key or an explanation, and the review is 409."""
    attempt_id = _start(api, exam)["id"]
    attempt = Attempt.objects.get()
    question = attempt.questions.get(position=1)
    api.put(f"/api/v1/attempts/{attempt_id}/questions/2/draft/", {"response": {"choice": "a"}}, format="json")
    answer = api.post(
        f"/api/v1/attempts/{attempt_id}/answers/",
        {"question": 1, "response": question.variant["key"]},
        format="json",
    ).json()
    services.answer_grade(answer_id=answer["id"])
    bodies = [
        api.get(f"/api/v1/attempts/{attempt_id}/").content.decode(),
        api.get(f"/api/v1/attempts/{attempt_id}/questions/").content.decode(),
        api.get(f"/api/v1/answers/{answer['id']}/").content.decode(),
        api.get(f"/api/v1/attempts/{attempt_id}/questions/1/draft/").content.decode(),
    ]
    review = api.get(f"/api/v1/attempts/{attempt_id}/review/")
    assert review.status_code == 409
    assert review.json()["error"]["code"] == "review_not_allowed"
    bodies.append(review.content.decode())
    for body in bodies:
        assert '"key"' not in body or '"result":null' in body.replace(" ", "")
        for secret in _secrets(attempt):
            assert json.dumps(secret)[1:-1] not in body


def test_api_review_after_submit_has_keys_and_skills(api: APIClient, student: User, exam: Quiz) -> None:
    """Once submitted (review after submit), the review carries answers, keys, explanations and skills."""
    attempt_id = _start(api, exam)["id"]
    attempt = Attempt.objects.get()
    services.attempt_submit(user=student, attempt=attempt)
    body = api.get(f"/api/v1/attempts/{attempt_id}/review/?lang=zh-hans").json()
    assert body["points_total"] == 6
    assert len(body["questions"]) == 6
    assert body["questions"][0]["status"] == "none"
    assert any(s["id"].startswith("c:") for s in body["skills"])


def test_api_review_never_when_policy_says_never(api: APIClient, student: User, course: Course) -> None:
    """A quiz whose review policy is "never" never serves the review."""
    quiz = exam_create(course, review=Quiz.Review.NEVER)
    attempt_id = _start(api, quiz)["id"]
    services.attempt_submit(user=student, attempt=Attempt.objects.get())
    assert api.get(f"/api/v1/attempts/{attempt_id}/review/").status_code == 409
