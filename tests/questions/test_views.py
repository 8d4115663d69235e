"""HTML pages and htmx fragments: what a student sees, in both languages, and who may see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.html import escape

from questions import services
from questions.models import Answer, Attempt, Course, Enrollment, Quiz
from tests.conftest import PASSWORD, key_choice, wrong_choice

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def web(student: User) -> Client:
    client = Client()
    client.force_login(student)
    return client


def test_home_page_explains_product(client: Client) -> None:
    """The home page says what tcpquiz is and offers sign-in, with a skip link and landmarks."""
    html = client.get("/").content.decode()
    assert "TCP" in html
    assert 'href="/accounts/login/"' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert "<nav" in html


def test_home_page_in_chinese(client: Client) -> None:
    """With the language set to zh-hans the page is in Chinese."""
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html


def test_login_page_signs_in(student: User, client: Client) -> None:
    """The demo-style login form signs a user in and lands on their dashboard."""
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_login_rate_limited(student: User, client: Client) -> None:
    """More than 10 sign-in attempts a minute from one address are refused with 429."""
    # 25 tries within a minute: whatever the window boundary, one window sees more than 10.
    codes = [
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code
        for _ in range(25)
    ]
    assert 429 in codes


def test_signup_with_join_code_enrolls(course: Course, client: Client) -> None:
    """Signing up with a join code creates the account, enrolls it and signs it in."""
    response = client.post(
        "/accounts/signup/",
        {
            "join_code": "test-tcp1",
            "username": "newbie",
            "password1": "s3cret-Passw0rd",
            "password2": "s3cret-Passw0rd",
        },
    )
    assert response.status_code == 302
    assert Enrollment.objects.get(user__username="newbie").course == course
    assert client.get("/courses/").status_code == 200


def test_signup_bad_join_code_shows_error(course: Course, client: Client) -> None:
    """A wrong join code is reported on the form (400) and creates nobody."""
    response = client.post(
        "/accounts/signup/",
        {
            "join_code": "NOPE",
            "username": "newbie",
            "password1": "s3cret-Passw0rd",
            "password2": "s3cret-Passw0rd",
        },
    )
    assert response.status_code == 400
    assert "No course has this join code" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_course_list_requires_login(client: Client) -> None:
    """Anonymous visitors are sent to the sign-in page."""
    response = client.get("/courses/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_course_list_shows_my_quizzes(web: Client, quiz: Quiz) -> None:
    """My course page lists the course's quizzes."""
    html = web.get("/courses/").content.decode()
    assert quiz.title in html
    assert f"/quizzes/{quiz.pk}/" in html


def test_quiz_page_hidden_from_outsider(outsider: User, quiz: Quiz) -> None:
    """A quiz of a course I am not in answers 404."""
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/quizzes/{quiz.pk}/").status_code == 404


def test_attempt_start_redirects_to_attempt(web: Client, quiz: Quiz) -> None:
    """Starting a quiz opens the attempt, which continues at its first question: an accessible radio
    group, the progress bar and the navigator of all three questions."""
    response = web.post(f"/quizzes/{quiz.pk}/start/")
    attempt = Attempt.objects.get()
    assert response["Location"] == f"/attempts/{attempt.pk}/"
    question = web.get(response["Location"])
    assert question["Location"] == f"/attempts/{attempt.pk}/questions/1/"
    html = web.get(question["Location"]).content.decode()
    assert html.count("<fieldset") == 1
    assert html.count("<legend") == 1
    assert 'type="radio"' in html
    assert 'data-testid="progress"' in html
    assert html.count('class="qnav-item') == 3


def test_attempt_page_hidden_from_other_student(attempt: Attempt, other_student: User) -> None:
    """Another student's attempt page answers 404."""
    client = Client()
    client.force_login(other_student)
    assert client.get(f"/attempts/{attempt.pk}/").status_code == 404


def test_attempt_page_has_no_key_or_explanation(web: Client, attempt: Attempt) -> None:
    """Before answering, no question page contains explanation text."""
    for question in attempt.questions.all():
        html = web.get(f"/attempts/{attempt.pk}/questions/{question.position}/").content.decode()
        assert escape(question.variant["explanation"]["en"]) not in html


