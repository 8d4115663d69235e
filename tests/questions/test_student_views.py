"""Student pages: the dashboard, a question per page with its widget, autosave, submit-all with its
confirmation, the deadline, review, and the practice page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from questions import services
from questions.models import Answer, Attempt, Course, Draft, PracticeAnswer
from tests.questions.student_helpers import exam_create, key_form, practice_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(student: User) -> Client:
    client = Client()
    client.force_login(student)
    return client


@pytest.fixture
def exam_attempt(student: User, course: Course) -> Attempt:
    attempt, _ = services.attempt_start(user=student, quiz=exam_create(course))
    return attempt


def _page(web: Client, attempt: Attempt, position: int, **extra: Any) -> str:
    response = web.get(f"/attempts/{attempt.pk}/questions/{position}/", **extra)
    assert response.status_code == 200
    return str(response.content.decode())


def test_dashboard_shows_quizzes_mastery_and_practice_links(
    web: Client, student: User, course: Course
) -> None:
    """The dashboard lists open quizzes and, once something is answered, mastery with practice links."""
    exam_create(course)
    html = web.get("/dashboard/").content.decode()
    assert "Midterm" in html
    assert 'data-testid="open-quizzes"' in html
    attempt, _ = services.attempt_start(user=student, quiz=practice_create(course))
    question = attempt.questions.get(position=1)
    wrong = next(c["id"] for c in question.variant["choices"] if c["id"] != question.variant["key"]["choice"])
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": wrong})
    services.answer_grade(answer_id=answer.pk)
    html = web.get("/dashboard/").content.decode()
    assert "/practice/?skills=c:" in html
    assert "Mastery by skill" in html


def test_dashboard_in_chinese(web: Client, course: Course) -> None:
    """The dashboard speaks Chinese when asked to."""
    html = web.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "仪表盘" in html


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_question_page_renders_every_input_kind(web: Client, exam_attempt: Attempt, lang: str) -> None:
    """Each kind's widget renders with labelled controls, the timer, the navigator and no key."""
    for question in exam_attempt.questions.all():
        html = _page(web, exam_attempt, question.position, HTTP_ACCEPT_LANGUAGE=lang)
        assert f'data-kind="{question.variant["kind"]}"' in html
        assert 'data-testid="timer"' in html
        assert 'class="qnav"' in html
        assert escape(question.variant["explanation"][lang]) not in html
        assert "<legend" in html


def test_draft_save_htmx_autosaves_and_updates_navigator(web: Client, exam_attempt: Attempt) -> None:
    """An htmx autosave stores the draft and answers with the status and the navigator out of band."""
    question = exam_attempt.questions.get(position=1)
    response = web.post(
        f"/attempts/{exam_attempt.pk}/questions/1/draft/", key_form(question), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'data-testid="saved"' in html
    assert 'id="qnav"' in html
    assert 'hx-swap-oob="true"' in html
    assert Draft.objects.get().question == question
    assert 'data-state="saved"' in html


def test_draft_restored_on_reload(web: Client, student: User, exam_attempt: Attempt) -> None:
    """Work saved before closing the browser is there again on the question page."""
    question = next(q for q in exam_attempt.questions.all() if q.variant["kind"] == "numeric")
    field = question.variant["widget"]["fields"][0]["id"]
    services.draft_save(
        user=student, attempt=exam_attempt, position=question.position, response={"values": {field: "4242"}}
    )
    html = _page(web, exam_attempt, question.position)
    assert 'value="4242"' in html
    assert "Your saved answer is restored." in html


def test_draft_save_without_javascript_moves_on(web: Client, exam_attempt: Attempt) -> None:
    """Without JavaScript, "Save and next" saves and opens the next question."""
    question = exam_attempt.questions.get(position=1)
    response = web.post(f"/attempts/{exam_attempt.pk}/questions/1/draft/", {**key_form(question), "go": "2"})
    assert response["Location"] == f"/attempts/{exam_attempt.pk}/questions/2/"
    assert Draft.objects.count() == 1


def test_order_buttons_work_without_javascript(web: Client, exam_attempt: Attempt) -> None:
    """The ordering widget's ↑ button posts a move that is saved as the new order."""
    question = next(q for q in exam_attempt.questions.all() if q.variant["kind"] == "order")
    items = [item["id"] for item in question.public["en"]["widget"]["items"]]
    web.post(
        f"/attempts/{exam_attempt.pk}/questions/{question.position}/draft/",
        {"order": items, "move": f"{items[1]}:up"},
    )
    assert Draft.objects.get().response["order"] == [items[1], items[0], *items[2:]]


def test_finish_page_lists_unanswered_then_submit_shows_review(
    web: Client, exam_attempt: Attempt, django_capture_on_commit_callbacks: Any
) -> None:
    """The confirmation names the unanswered questions; submitting grades the saved answers and the
    review shows score, per-skill breakdown, keys and explanations."""
    first = exam_attempt.questions.get(position=1)
    web.post(f"/attempts/{exam_attempt.pk}/questions/1/draft/", key_form(first))
    html = web.get(f"/attempts/{exam_attempt.pk}/finish/").content.decode()
    assert "5 questions are not answered" in html
    assert f"/attempts/{exam_attempt.pk}/questions/2/" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"/attempts/{exam_attempt.pk}/submit/")
    html = web.get(response["Location"]).content.decode()
    assert 'data-testid="attempt-summary"' in html
    assert 'data-testid="skill-breakdown"' in html
    assert "1 / 6" in html
    assert escape(first.variant["explanation"]["en"]) in html
    assert "<fieldset" not in html  # a closed attempt shows answers, takes none


