"""Instructors edit lessons in the admin; an edit the engine cannot show is refused there."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from lessons.models import Lesson
from lessons.services import lesson_load_from_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client: Client) -> Client:
    lesson_load_from_files()
    client.force_login(User.objects.create_superuser("ada", "ada@example.com", "correct-horse-battery-9"))
    return client


def _form(lesson: Lesson, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "slug": lesson.slug,
        "lang": lesson.lang,
        "order": lesson.order,
        "title": lesson.title,
        "summary": lesson.summary,
        "body_markdown": lesson.body_markdown,
        "skills": json.dumps(lesson.skills),
        "topics": json.dumps(lesson.topics),
        "corrects": json.dumps(lesson.corrects),
        "scenarios": json.dumps(lesson.scenarios),
    }
    data.update(changes)
    return data


def test_admin_edit_is_saved_and_marked_edited(admin_client_: Client) -> None:
    """An instructor's edit is saved and the row then counts as edited (load_lessons keeps it)."""
    lesson = Lesson.objects.get(slug="half-close", lang="en")
    url = reverse("admin:lessons_lesson_change", args=[lesson.pk])
    response = admin_client_.post(url, _form(lesson, title="Half-close, rewritten"))
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert lesson.title == "Half-close, rewritten"
    assert lesson.is_edited


def test_admin_refuses_a_scenario_the_engine_rejects(admin_client_: Client) -> None:
    """A scenario with an unknown step, or a marker naming no scenario, is refused with the reason."""
    lesson = Lesson.objects.get(slug="half-close", lang="en")
    broken = [{**lesson.scenarios[0], "spec": {"steps": [{"do": "teleport"}]}}]
    url = reverse("admin:lessons_lesson_change", args=[lesson.pk])
    response = admin_client_.post(url, _form(lesson, scenarios=json.dumps(broken)))
    assert response.status_code == 200
    assert "rejected by the engine" in response.content.decode()
    response = admin_client_.post(url, _form(lesson, body_markdown="{{ scenario:ghost }}\n"))
    assert "does not define" in response.content.decode()
    lesson.refresh_from_db()
    assert not lesson.is_edited


def test_admin_lists_lessons_with_edited_flag(admin_client_: Client) -> None:
    response = admin_client_.get(reverse("admin:lessons_lesson_changelist"))
    assert response.status_code == 200
    assert "three-way-handshake" in response.content.decode()
    assert admin_client_.get(reverse("admin:lessons_glossaryentry_changelist")).status_code == 200
