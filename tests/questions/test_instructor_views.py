"""Instructor pages: who may open them, what they show, and what their forms change."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client

from questions import selectors, services
from questions.models import Attempt, Course, Enrollment, Quiz
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher(instructor: User) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


@pytest.fixture
def learner(student: User) -> Client:
    client = Client()
    client.force_login(student)
    return client


@pytest.fixture
def other_course(db: None) -> Course:
    return services.course_create(title="Another course", join_code="OTHER-1")


@pytest.fixture
def rival(other_course: Course) -> Client:
    """A client signed in as the instructor of another course."""
    user = make_user("olga")
    services.enrollment_set_role(user=user, course=other_course, role=Enrollment.Role.INSTRUCTOR)
    client = Client()
    client.force_login(user)
    return client


QUIZ_FORM = {
    "title": "Closing exam",
    "description": "Read **carefully**.<script>alert(1)</script>",
    "mode": "exam",
    "review": "after_submit",
    "time_limit_minutes": "30",
    "max_attempts": "2",
    "opens_at": "",
    "closes_at": "",
    "shuffle": "on",
}


def test_instructor_pages_send_anonymous_visitors_to_login(client: Client) -> None:
    """Signed out, the instructor pages redirect to the sign-in page."""
    response = client.get("/instructor/families/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_instructor_pages_refuse_students_with_403(learner: Client, quiz: Quiz) -> None:
    """A student gets 403 on every instructor page, with a sentence saying why."""
    for url in ("/instructor/", "/instructor/families/", "/instructor/families/ladder/preview/"):
        response = learner.get(url)
        assert response.status_code == 403
        assert "instructors" in response.content.decode()


def test_instructor_cannot_open_another_course(rival: Client, course: Course, quiz: Quiz) -> None:
    """An instructor of course B gets 404 for course A's pages and cannot change it."""
    for url in (
        f"/instructor/courses/{course.pk}/",
        f"/instructor/courses/{course.pk}/roster/",
        f"/instructor/quizzes/{quiz.pk}/",
        f"/instructor/quizzes/{quiz.pk}/results/",
        f"/instructor/quizzes/{quiz.pk}/results.csv",
    ):
        assert rival.get(url).status_code == 404, url
    slot = quiz.slots.first()
    assert slot is not None
    assert rival.post(f"/instructor/quizzes/{quiz.pk}/slots/{slot.pk}/remove/").status_code == 404
    assert rival.post(f"/instructor/courses/{course.pk}/join-code/").status_code == 404
    assert rival.post(f"/instructor/courses/{course.pk}/quizzes/new/", QUIZ_FORM).status_code == 404
    assert quiz.slots.count() == 3
    assert Quiz.objects.filter(course=course).count() == 1


def test_home_lists_taught_courses(teacher: Client, course: Course, other_course: Course) -> None:
    """The instructor home lists the courses taught, not the others."""
    page = teacher.get("/instructor/").content.decode()
    assert course.title in page
    assert other_course.title not in page


def test_nav_shows_instructor_link_only_to_instructors(teacher: Client, learner: Client) -> None:
    """The main navigation has an Instructor link for instructors only."""
    assert 'href="/instructor/"' in teacher.get("/courses/").content.decode()
    assert 'href="/instructor/"' not in learner.get("/courses/").content.decode()


def test_family_list_shows_all_families(teacher: Client) -> None:
    """The family list shows the 14 families with a preview link each."""
    page = teacher.get("/instructor/families/").content.decode()
    assert page.count('data-testid="preview-') == 14
    assert "Ladder completion" in page


def test_family_preview_shows_key_explanation_and_misconceptions(teacher: Client) -> None:
    """A preview shows n variants with the correct choice, the misconceptions and the explanation."""
    response = teacher.get("/instructor/families/rfc_vs_linux/preview/?n=3&difficulty=hard&seed=4")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="variant-') >= 3
    assert "Misconception:" in page
    assert "Explanation" in page
    assert "seed <code>4</code>" in page


def test_family_preview_in_chinese(teacher: Client) -> None:
    """lang=zh-hans shows the variants in Chinese."""
    (variant,) = selectors.family_preview(name="next_state", n=1, difficulty="easy", seed=9)
    page = teacher.get("/instructor/families/next_state/preview/?n=1&difficulty=easy&seed=9&lang=zh-hans")
    assert variant.explanation["zh-hans"].splitlines()[0] in page.content.decode()


def test_family_preview_renders_engine_svg(teacher: Client) -> None:
    """A family with diagrams shows the engine's SVG inline."""
    page = teacher.get("/instructor/families/which_event/preview/?n=2&seed=1").content.decode()
    assert "<svg" in page


def test_family_preview_bad_params_are_400(teacher: Client) -> None:
    """n out of range, a bad difficulty or a non-numeric seed give 400 with the form errors."""
    for query in ("n=0", "n=21", "n=abc", "difficulty=extreme", "seed=-1", "seed=x", "lang=fr"):
        response = teacher.get(f"/instructor/families/next_state/preview/?{query}")
        assert response.status_code == 400, query
        assert 'class="errorlist"' in response.content.decode()


def test_family_preview_unknown_family_is_404(teacher: Client) -> None:
    """An unknown family name is a 404."""
    assert teacher.get("/instructor/families/nonsense/preview/").status_code == 404


def test_quiz_create_makes_a_quiz_and_opens_its_editor(teacher: Client, course: Course) -> None:
    """Creating a quiz saves its settings and leads to its editor."""
    response = teacher.post(f"/instructor/courses/{course.pk}/quizzes/new/", QUIZ_FORM)
    quiz = Quiz.objects.get(title="Closing exam")
    assert response.status_code == 302
    assert response["Location"] == f"/instructor/quizzes/{quiz.pk}/"
    assert (quiz.mode, quiz.max_attempts, quiz.shuffle, quiz.is_published) == ("exam", 2, True, False)
    assert quiz.time_limit is not None
    assert quiz.time_limit.total_seconds() == 1800