def test_answer_after_deadline_is_refused_and_attempt_closes(
    web: Client, exam_attempt: Attempt, django_capture_on_commit_callbacks: Any
) -> None:
    """Past the deadline an autosave is refused with a clear message, and opening the attempt shows it
    expired with the answers saved before the deadline graded."""
    first = exam_attempt.questions.get(position=1)
    web.post(f"/attempts/{exam_attempt.pk}/questions/1/draft/", key_form(first))
    Attempt.objects.filter(pk=exam_attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    refused = web.post(
        f"/attempts/{exam_attempt.pk}/questions/2/draft/", {"choice": "a"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Time is up" in refused
    with django_capture_on_commit_callbacks(execute=True):
        html = web.get(f"/attempts/{exam_attempt.pk}/", follow=True).content.decode()
    assert "Time ran out" in html
    exam_attempt.refresh_from_db()
    assert exam_attempt.status == Attempt.Status.EXPIRED
    assert Answer.objects.get().status == Answer.Status.GRADED


def test_failed_grading_shows_retrying_not_zero(web: Client, student: User, course: Course) -> None:
    """A failed grading job is shown as being retried, with no score."""
    attempt, _ = services.attempt_start(user=student, quiz=practice_create(course))
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})
    Answer.objects.filter(pk=answer.pk).update(status=Answer.Status.FAILED)
    html = web.get(f"/answers/{answer.pk}/").content.decode()
    assert 'data-status="retrying"' in html
    assert "being retried" in html
    assert "score 0" not in html


def test_practice_quiz_check_answer_then_another_like_it(
    web: Client, student: User, course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    """In a practice quiz "Check answer" grades at once; "another one like this" adds a new variant."""
    attempt, _ = services.attempt_start(user=student, quiz=practice_create(course))
    for question in attempt.questions.all():
        with django_capture_on_commit_callbacks(execute=True):
            response = web.post(
                f"/attempts/{attempt.pk}/questions/{question.position}/answer/",
                key_form(question),
                HTTP_HX_REQUEST="true",
            )
        assert response.status_code == 200
    assert all(a.score == 1.0 for a in Answer.objects.all()), [a.feedback for a in Answer.objects.all()]
    html = _page(web, attempt, 5)
    assert 'data-correct="true"' in html
    assert 'data-testid="another"' in html
    response = web.post(f"/attempts/{attempt.pk}/questions/5/another/")
    assert response["Location"] == f"/attempts/{attempt.pk}/questions/7/"


def test_practice_quiz_incomplete_answer_refused_in_place(web: Client, student: User, course: Course) -> None:
    """Checking a ladder with blanks left re-renders it with an alert, storing nothing."""
    attempt, _ = services.attempt_start(user=student, quiz=practice_create(course))
    ladder = next(q for q in attempt.questions.all() if q.variant["kind"] == "ladder")
    response = web.post(
        f"/attempts/{attempt.pk}/questions/{ladder.position}/answer/", {}, HTTP_HX_REQUEST="true"
    )
    assert 'role="alert"' in response.content.decode()
    assert not Answer.objects.exists()


def test_practice_page_redirects_to_a_seed_and_grades(web: Client) -> None:
    """/practice/?skills=… picks a seed, shows a variant on those skills and grades it at once."""
    response = web.get("/practice/?skills=c:time_wait")
    assert response.status_code == 302
    assert "seed=" in response["Location"]
    html = web.get(response["Location"]).content.decode()
    assert 'data-testid="practice-card"' in html
    assert "The TIME_WAIT state" in html


@pytest.mark.parametrize(
    "family", ["next_state", "concepts", "state_sequence", "seq_ack", "ladder", "trace_validity"]
)
def test_practice_page_right_answer_per_family(web: Client, student: User, family: str) -> None:
    """Each kind's form posts back a right answer that is graded correct and stored once."""
    from questions.models import AttemptQuestion, StoredVariant
    from questions.selectors import practice_draw
    from questions.variant_store import variant_to_json

    url = f"/practice/?family={family}&seed=12"
    variant = practice_draw(skills=[], seed=12, family=family)
    question = AttemptQuestion(stored=StoredVariant(variant=variant_to_json(variant)))
    response = web.post(url, key_form(question))
    assert response.status_code == 302
    html = web.get(url).content.decode()
    assert 'data-correct="true"' in html
    assert PracticeAnswer.objects.get().score == 1.0


def test_practice_page_refuses_bad_skills(web: Client) -> None:
    """Malformed skill ids are a 400."""
    assert web.get("/practice/?skills=DROP TABLE&seed=1").status_code == 400


def test_practice_page_unknown_skill_explains(web: Client) -> None:
    """A skill nothing exercises gives a message, not an error page."""
    html = web.get("/practice/?skills=c:nothing_here&seed=1").content.decode()
    assert 'data-testid="draw-error"' in html


def test_practice_page_needs_sign_in(client: Client) -> None:
    """Anonymous visitors are sent to sign in first."""
    response = client.get("/practice/?skills=c:rst")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_pages_listing_attempts_close_overdue_ones(web: Client, exam_attempt: Attempt) -> None:
    """The quiz page and the dashboard never list an attempt past its deadline as in progress."""
    Attempt.objects.filter(pk=exam_attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    html = web.get(f"/quizzes/{exam_attempt.quiz_id}/").content.decode()
    exam_attempt.refresh_from_db()
    assert exam_attempt.status == Attempt.Status.EXPIRED
    assert "in progress" not in html
    assert 'data-testid="past-attempts"' in web.get("/dashboard/").content.decode()
