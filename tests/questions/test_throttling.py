"""The API's rate limits (tcpquiz.throttling.RateLimits): DRF's anon, user and scoped throttles,
checked with one cache read and one cache write per request, failing open when the cache is down."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from questions.models import Attempt
from tcpquiz import throttling
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db


def _rates(monkeypatch: pytest.MonkeyPatch, **rates: str | None) -> None:
    table: dict[str, str | None] = {"anon": None, "user": None, "answer_submit": None, "auth": None}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", table | rates)


def _submit(api: APIClient, attempt: Attempt, position: int) -> Any:
    body = {"question": position, "response": {"choice": key_choice(attempt, position)}}
    return api.post(
        f"/api/v1/attempts/{attempt.pk}/answers/", json.dumps(body), content_type="application/json"
    )


class _Counting:
    """The cache, with its calls counted by method name."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(cache, name)


def test_user_rate_refuses_every_endpoint_with_retry_after(
    api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rates(monkeypatch, user="3/min")
    assert [api.get("/api/v1/ping/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/v1/ping/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60


def test_scope_rate_is_its_own_budget(
    api: APIClient, attempt: Attempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers have their own limit; other requests of the same user still pass."""
    _rates(monkeypatch, user="100/min", answer_submit="2/min")
    assert [_submit(api, attempt, p).status_code for p in (1, 2)] == [201, 201]
    assert _submit(api, attempt, 3).status_code == 429
    assert api.get("/api/v1/ping/").status_code == 200


def test_refusal_counts_in_the_other_histories_as_drf_does(
    api: APIClient, attempt: Attempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DRF records a request in every throttle that allowed it, even if another refused it."""
    _rates(monkeypatch, user="4/min", answer_submit="1/min")
    assert _submit(api, attempt, 1).status_code == 201
    assert [_submit(api, attempt, p).status_code for p in (2, 3)] == [429, 429]
    assert api.get("/api/v1/ping/").status_code == 200  # the user's 4th request
    assert api.get("/api/v1/ping/").status_code == 429


def test_anonymous_visitors_by_address(anon_api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _rates(monkeypatch, anon="2/min", auth="100/min")
    url = "/api/v1/auth/token/"
    codes = [
        anon_api.post(url, {"username": "x", "password": "y"}, format="json").status_code for _ in range(3)
    ]
    assert codes == [400, 400, 429]  # wrong credentials, then refused
    other = APIClient(REMOTE_ADDR="10.1.2.3")
    assert other.post(url, {"username": "x", "password": "y"}, format="json").status_code == 400


def test_one_cache_read_and_one_write_per_request(
    api: APIClient, attempt: Attempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A student's answer goes through the user and the answer_submit throttle: two histories, read
    in one get_many and written in one set_many (DRF alone: two gets and two sets)."""
    _rates(monkeypatch, user="100/min", answer_submit="100/min")
    counting = _Counting()
    monkeypatch.setattr(throttling, "cache", counting)
    assert _submit(api, attempt, 1).status_code == 201
    assert counting.calls == ["get_many", "set_many"]
    histories = cache.get_many(
        [f"throttle_user_{attempt.user_id}", f"throttle_answer_submit_{attempt.user_id}"]
    )
    assert [len(h) for h in histories.values()] == [1, 1]


def test_no_limit_no_cache(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _rates(monkeypatch)
    counting = _Counting()
    monkeypatch.setattr(throttling, "cache", counting)
    assert api.get("/api/v1/ping/").status_code == 200
    assert counting.calls == []


class _Down:
    def get_many(self, keys: list[str]) -> dict[str, Any]:
        raise ConnectionError("redis down")

    def set_many(self, data: dict[str, Any], timeout: float) -> None:
        raise ConnectionError("redis down")


def test_cache_down_lets_requests_through(
    api: APIClient, attempt: Attempt, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _rates(monkeypatch, user="1/min", answer_submit="1/min")
    monkeypatch.setattr(throttling, "cache", _Down())
    assert [_submit(api, attempt, p).status_code for p in (1, 2)] == [201, 201]
    assert "Rate-limit cache unreachable" in caplog.text


def test_write_failure_still_allows(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The histories were read, the write fails: the request is allowed (not counted), not a 500."""
    _rates(monkeypatch, user="5/min")

    class _WriteDown:
        def get_many(self, keys: list[str]) -> dict[str, Any]:
            return {}

        def set_many(self, data: dict[str, Any], timeout: float) -> None:
            raise ConnectionError("redis down")

    monkeypatch.setattr(throttling, "cache", _WriteDown())
    assert api.get("/api/v1/ping/").status_code == 200


@pytest.mark.broker
def test_against_real_redis(api: APIClient, student: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through Django's Redis cache (tcpquiz.cache.RedisCache) on the real server."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")[0] + "/15"
    redis_cache = {"BACKEND": "tcpquiz.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": "throttle-test"}
    _rates(monkeypatch, user="2/min")
    with override_settings(CACHES={"default": redis_cache}):
        cache.clear()
        try:
            codes = [api.get("/api/v1/ping/").status_code for _ in range(3)]
            history = cache.get(f"throttle_user_{student.pk}")
        finally:
            cache.clear()
    assert codes == [200, 200, 429]
    assert len(history) == 2
