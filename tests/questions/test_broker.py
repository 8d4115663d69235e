"""Grading through a real Redis broker and a real Celery worker (marker ``broker``).

The worker runs in a thread of this process, so it shares the test database: these tests use
``transaction=True`` and, on SQLite, the file test database of settings.DATABASES["default"]["TEST"].
The shared Redis is REDIS_URL (the test command points it at database 15) or 127.0.0.1:6379/15.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import User
from django.db import connections
from kombu import pools
from rest_framework.test import APIClient

from questions.models import Answer, Attempt
from questions.tasks import answers_pending_sweep
from tcpquiz.celery import app
from tests.conftest import key_choice

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

# Typed loosely: the test reaches into the app's connection pools to switch brokers.
celery_app: Any = app


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    base, _, _db = url.rpartition("/")
    return f"{base}/15" if base.startswith("redis") else "redis://127.0.0.1:6379/15"


def _use_broker(url: str) -> None:
    """Point the Celery app at ``url``, dropping pooled connections to the previous broker."""
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    pools.reset()  # kombu keeps producer pools per connection, process-wide
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def _broker(url: str) -> Iterator[None]:
    previous_url, previous_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    _use_broker(url)
    try:
        yield
    finally:
        _use_broker(previous_url)
        celery_app.conf.task_always_eager = previous_eager


@contextmanager
def _worker() -> Iterator[None]:
    # The worker thread's database connection must not outlive the test (PostgreSQL then cannot
    # drop the test database): with CONN_MAX_AGE 0 Celery closes it after each task.
    default = connections.settings["default"]
    max_age = default["CONN_MAX_AGE"]
    default["CONN_MAX_AGE"] = 0
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ):
            yield
    finally:
        default["CONN_MAX_AGE"] = max_age


def _wait_for(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def _submit(client: APIClient, attempt: Attempt, position: int) -> Any:
    return client.post(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        data=json.dumps({"question": position, "response": {"choice": key_choice(attempt, position)}}),
        content_type="application/json",
    )


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """The shared Redis, database 15, flushed before and after."""
    url = _redis_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except redis.RedisError:
        if os.environ.get("TCPQUIZ_REQUIRE_BROKER") == "1":
            pytest.fail(f"no Redis answers at {url} (TCPQUIZ_REQUIRE_BROKER=1)")
        pytest.skip(f"no Redis answers at {url}")
    client.flushdb()
    with _broker(url):
        yield url
    client.flushdb()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own, which the test can stop and start again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="tcpquiz-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        _wait_for(lambda: _pings(client), seconds=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    try:
        with _broker(server.url):
            yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def student_api(student: User) -> APIClient:
    client = APIClient()
    client.force_login(student)
    return client


def test_broker_worker_grades_answer_submitted_through_api(
    shared_redis: str, student_api: APIClient, attempt: Attempt
) -> None:
    """An answer submitted through the API is queued in Redis and graded by a real worker."""
    with _worker():
        response = _submit(student_api, attempt, 1)
        assert response.status_code == 201
        assert response.json()["status"] == "pending"
        answer_id = response.json()["id"]
        _wait_for(lambda: Answer.objects.get(pk=answer_id).status == Answer.Status.GRADED)
    answer = Answer.objects.get(pk=answer_id)
    assert answer.score == 1.0
    assert answer.grading_attempts == 1
    assert student_api.get(f"/api/v1/answers/{answer_id}/").json()["result"]["correct"] is True


def test_broker_down_answer_kept_then_graded_by_sweep(
    private_redis: PrivateRedis, student_api: APIClient, attempt: Attempt, settings: Any
) -> None:
    """With the broker down the submit still answers 201 (pending); once it is back, the sweep
    re-enqueues the answer and a worker grades it exactly once."""
    settings.GRADING_SWEEP_AFTER_SECONDS = 0
    private_redis.stop()

    started = time.monotonic()
    response = _submit(student_api, attempt, 1)
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 5, f"a dead broker held the request for {elapsed:.1f} s"
    answer_id = response.json()["id"]
    assert Answer.objects.get(pk=answer_id).status == Answer.Status.PENDING

    private_redis.start()
    assert answers_pending_sweep.apply().get() == 1
    with _worker():
        _wait_for(lambda: Answer.objects.get(pk=answer_id).status == Answer.Status.GRADED)
    answer = Answer.objects.get(pk=answer_id)
    assert answer.score == 1.0
    assert answer.grading_attempts == 1


def test_broker_down_healthz_reports_broker(private_redis: PrivateRedis, client: Any) -> None:
    """/healthz stays 200 with the broker down, reporting it as not ok (status degraded)."""
    private_redis.stop()
    started = time.monotonic()
    body = client.get("/healthz").json()
    assert time.monotonic() - started < 5
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
