"""REST API v1 for instructors: families and their previews; 403 for students, 400 for bad params."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.questions.test_api import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher_api(instructor: User) -> APIClient:
    client = APIClient()
    client.force_login(instructor)
    return client


def test_families_api_lists_every_family(teacher_api: APIClient) -> None:
    """An instructor gets the 14 families with kinds and difficulty levels."""
    response = teacher_api.get("/api/v1/families/")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 14
    assert set(body[0]) == {"name", "title", "kinds", "two_endpoint", "difficulties"}


def test_families_api_titles_in_chinese(teacher_api: APIClient) -> None:
    """lang=zh-hans gives the families' Chinese titles."""
    body = teacher_api.get("/api/v1/families/?lang=zh-hans").json()
    assert next(f for f in body if f["name"] == "ladder")["title"] == "补全时序图"


def test_families_api_refuses_students_with_403(api: APIClient) -> None:
    """A student gets 403 in the error shape on both endpoints."""
    assert_error(api.get("/api/v1/families/"), 403, "not_an_instructor")
    assert_error(api.get("/api/v1/families/next_state/preview/"), 403, "not_an_instructor")


def test_families_api_refuses_anonymous_with_401(anon_api: APIClient) -> None:
    """Without credentials the endpoints answer 401."""
    assert_error(anon_api.get("/api/v1/families/"), 401, "not_authenticated")
    assert_error(anon_api.get("/api/v1/families/rst/preview/"), 401, "not_authenticated")


def test_preview_api_returns_full_variants(teacher_api: APIClient) -> None:
    """The preview has n variants, each with key, explanation, skills and per-choice misconceptions."""
    response = teacher_api.get("/api/v1/families/rfc_vs_linux/preview/?n=3&difficulty=hard&seed=4")
    assert response.status_code == 200
    body = response.json()
    assert (body["family"], body["difficulty"], body["seed"]) == ("rfc_vs_linux", "hard", 4)
    assert len(body["variants"]) == 3
    variant = body["variants"][0]
    assert variant["key"]["choice"] in {c["id"] for c in variant["choices"] if c["is_key"]}
    assert variant["explanation"]
    assert variant["skills"]
    assert any(c["misconception"] for v in body["variants"] for c in v["choices"])


def test_preview_api_is_deterministic_by_seed(teacher_api: APIClient) -> None:
    """The same seed returns the same variants; without one, the seed used is returned."""
    url = "/api/v1/families/ladder/preview/?n=2&seed=77"
    assert teacher_api.get(url).json() == teacher_api.get(url).json()
    body = teacher_api.get("/api/v1/families/ladder/preview/?n=1").json()
    again = teacher_api.get(f"/api/v1/families/ladder/preview/?n=1&seed={body['seed']}").json()
    assert body["variants"] == again["variants"]


@pytest.mark.parametrize(
    "query",
    ["n=0", "n=21", "n=abc", "difficulty=extreme", "seed=-1", "seed=abc", f"seed={1 << 62}", "lang=fr"],
)
def test_preview_api_bad_params_are_400(teacher_api: APIClient, query: str) -> None:
    """Each malformed parameter gives 400 with a message and the field named in details."""
    error = assert_error(teacher_api.get(f"/api/v1/families/next_state/preview/?{query}"), 400, "invalid")
    assert query.split("=")[0] in error["details"]


def test_preview_api_unknown_family_is_404(teacher_api: APIClient) -> None:
    """An unknown family gives 404 with code unknown_family."""
    assert_error(teacher_api.get("/api/v1/families/nonsense/preview/"), 404, "unknown_family")


def test_preview_api_every_family_and_level_answers(teacher_api: APIClient) -> None:
    """No family at any level makes the preview fail (no 500 anywhere)."""
    names = [f["name"] for f in teacher_api.get("/api/v1/families/").json()]
    for name in names:
        for level in ("easy", "medium", "hard"):
            response = teacher_api.get(f"/api/v1/families/{name}/preview/?n=2&difficulty={level}&seed=3")
            assert response.status_code == 200, (name, level)
            assert response.json()["variants"]
