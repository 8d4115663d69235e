"""Shared fixtures: users, the demo-like course and quiz, API clients, and Celery modes.

Unless a test is marked ``broker``, Celery runs tasks eagerly (in the test's thread) and the cache is
a per-test local memory, so no test depends on Redis by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from questions import services
from questions.models import Attempt, Course, Enrollment, Quiz
from tcpquiz.celery import app as celery_app

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _isolated_cache(settings: Any) -> None:
    """A fresh local-memory cache per test: rate-limit counters never leak between tests."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in-process unless the test is marked ``broker`` (which starts a real worker)."""
    if request.node.get_closest_marker("broker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def make_user(username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD)


@pytest.fixture
def course(db: None) -> Course:
    return services.course_create(title="TCP connection management", join_code="TEST-TCP1")


@pytest.fixture
def student(course: Course) -> User:
    user = make_user("alice")
    services.course_join(user=user, join_code=course.join_code)
    return user


@pytest.fixture
def other_student(course: Course) -> User:
    user = make_user("bob")
    services.course_join(user=user, join_code=course.join_code)
    return user


@pytest.fixture
def outsider(db: None) -> User:
    """A user enrolled in no course."""
    return make_user("mallory")


@pytest.fixture
def instructor(course: Course) -> User:
    user = make_user("ivy")
    services.enrollment_set_role(user=user, course=course, role=Enrollment.Role.INSTRUCTOR)
    return user


@pytest.fixture
def quiz(course: Course) -> Quiz:
    return services.quiz_create(
        course=course,
        title="Next state",
        slots=[("next_state", "easy"), ("next_state", "medium"), ("next_state", "hard")],
    )


@pytest.fixture
def attempt(student: User, quiz: Quiz) -> Attempt:
    attempt, _created = services.attempt_start(user=student, quiz=quiz)
    return attempt


def key_choice(attempt: Attempt, position: int) -> str:
    """The correct choice id of question ``position`` (read from the stored variant, as a grader would)."""
    return str(attempt.questions.get(position=position).variant["key"]["choice"])


def wrong_choice(attempt: Attempt, position: int) -> str:
    question = attempt.questions.get(position=position)
    key = question.variant["key"]["choice"]
    return str(next(c["id"] for c in question.variant["choices"] if c["id"] != key))


@pytest.fixture
def api(student: User) -> APIClient:
    """An API client signed in as ``student`` (session authentication)."""
    client = APIClient()
    client.force_login(student)
    return client


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()