def test_answer_submit_htmx_shows_grading_then_result(web: Client, attempt: Attempt) -> None:
    """An htmx submit swaps in a "grading" block that polls; the poll returns the explained result."""
    response = web.post(
        f"/attempts/{attempt.pk}/questions/1/answer/",
        {"choice": key_choice(attempt, 1)},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    answer = Answer.objects.get()
    assert response.status_code == 200
    assert 'data-status="pending"' in html
    assert 'hx-trigger="every 1s"' in html
    assert 'hx-swap-oob="true"' in html  # the progress bar updates too
    services.answer_grade(answer_id=answer.pk)
    fragment = web.get(f"/answers/{answer.pk}/").content.decode()
    assert 'data-status="graded"' in fragment
    assert "hx-trigger" not in fragment
    assert escape(attempt.questions.get(position=1).variant["explanation"]["en"]) in fragment


def test_answer_submit_wrong_names_misconception(web: Client, student: User, attempt: Attempt) -> None:
    """A wrong answer's result shows the correct answer and, when tagged, the misconception's name."""
    choice = wrong_choice(attempt, 1)
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": choice})
    answer = services.answer_grade(answer_id=answer.pk)
    html = web.get(f"/attempts/{attempt.pk}/questions/1/").content.decode()
    assert "Correct answer:" in html
    if answer.misconception:
        assert "Likely misconception:" in html


def test_answer_submit_without_choice_shows_error(web: Client, attempt: Attempt) -> None:
    """Submitting with no choice re-renders the question with an alert, storing nothing."""
    response = web.post(f"/attempts/{attempt.pk}/questions/1/answer/", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not Answer.objects.exists()


def test_answer_submit_plain_post_redirects(web: Client, attempt: Attempt) -> None:
    """Without JavaScript the form posts and redirects back to the question."""
    response = web.post(f"/attempts/{attempt.pk}/questions/2/answer/", {"choice": key_choice(attempt, 2)})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/attempts/{attempt.pk}/questions/2/")
    assert Answer.objects.get().question.position == 2


def test_answer_submit_to_closed_attempt_shows_message(web: Client, student: User, attempt: Attempt) -> None:
    """Answering a submitted attempt shows why, and stores nothing."""
    services.attempt_submit(user=student, attempt=attempt)
    response = web.post(f"/attempts/{attempt.pk}/questions/1/answer/", {"choice": "a"}, follow=True)
    assert "This attempt is closed" in response.content.decode()
    assert not Answer.objects.exists()


def test_answer_submit_enqueues_grading_on_commit(
    web: Client, attempt: Attempt, django_capture_on_commit_callbacks: Capture
) -> None:
    """The view enqueues grading when the transaction commits (eager here: graded at once)."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        web.post(f"/attempts/{attempt.pk}/questions/1/answer/", {"choice": key_choice(attempt, 1)})
    assert len(callbacks) == 1
    assert Answer.objects.get().status == Answer.Status.GRADED


def test_answer_status_of_other_user_404(student: User, other_student: User, attempt: Attempt) -> None:
    """The result fragment of someone else's answer answers 404."""
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})
    client = Client()
    client.force_login(other_student)
    assert client.get(f"/answers/{answer.pk}/").status_code == 404


def test_attempt_submit_shows_summary(web: Client, student: User, attempt: Attempt) -> None:
    """After submitting, the attempt page shows the score summary and no more forms."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    services.answer_grade(answer_id=answer.pk)
    response = web.post(f"/attempts/{attempt.pk}/submit/", follow=True)
    html = response.content.decode()
    assert 'data-testid="attempt-summary"' in html
    assert "1 / 3" in html
    assert "<fieldset" not in html


def test_csrf_required_on_answer_submit(student: User, attempt: Attempt) -> None:
    """A POST without the CSRF token is refused with 403."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    response = client.post(f"/attempts/{attempt.pk}/questions/1/answer/", {"choice": "a"})
    assert response.status_code == 403


def test_healthz_reports_database_and_broker(client: Client, db: None) -> None:
    """/healthz is JSON: 200 with the database up, the broker's state reported."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert "ok" in body["broker"]


def test_course_join_form_joins_course(outsider: User, course: Course) -> None:
    """The join form on the courses page enrolls the user in the course of the code."""
    client = Client()
    client.force_login(outsider)
    response = client.post("/courses/join/", {"join_code": course.join_code}, follow=True)
    assert course.title in response.content.decode()
    assert Enrollment.objects.filter(user=outsider, course=course).exists()


def test_password_reset_sends_link(student: User, client: Client, mailoutbox: list[Any]) -> None:
    """The password-reset page mails a reset link to the account's address."""
    student.email = "alice@example.org"
    student.save()
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
