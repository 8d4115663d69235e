"""Lesson pages: overview with progress, a lesson in either language served from the database, "mark as
done", the glossary with anchors, and search with snippets."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from lessons.models import GlossaryEntry, Lesson, LessonProgress
from lessons.services import lesson_load_from_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def course(db: None) -> None:
    lesson_load_from_files()


@pytest.fixture
def learner(db: None) -> User:
    return User.objects.create_user(username="lin", password="correct-horse-battery-9")


def _in(client: Client, lang: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def test_views_index_lists_lessons_in_order(client: Client) -> None:
    """The overview lists every lesson of the active language in course order."""
    html = client.get(reverse("lessons:index")).content.decode()
    titles = list(Lesson.objects.filter(lang="en").order_by("order").values_list("title", flat=True))
    positions = [html.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "三次握手" not in html


def test_views_index_in_chinese(client: Client) -> None:
    """With Chinese active the overview shows the Chinese lessons and interface."""
    html = _in(client, "zh-hans").get(reverse("lessons:index")).content.decode()
    assert "三次握手" in html
    assert "全部课程" in html


def test_views_index_shows_progress(client: Client, learner: User) -> None:
    """A signed-in student sees which lessons are started and done."""
    LessonProgress.objects.create(user=learner, lesson_slug="three-way-handshake")
    LessonProgress.objects.create(
        user=learner, lesson_slug="segments-and-flags", completed_at="2026-01-01T00:00Z"
    )
    client.force_login(learner)
    html = client.get(reverse("lessons:index")).content.decode()
    assert "1 of 15 lessons done" in html
    handshake = html.split('data-testid="lesson-three-way-handshake"')[1].split("</li>")[0]
    assert "Started" in handshake
    flags = html.split('data-testid="lesson-segments-and-flags"')[1].split("</li>")[0]
    assert "Done" in flags


@pytest.mark.parametrize(("lang", "title"), [("en", "The three-way handshake"), ("zh-hans", "三次握手")])
def test_views_lesson_in_each_language(client: Client, lang: str, title: str) -> None:
    """The same slug is served in the active language, with the engine's diagrams and the player."""
    response = _in(client, lang).get(reverse("lessons:detail", args=["three-way-handshake"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 id="lesson-title">{title}</h1>' in html
    assert html.count("<svg") == 2  # the ladder and the state diagram
    assert "data-player" in html
    assert "lessons/player.js" in html
    assert "{{ scenario" not in html


def test_views_lesson_served_from_the_database(client: Client) -> None:
    """An admin edit is what students see (the files are not read at request time)."""
    Lesson.objects.filter(slug="three-way-handshake", lang="en").update(
        body_markdown="Instructor's **own** text."
    )
    html = client.get(reverse("lessons:detail", args=["three-way-handshake"])).content.decode()
    assert "Instructor's <strong>own</strong> text." in html


def test_views_lesson_escapes_injected_script(client: Client) -> None:
    """A script typed into the body in the admin is not executed on the page."""
    Lesson.objects.filter(slug="three-way-handshake", lang="en").update(
        body_markdown='Hi <script>alert("x")</script><img src=x onerror="alert(2)"> [a](javascript:alert(3))'
    )
    html = client.get(reverse("lessons:detail", args=["three-way-handshake"])).content.decode()
    body = html.split('class="lesson-body"')[1].split('id="lesson-end"')[0]
    assert "alert(" not in body
    assert "<script>" not in body
    assert "onerror" not in body
    assert "javascript:" not in body


def test_views_practise_link_carries_the_lessons_skills(client: Client) -> None:
    """The "Practise this" link goes to the practice page with exactly the lesson's skills."""
    html = client.get(reverse("lessons:detail", args=["simultaneous-close"])).content.decode()
    lesson = Lesson.objects.get(slug="simultaneous-close", lang="en")
    expected = "/practice/?skills=" + ",".join(lesson.skills)
    assert f'href="{expected}"' in html


def test_views_practise_url_setting(client: Client, settings: object) -> None:
    """The practice page's address can be set (LESSONS_PRACTICE_URL)."""
    settings.LESSONS_PRACTICE_URL = "/drill/"  # type: ignore[attr-defined]
    html = client.get(reverse("lessons:detail", args=["half-close"])).content.decode()
    assert 'href="/drill/?skills=c:half_close,' in html


def test_views_lesson_unknown_slug_is_404(client: Client) -> None:
    assert client.get(reverse("lessons:detail", args=["no-such-lesson"])).status_code == 404


def test_views_lesson_view_records_first_visit(client: Client, learner: User) -> None:
    """Opening a lesson records when the student first viewed it; later visits keep that time."""
    client.force_login(learner)
    client.get(reverse("lessons:detail", args=["half-close"]))
    first = LessonProgress.objects.get(user=learner, lesson_slug="half-close")
    client.get(reverse("lessons:detail", args=["half-close"]))
    again = LessonProgress.objects.get(user=learner, lesson_slug="half-close")
    assert again.viewed_at == first.viewed_at
    assert again.completed_at is None


def test_views_mark_done(client: Client, learner: User) -> None:
    """The "Mark as done" button records completion once and redirects back to the lesson."""
    client.force_login(learner)
    response = client.post(reverse("lessons:done", args=["half-close"]))
    assert response.status_code == 302
    done = LessonProgress.objects.get(user=learner, lesson_slug="half-close").completed_at
    assert done is not None
    client.post(reverse("lessons:done", args=["half-close"]))
    assert LessonProgress.objects.get(user=learner, lesson_slug="half-close").completed_at == done
    html = client.get(reverse("lessons:detail", args=["half-close"])).content.decode()
    assert 'data-testid="lesson-done"' in html


def test_views_mark_done_json(client: Client, learner: User) -> None:
    """The end-of-lesson script gets JSON back."""
    client.force_login(learner)
    response = client.post(
        reverse("lessons:done", args=["half-close"]), headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["slug"] == "half-close"


def test_views_mark_done_needs_sign_in(client: Client) -> None:
    """An anonymous visitor is sent to sign in; nothing is recorded."""
    response = client.post(reverse("lessons:done", args=["half-close"]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert not LessonProgress.objects.exists()


def test_views_mark_done_unknown_lesson(client: Client, learner: User) -> None:
    client.force_login(learner)
    assert client.post(reverse("lessons:done", args=["nope"])).status_code == 404
    assert not LessonProgress.objects.exists()


def test_views_mark_done_rejects_get(client: Client, learner: User) -> None:
    client.force_login(learner)
    assert client.get(reverse("lessons:done", args=["half-close"])).status_code == 405


@pytest.mark.parametrize(
    ("lang", "term", "other"), [("en", "half-close", "半关闭"), ("zh-hans", "半关闭", "half-close")]
)
def test_views_glossary_bilingual_with_anchors(client: Client, lang: str, term: str, other: str) -> None:
    """Each entry has an anchor, its term in the active language and the other language's term."""
    html = _in(client, lang).get(reverse("lessons:glossary")).content.decode()
    entry = html.split('id="g-half_close"')[1].split("</div>")[0]
    assert term in entry
    assert other in entry
    assert 'href="#g-half_close"' in html
    assert GlossaryEntry.objects.filter(lang=lang).count() == html.count('class="card glossary-entry"')


def test_views_glossary_lists_aliases(client: Client) -> None:
    """The other spellings students meet are listed (三报文握手 for 三次握手)."""
    html = _in(client, "zh-hans").get(reverse("lessons:glossary")).content.decode()
    entry = html.split('id="g-three_way_handshake"')[1].split("</div>")[0]
    assert "三次握手" in entry
    assert "三报文握手" in entry


def test_views_search_finds_lessons_and_terms_with_snippets(client: Client) -> None:
    """Search matches titles, bodies and glossary terms, and shows the match in a snippet."""
    html = client.get(reverse("lessons:search"), {"q": "CLOSED_WAIT"}).content.decode()
    assert 'data-testid="result-lesson-misconceptions"' in html
    assert "<mark>CLOSED_WAIT</mark>" in html


def test_views_search_in_chinese(client: Client) -> None:
    """In Chinese the Chinese lessons and glossary are searched."""
    html = _in(client, "zh-hans").get(reverse("lessons:search"), {"q": "半关闭"}).content.decode()
    assert 'data-testid="result-lesson-half-close"' in html
    assert 'data-testid="result-glossary-half_close"' in html
    assert "<mark>半关闭</mark>" in html


def test_views_search_all_words_must_match(client: Client) -> None:
    html = client.get(reverse("lessons:search"), {"q": "keepalive tcp_keepalive_time"}).content.decode()
    assert 'data-testid="result-lesson-keepalive-and-idle-timers"' in html
    assert 'data-testid="result-lesson-three-way-handshake"' not in html


def test_views_search_nothing_found_and_empty(client: Client) -> None:
    assert "Nothing found" in client.get(reverse("lessons:search"), {"q": "zzqqxx"}).content.decode()
    response = client.get(reverse("lessons:search"))
    assert response.status_code == 200
    assert "search-count" not in response.content.decode()


def test_views_search_escapes_the_query(client: Client) -> None:
    html = client.get(reverse("lessons:search"), {"q": "<script>x</script>"}).content.decode()
    assert "<script>x" not in html
