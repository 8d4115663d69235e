"""Faults against a real broker and a real worker process (marker ``broker``).

Each test starts its own ``redis-server`` on a free port (so it can stop and start it) and real
``celery -A tcpquiz worker`` processes pointed at the test database through DATABASE_URL: the tests
use ``transaction=True`` so what they write is committed and visible to those processes. Grading is
slowed down for the kill tests with TCPQUIZ_GRADING_TEST_DELAY_S (a test-only setting) so the worker
can be killed while it holds a batch. The web side runs in this process (API test client, or a live
server for the concurrency test), with the broker and the cache pointed at the same private Redis.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection
from kombu import pools
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from questions import selectors, services
from questions.models import Answer, Attempt, Course, Quiz
from questions.tasks import answers_pending_sweep
from tcpquiz.celery import app
from tests.conftest import key_choice

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

celery_app: Any = app
QUESTIONS = 6
# Seconds per answer in the killed worker: a batch of QUESTIONS answers then takes about 3 s.
SLOW_GRADING_S = 0.5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False


class PrivateRedis:
    """A redis-server of this test's own (no persistence: a restart loses what it held)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="tcpquiz-faults-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: _pings(self.url), 10, "redis-server to answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _database_url() -> str:
    """The test database as a URL a worker process can open (the SQLite file, or PostgreSQL's)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """``celery -A tcpquiz worker`` (prefork, one child) as the Procfile runs it (``nice -n 10``, in a
    session of its own, as honcho starts it), logging to a file."""

    def __init__(self, broker_url: str, log_dir: str, grading_delay_s: float = 0.0) -> None:
        self.broker_url = broker_url
        self.log_path = Path(log_dir) / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.grading_delay_s = grading_delay_s
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = os.environ | {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": self.broker_url,
            "TCPQUIZ_EAGER_TASKS": "0",
            "TCPQUIZ_GRADING_TEST_DELAY_S": str(self.grading_delay_s),
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "INFO",
            "DJANGO_SETTINGS_MODULE": "tcpquiz.settings",
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *("nice", "-n", "10"),
                    *(sys.executable, "-m", "celery", "-A", "tcpquiz", "worker", "--pool", "prefork"),
                    *("--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle"),
                    *("--without-heartbeat", "--hostname", f"fault-{uuid.uuid4().hex[:8]}@%h"),
                ],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for(lambda: " ready." in self.log() or self.process.poll() is not None, 30, "the worker")  # type: ignore[union-attr]
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def child_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def kill_child(self) -> None:
        """SIGKILL the pool process running the task; the worker's main process lives on."""
        (child,) = self.child_pids()
        os.kill(child, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool), as a machine or container dying would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextmanager
def _broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at ``url`` (publishing for real), and back afterwards."""

    def use(broker_url: str, eager: bool) -> None:
        celery_app.conf.broker_url = broker_url
        celery_app.conf.task_always_eager = eager
        pools.reset()  # kombu keeps producer pools per connection, process-wide
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    previous = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    use(url, False)
    try:
        yield
    finally:
        use(*previous)


@pytest.fixture
def private_redis(settings: Any) -> Iterator[PrivateRedis]:
    """A private Redis as broker and cache of this process (the worker processes use it too)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("TCPQUIZ_REQUIRE_BROKER") == "1":
            pytest.fail("redis-server is not installed (TCPQUIZ_REQUIRE_BROKER=1)")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "tcpquiz",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    try:
        with _broker(server.url):
            yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def workers(private_redis: PrivateRedis, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes on the private Redis; all are killed at the end of the test."""
    started: list[WorkerProcess] = []

    def start(grading_delay_s: float = 0.0) -> WorkerProcess:
        worker = WorkerProcess(private_redis.url, str(tmp_path), grading_delay_s)
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def exam(course: Course, student: User) -> Attempt:
    """An open attempt at a quiz of QUESTIONS single-choice questions."""
    quiz: Quiz = services.quiz_create(
        course=course, title="Storm", slots=[("next_state", "medium")] * QUESTIONS
    )
    attempt, _created = services.attempt_start(user=student, quiz=quiz)
    return attempt


def _client(student: User) -> APIClient:
    client = APIClient()
    client.force_login(student)
    return client


def _submit(client: APIClient, attempt: Attempt, position: int) -> Any:
    response = client.post(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        data=json.dumps({"question": position, "response": {"choice": key_choice(attempt, position)}}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _all_graded(attempt: Attempt, count: int) -> Callable[[], bool]:
    return lambda: Answer.objects.filter(attempt=attempt, status=Answer.Status.GRADED).count() == count


def _assert_graded_exactly_once(attempt: Attempt, count: int) -> None:
    """``count`` answers, each graded once (one run counted), every score counted once."""
    answers = list(Answer.objects.filter(attempt=attempt))
    assert len(answers) == count
    assert len({a.question_id for a in answers}) == count
    runs = [(a.status, a.score, a.grading_attempts) for a in answers]
    assert runs == [(Answer.Status.GRADED, 1.0, 1)] * count
    progress = selectors.attempt_progress(attempt=attempt)
    assert (progress.answered, progress.graded, progress.pending) == (count, count, 0)
    assert progress.points_scored == float(count)


def _when_batch_is_grading(worker: WorkerProcess) -> None:
    """Wait until the worker has received a grading batch, then until it is partway through it."""
    _wait_for(lambda: "grade_answers_batch" in worker.log(), 15, "the worker to take the batch")
    time.sleep(2.5 * SLOW_GRADING_S)


def test_worker_started_as_the_procfile_does_yields_the_cpu_to_other_sessions(
    workers: Callable[..., WorkerProcess],
) -> None:
    """``nice -n 10`` in a session of its own: the worker gives its autogroup that niceness before the
    pool forks, so grading and pool top-ups rank below gunicorn, not only within their own session."""
    worker = workers()
    assert worker.process is not None
    if not Path("/proc/self/autogroup").exists():
        assert "Worker CPU priority: no autogroup here" in worker.log()
        return
    assert "Worker CPU priority: autogroup niceness set to 10" in worker.log(), worker.log()
    for pid in (worker.process.pid, *worker.child_pids()):
        assert Path(f"/proc/{pid}/autogroup").read_text().strip().endswith(" nice 10")
        assert os.getpriority(os.PRIO_PROCESS, pid) == 10


def test_fault_pool_process_killed_mid_batch_each_answer_graded_once(
    workers: Callable[..., WorkerProcess], student: User, exam: Attempt
) -> None:
    """SIGKILL the pool process while it grades a batch: nothing of the batch commits, the broker
    redelivers it, and the answers are graded one by one: each exactly once, one run counted."""
    client = _client(student)
    for position in range(1, QUESTIONS + 1):
        _submit(client, exam, position)
    worker = workers(grading_delay_s=SLOW_GRADING_S)  # started after the submits: one batch of all
    _when_batch_is_grading(worker)
    assert Answer.objects.filter(attempt=exam, status=Answer.Status.GRADED).count() == 0
    worker.kill_child()
    _wait_for(_all_graded(exam, QUESTIONS), 20, "the answers to be graded after the kill")
    assert "redelivered" in worker.log()
    _assert_graded_exactly_once(exam, QUESTIONS)


def test_fault_worker_killed_mid_batch_new_worker_grades_each_once(
    workers: Callable[..., WorkerProcess], student: User, exam: Attempt, settings: Any
) -> None:
    """SIGKILL the whole worker while it grades a batch; a new worker starts, the pending sweep
    re-enqueues what was left (the dead worker's message is out of reach until the visibility
    timeout), and every answer is graded exactly once."""
    settings.GRADING_SWEEP_AFTER_SECONDS = 0
    client = _client(student)
    for position in range(1, QUESTIONS + 1):
        _submit(client, exam, position)
    first = workers(grading_delay_s=SLOW_GRADING_S)
    _when_batch_is_grading(first)
    first.kill()
    assert Answer.objects.filter(attempt=exam, status=Answer.Status.PENDING).count() == QUESTIONS
    workers()
    assert answers_pending_sweep.apply().get() == QUESTIONS
    _wait_for(_all_graded(exam, QUESTIONS), 20, "the new worker to grade the answers")
    _assert_graded_exactly_once(exam, QUESTIONS)


def test_fault_redis_down_then_up_nothing_lost(
    private_redis: PrivateRedis,
    workers: Callable[..., WorkerProcess],
    student: User,
    exam: Attempt,
    settings: Any,
) -> None:
    """An answer whose drain message dies with Redis, and answers submitted while Redis is down (each
    still 201, quickly): once Redis is back the sweep re-enqueues them and a worker grades each once."""
    settings.GRADING_SWEEP_AFTER_SECONDS = 0
    client = _client(student)
    _submit(client, exam, 1)  # queued in Redis, no worker yet
    private_redis.stop()  # the queued message is lost with it (no persistence)
    for position in range(2, 4):
        started = time.monotonic()
        _submit(client, exam, position)
        assert time.monotonic() - started < 5, "a dead broker held the submit"
    assert Answer.objects.filter(attempt=exam, status=Answer.Status.PENDING).count() == 3
    private_redis.start()
    workers()
    assert answers_pending_sweep.apply().get() == 3
    _wait_for(_all_graded(exam, 3), 20, "the answers to be graded after Redis came back")
    _assert_graded_exactly_once(exam, 3)


def _post_together(url: str, token: str, body: dict[str, Any], key: str | None) -> list[tuple[int, Any]]:
    """POST ``body`` from two threads released at the same instant; their (status, body) pairs."""
    barrier = threading.Barrier(2)
    results: list[tuple[int, Any]] = []

    parts = urlsplit(url)

    def post() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=20)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        barrier.wait()
        conn.request("POST", parts.path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        results.append((response.status, json.loads(response.read())))
        conn.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_fault_same_answer_posted_twice_concurrently_one_answer(
    live_server: Any, workers: Callable[..., WorkerProcess], student: User, exam: Attempt
) -> None:
    """Two simultaneous POSTs of one answer make one answer: with the same Idempotency-Key both get it
    (201 and 200, same id); without a key the second is refused (409). Each is graded once."""
    token = Token.objects.create(user=student).key
    url = f"{live_server.url}/api/v1/attempts/{exam.pk}/answers/"
    workers()
    for position in range(1, QUESTIONS // 2 + 1):
        body = {"question": position, "response": {"choice": key_choice(exam, position)}}
        results = _post_together(url, token, body, key=f"key-{position}")
        assert sorted(status for status, _ in results) == [200, 201], results
        assert len({answer["id"] for _, answer in results}) == 1
    for position in range(QUESTIONS // 2 + 1, QUESTIONS + 1):
        body = {"question": position, "response": {"choice": key_choice(exam, position)}}
        results = _post_together(url, token, body, key=None)
        assert sorted(status for status, _ in results) == [201, 409], results
    _wait_for(_all_graded(exam, QUESTIONS), 20, "the worker to grade the answers")
    _assert_graded_exactly_once(exam, QUESTIONS)


def test_fault_same_start_posted_twice_concurrently_one_attempt(
    live_server: Any, student: User, exam: Attempt
) -> None:
    """Two simultaneous starts of one quiz open one attempt: one gets 201, the other the same attempt
    with 200 (whichever way the race goes: seen before writing, or lost on the constraint)."""
    token = Token.objects.create(user=student).key
    for round_ in range(3):
        quiz = services.quiz_create(
            course=exam.quiz.course, title=f"Race {round_}", slots=[("next_state", "easy")] * 3
        )
        results = _post_together(f"{live_server.url}/api/v1/quizzes/{quiz.pk}/attempts/", token, {}, key=None)
        assert sorted(status for status, _ in results) == [200, 201], results
        assert len({body["id"] for _, body in results}) == 1
        assert Attempt.objects.filter(user=student, quiz=quiz).count() == 1
