"""REST API v1: the student's path, its authorization, and a clear JSON error for every bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from questions import services
from questions.models import Answer, Attempt, Course, Quiz
from tcpquiz.errors import server_error
from tests.conftest import PASSWORD, key_choice, make_user

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` with the one error shape and a readable message."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str)
    assert len(error["message"]) > 10
    if code is not None:
        assert error["code"] == code
    return dict(error)


def submit(api: APIClient, attempt: Attempt, body: Any, **headers: Any) -> Any:
    return api.post(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_api_unauthenticated_gets_401_json(anon_api: APIClient, attempt: Attempt) -> None:
    """Without credentials every endpoint answers 401 in the error shape."""
    assert_error(anon_api.get("/api/v1/courses/"), 401, "not_authenticated")
    response = submit(anon_api, attempt, {"question": 1, "response": {"choice": "a"}})
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_api_token_obtain_and_use(student: User, anon_api: APIClient) -> None:
    """A username and password give a token that authenticates API calls."""
    response = anon_api.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert anon_api.get("/api/v1/courses/").status_code == 200


def test_api_token_wrong_password(student: User, anon_api: APIClient) -> None:
    """Wrong credentials get a 400 with code invalid_credentials."""
    response = anon_api.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert_error(response, 400, "invalid_credentials")


def test_api_bad_token_gets_401(anon_api: APIClient) -> None:
    """An unknown token is refused with 401."""
    anon_api.credentials(HTTP_AUTHORIZATION="Token 0000")
    assert_error(anon_api.get("/api/v1/courses/"), 401, "authentication_failed")


def test_api_token_auth_is_one_compiled_read_with_drf_answers(student: User, anon_api: APIClient) -> None:
    """Token authentication (tcpquiz.authentication) reads the token and its user in one query, the
    same SQL on every request of a connection; unknown and inactive get DRF's own 401 and message, in
    the request's language."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=student)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = anon_api.get("/api/v1/ping/")
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        assert len(queries) == 1
        assert "authtoken_token" in queries[0]["sql"]
        assert "auth_user" in queries[0]["sql"]
    compiled = getattr(connection, "_compiled_reads", {})
    assert [key for key in compiled if key[0] == "auth-token"] == [("auth-token", (("key", str),))]
    assert compiled[("auth-token", (("key", str),))] is not None  # compiled, not left to the ORM
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {token.key[:-1]}x")
    response = anon_api.get("/api/v1/ping/", HTTP_ACCEPT_LANGUAGE="en")
    assert_error(response, 401, "authentication_failed")
    assert "Invalid token." in response.content.decode()
    assert response["WWW-Authenticate"] == "Token"
    student.is_active = False
    student.save(update_fields=["is_active"])
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = anon_api.get("/api/v1/ping/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert_error(response, 401, "authentication_failed")
    assert "用户未激活或者已删除" in response.content.decode()


def test_api_courses_lists_mine_with_role(api: APIClient, course: Course) -> None:
    """My courses, with my role."""
    response = api.get("/api/v1/courses/")
    assert response.json() == [
        {"id": course.pk, "title": course.title, "description": "", "role": "student"},
    ]


def test_api_course_quizzes(api: APIClient, course: Course, quiz: Quiz) -> None:
    """The quizzes of one of my courses."""
    response = api.get(f"/api/v1/courses/{course.pk}/quizzes/")
    assert [q["id"] for q in response.json()] == [quiz.pk]
    assert response.json()[0]["question_count"] == 3


def test_api_course_quizzes_of_foreign_course_404(api: APIClient) -> None:
    """A course I am not in is not found."""
    other = services.course_create(title="Other", join_code="OTHER-1")
    assert_error(api.get(f"/api/v1/courses/{other.pk}/quizzes/"), 404, "course_not_found")


def test_api_attempt_start_then_resume(api: APIClient, quiz: Quiz) -> None:
    """Starting answers 201 with the questions; starting again returns the same attempt with 200."""
    first = api.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
    assert first.status_code == 201
    assert len(first.json()["questions"]) == 3
    again = api.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_api_attempt_start_for_outsider_404(quiz: Quiz) -> None:
    """Someone not enrolled cannot see or start the quiz."""
    client = APIClient()
    client.force_login(make_user("mallory"))
    assert_error(client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/"), 404, "quiz_not_found")


def test_api_questions_never_leak_key_or_explanation(api: APIClient, attempt: Attempt) -> None:
    """Before grading, no payload contains the key, the explanation or the misconceptions."""
    for url in (f"/api/v1/attempts/{attempt.pk}/", f"/api/v1/attempts/{attempt.pk}/questions/"):
        for lang in ("en", "zh-hans"):
            text = api.get(url, {"lang": lang}).content.decode()
            assert '"key"' not in text
            assert "misconception" not in text
            assert "explanation" not in text
            for question in attempt.questions.all():
                assert question.variant["explanation"][lang] not in text


def test_api_questions_in_chinese(api: APIClient, attempt: Attempt) -> None:
    """?lang=zh-hans returns the Chinese prompt."""
    body = api.get(f"/api/v1/attempts/{attempt.pk}/questions/", {"lang": "zh-hans"}).json()
    assert body[0]["prompt"] == attempt.questions.get(position=1).public["zh-hans"]["prompt"]


def test_api_answer_submit_pending_201(api: APIClient, attempt: Attempt) -> None:
    """A valid answer is stored and answered 201, pending, with no result yet."""
    response = submit(api, attempt, {"question": 1, "response": {"choice": key_choice(attempt, 1)}})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["result"] is None
    assert body["question"] == 1


def test_api_answer_graded_result_has_explanation(
    api: APIClient, attempt: Attempt, django_capture_on_commit_callbacks: Capture
) -> None:
    """Once graded (the task runs on commit), the answer shows score, feedback and explanation."""
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(api, attempt, {"question": 1, "response": {"choice": key_choice(attempt, 1)}})
    body = api.get(f"/api/v1/answers/{response.json()['id']}/").json()
    assert body["status"] == "graded"
    assert body["result"]["score"] == 1.0
    assert body["result"]["correct"] is True
    assert body["result"]["explanation"] == attempt.questions.get(position=1).variant["explanation"]["en"]
    assert body["result"]["key"] == {"choice": key_choice(attempt, 1)}


def test_api_answer_malformed_json_400(api: APIClient, attempt: Attempt) -> None:
    """A body that is not JSON gets 400 malformed_request."""
    response = api.post(
        f"/api/v1/attempts/{attempt.pk}/answers/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "malformed_request")


def test_api_answer_wrong_content_type_415(api: APIClient, attempt: Attempt) -> None:
    """A form-encoded body gets 415 with a hint to send JSON."""
    response = api.post(
        f"/api/v1/attempts/{attempt.pk}/answers/", data="question=1", content_type="text/plain"
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": "one", "response": {}},
        {"question": 0, "response": {}},
        {"question": 1, "response": "a"},
        [],
    ],
    ids=["empty", "question-not-int", "question-zero", "response-not-object", "list"],
)
def test_api_answer_invalid_fields_400(api: APIClient, attempt: Attempt, body: Any) -> None:
    """Missing or mistyped fields get 400 invalid with per-field details."""
    error = assert_error(submit(api, attempt, body), 400, "invalid")
    assert error["details"]


def test_api_answer_unknown_question_400(api: APIClient, attempt: Attempt) -> None:
    """A question number the attempt does not have gets 400 unknown_question."""
    error = assert_error(
        submit(api, attempt, {"question": 42, "response": {"choice": "a"}}), 400, "unknown_question"
    )
    assert error["details"] == {"question": 42}


def test_api_answer_unknown_choice_400(api: APIClient, attempt: Attempt) -> None:
    """A choice the question does not offer gets 400 invalid_response listing the allowed ids."""
    error = assert_error(
        submit(api, attempt, {"question": 1, "response": {"choice": "zz"}}), 400, "invalid_response"
    )
    assert sorted(error["details"]["allowed"]) == ["a", "b", "c", "d"]
    assert not Answer.objects.exists()


def test_api_answer_to_other_users_attempt_404(attempt: Attempt, other_student: User) -> None:
    """Answering someone else's attempt gets 404: it does not exist for you."""
    client = APIClient()
    client.force_login(other_student)
    assert_error(
        submit(client, attempt, {"question": 1, "response": {"choice": "a"}}), 404, "attempt_not_found"
    )
    assert not Answer.objects.exists()


def test_api_answer_after_attempt_closed_409(api: APIClient, student: User, attempt: Attempt) -> None:
    """Answering a submitted attempt gets 409 attempt_closed."""
    services.attempt_submit(user=student, attempt=attempt)
    assert_error(submit(api, attempt, {"question": 1, "response": {"choice": "a"}}), 409, "attempt_closed")


def test_api_answer_twice_409(api: APIClient, attempt: Attempt) -> None:
    """A second answer to the same question gets 409 already_answered."""
    submit(api, attempt, {"question": 1, "response": {"choice": key_choice(attempt, 1)}})
    assert_error(submit(api, attempt, {"question": 1, "response": {"choice": "a"}}), 409, "already_answered")


def test_api_answer_idempotency_key_replays(api: APIClient, attempt: Attempt) -> None:
    """The same Idempotency-Key returns the first answer with 200 instead of a conflict."""
    body = {"question": 1, "response": {"choice": key_choice(attempt, 1)}}
    first = submit(api, attempt, body, HTTP_IDEMPOTENCY_KEY="abc")
    again = submit(api, attempt, body, HTTP_IDEMPOTENCY_KEY="abc")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_api_answer_idempotency_key_too_long_400(api: APIClient, attempt: Attempt) -> None:
    """An over-long Idempotency-Key gets 400."""
    body = {"question": 1, "response": {"choice": "a"}}
    assert_error(submit(api, attempt, body, HTTP_IDEMPOTENCY_KEY="x" * 65), 400, "invalid")


def test_api_answer_detail_of_other_user_404(attempt: Attempt, student: User, other_student: User) -> None:
    """Another user's answer is not found."""
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})
    client = APIClient()
    client.force_login(other_student)
    assert_error(client.get(f"/api/v1/answers/{answer.pk}/"), 404, "answer_not_found")