def test_quiz_create_invalid_form_is_400(teacher: Client, course: Course) -> None:
    """A quiz that closes before it opens is refused with the field's error."""
    data = QUIZ_FORM | {"opens_at": "2030-01-02T10:00", "closes_at": "2030-01-01T10:00"}
    response = teacher.post(f"/instructor/courses/{course.pk}/quizzes/new/", data)
    assert response.status_code == 400
    assert "The quiz must close after it opens." in response.content.decode()
    assert not Quiz.objects.filter(title="Closing exam").exists()


def test_quiz_edit_saves_settings(teacher: Client, quiz: Quiz) -> None:
    """The settings form of the editor saves the quiz."""
    data = QUIZ_FORM | {"title": "Renamed", "is_published": "on"}
    response = teacher.post(f"/instructor/quizzes/{quiz.pk}/", data)
    assert response.status_code == 302
    quiz.refresh_from_db()
    assert (quiz.title, quiz.is_published) == ("Renamed", True)


def test_quiz_description_markdown_is_sanitised(teacher: Client, quiz: Quiz) -> None:
    """The description is rendered from Markdown with scripts removed."""
    teacher.post(f"/instructor/quizzes/{quiz.pk}/", QUIZ_FORM)
    page = teacher.get(f"/instructor/quizzes/{quiz.pk}/").content.decode()
    assert "<strong>carefully</strong>" in page
    assert "<script>alert(1)</script>" not in page


def test_slot_add_update_move_remove(teacher: Client, quiz: Quiz) -> None:
    """The editor's slot forms add, change, reorder and remove question slots."""
    base = f"/instructor/quizzes/{quiz.pk}/slots/"
    assert teacher.post(base, {"family": "ladder", "difficulty": "hard", "points": "2"}).status_code == 302
    slots = selectors.quiz_slots(quiz=quiz)
    assert [(s.family, s.points) for s in slots][-1] == ("ladder", 2)
    first = slots[0]
    teacher.post(f"{base}{first.pk}/", {"family": "rst", "difficulty": "easy", "points": "4"})
    teacher.post(f"{base}{first.pk}/move/", {"direction": "down"})
    assert [s.family for s in selectors.quiz_slots(quiz=quiz)] == [
        "next_state",
        "rst",
        "next_state",
        "ladder",
    ]
    teacher.post(f"{base}{first.pk}/remove/")
    assert [s.position for s in selectors.quiz_slots(quiz=quiz)] == [1, 2, 3]


def test_slot_add_unknown_family_is_400(teacher: Client, quiz: Quiz) -> None:
    """A family that is not in the list is refused; nothing is added."""
    response = teacher.post(
        f"/instructor/quizzes/{quiz.pk}/slots/", {"family": "x", "difficulty": "easy", "points": "1"}
    )
    assert response.status_code == 400
    assert quiz.slots.count() == 3


def test_slot_move_bad_direction_changes_nothing(teacher: Client, quiz: Quiz) -> None:
    """A direction other than up or down moves nothing."""
    slot = selectors.quiz_slots(quiz=quiz)[0]
    teacher.post(f"/instructor/quizzes/{quiz.pk}/slots/{slot.pk}/move/", {"direction": "sideways"})
    slot.refresh_from_db()
    assert slot.position == 1


def test_forms_require_csrf(instructor: User, quiz: Quiz) -> None:
    """A POST without the CSRF token is refused."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(instructor)
    slot = selectors.quiz_slots(quiz=quiz)[0]
    assert client.post(f"/instructor/quizzes/{quiz.pk}/slots/{slot.pk}/remove/").status_code == 403
    assert quiz.slots.count() == 3


def test_roster_shows_members_and_join_code(teacher: Client, course: Course, student: User) -> None:
    """The roster lists the students and the course's join code."""
    page = teacher.get(f"/instructor/courses/{course.pk}/roster/").content.decode()
    assert "alice" in page
    assert course.join_code in page


def test_join_code_regenerate(teacher: Client, course: Course) -> None:
    """Regenerating the join code changes it and says the new one."""
    old = course.join_code
    response = teacher.post(f"/instructor/courses/{course.pk}/join-code/", follow=True)
    course.refresh_from_db()
    assert course.join_code != old
    assert course.join_code in response.content.decode()


def test_results_page_lists_attempts(teacher: Client, quiz: Quiz, attempt: Attempt) -> None:
    """The results page lists each attempt with its student."""
    page = teacher.get(f"/instructor/quizzes/{quiz.pk}/results/").content.decode()
    assert "alice" in page
    assert "Per question" in page


def test_results_csv_export(teacher: Client, quiz: Quiz, attempt: Attempt) -> None:
    """The CSV has a header with one column per question and a row per attempt."""
    response = teacher.get(f"/instructor/quizzes/{quiz.pk}/results.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["username", "attempt", "status"]
    assert rows[0][-1] == "q3_next_state_hard"
    assert rows[1][0] == "alice"


def test_results_csv_neutralises_formulas(teacher: Client, quiz: Quiz, course: Course) -> None:
    """A username that looks like a spreadsheet formula is written as text."""
    user = make_user("=cmd")
    services.course_join(user=user, join_code=course.join_code)
    services.attempt_start(user=user, quiz=quiz)
    rows = list(
        csv.reader(
            io.StringIO(teacher.get(f"/instructor/quizzes/{quiz.pk}/results.csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[1][0] == "'=cmd"