def test_api_exam_result_hidden_until_submitted(
    student: User, quiz: Quiz, django_capture_on_commit_callbacks: Capture
) -> None:
    """In exam mode a graded answer shows no result while the attempt is open."""
    quiz.mode = Quiz.Mode.EXAM
    quiz.save()
    attempt, _ = services.attempt_start(user=student, quiz=quiz)
    client = APIClient()
    client.force_login(student)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, attempt, {"question": 1, "response": {"choice": key_choice(attempt, 1)}})
    body = client.get(f"/api/v1/answers/{response.json()['id']}/").json()
    assert body["status"] == "graded"
    assert body["result"] is None


def test_api_submit_throttled_429(api: APIClient, attempt: Attempt, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the submit rate limit, the API answers 429 throttled with Retry-After."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"answer_submit": "2/min", "user": None, "anon": None}
    )
    for _ in range(2):
        submit(api, attempt, {"question": 9, "response": {}})
    response = submit(api, attempt, {"question": 9, "response": {}})
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_api_attempt_submit(api: APIClient, attempt: Attempt) -> None:
    """Submitting the attempt closes it."""
    response = api.post(f"/api/v1/attempts/{attempt.pk}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert response.json()["is_open"] is False


def test_api_unknown_path_404_json(api: APIClient) -> None:
    """An unknown /api/ path answers the JSON error shape."""
    assert_error(api.get("/api/v1/nothing-here/"), 404, "not_found")


def test_api_server_error_handler_is_json(db: None) -> None:
    """Django's 500 handler answers the JSON error shape under /api/."""
    response = server_error(RequestFactory().get("/api/v1/courses/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


def test_api_schema_renders(anon_api: APIClient) -> None:
    """The OpenAPI schema renders and documents the answer endpoint."""
    response = anon_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/attempts/{attempt_id}/answers/" in schema["paths"]


def test_api_docs_page_renders(anon_api: APIClient) -> None:
    """The interactive docs page renders."""
    assert anon_api.get("/api/docs/").status_code == 200


def test_api_ping_answers_signed_in_users_only(api: APIClient, anon_api: APIClient) -> None:
    """/api/v1/ping/ (the benchmark's yardstick) answers ok to a signed-in user, 401 to anyone else."""
    assert api.get("/api/v1/ping/").json() == {"ok": True}
    assert anon_api.get("/api/v1/ping/").status_code == 401


def test_api_docs_page_loads_nothing_from_other_hosts(anon_api: APIClient) -> None:
    """The interactive API docs serve Swagger UI from this server (no CDN)."""
    response = anon_api.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html.lower()
    assert not re.search(r"""(src|href)=["']https?://""", html)
