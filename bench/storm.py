"""Exam-start storm: ``python -m bench.storm [--db sqlite|postgres] [--quick]`` prints one table.

The real stack on loopback: gunicorn (sync workers) serving the API, a Celery worker process grading,
Redis as broker and cache (database 12 of the local server, or a private redis-server when none
answers), and a database of the bench's own (a temporary SQLite file, or the PostgreSQL database
``tcpquiz_bench``, created and dropped here). The load generator is asyncio (on uvloop) in this
process, one connection per request (gunicorn's sync workers close every connection). Everything
shares the machine's cores, so the ratios to the trivial endpoint /api/v1/ping/, measured in the
same run, are the figures to compare across machines.

Set-up, not measured: migrations, N students with API tokens, five 20-question exams (one slot per
family in turn), and the variant pools filled with one variant per student and quiz on top of the
standing pool, as the beat task ``variant_pools_prepare`` does before a quiz opens.

Phases, in order:
  ratio      attempt start (20 questions) and answer submit against ping, each at 16 connections, in
             alternating blocks (ping, endpoint, ping, ... ping: the speed drifts); the starts are
             those of the burst, backlog and ratio quizzes (3N) in 4 blocks, the submits (answers
             to the ratio quiz) 4 blocks of 1.5 s
  paced exam N students start a 20-question attempt within 10 s, then answer one question about every
             3 s, all 20 (--answers K: the first K). The p99 of the first 5 answers, sent while the
             class is still starting, is shown on its own line as well
  burst      B answers posted as fast as 32 connections can, graded as they come (so at most as fast
             as they are posted)
  backlog    B answers posted with the worker stopped; then the worker drains them: grading capacity
Every answer carries an Idempotency-Key, as the browser's do. Latencies are client-side (connect to
last byte); submit-to-graded is server-side (answer created_at to graded_at). "Lost" = answered (201)
but not graded when the phase's wait ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REDIS_DB = 12
PG_DATABASE = "tcpquiz_bench"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
QUESTIONS = 20
RATIO_CONNECTIONS = 16
# The warm-up's starts; the paced exam; the two bursts; the submit ratio's answers.
QUIZZES = ("warmup", "exam", "burst", "backlog", "ratio")
# The paced exam's first answers, sent while the class is still starting (its busiest seconds).
START_WAVE_ANSWERS = 5
BURST_CONNECTIONS = 32

# The targets.
START_P99_MS = 300.0
SUBMIT_P99_MS = 100.0
GRADED_P99_S = 1.0
GRADED_PER_S = {"sqlite": 1000, "postgres": 600}
RATIO_SUBMIT = 0.30
RATIO_START = 0.25


# --- Processes ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


class Stack:
    """The processes of one run (each in its own session) and their log files."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")


def _pss_mib(pid: int) -> float:
    """A process's proportional set size (its private pages, plus its share of those it shares with
    other processes: the workers share what the preloaded master loaded), in MiB; NaN if unknown."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError, ValueError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def _cpu_by_group(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each process tree in ``roots`` (name: pid), PostgreSQL's and Redis's
    servers, this process, everything else, and the time the hypervisor took ("steal")."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, tuple[str, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:
            continue
        command = raw[raw.index(b"(") + 1 : raw.rindex(b")")].decode(errors="replace")
        fields = raw.rpartition(b")")[2].split()
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (command, (int(fields[11]) + int(fields[12])) / tick)
    owner = {pid: name for name, pid in roots.items()} | {os.getpid(): "load generator"}
    groups: dict[str, float] = {}
    for pid, (command, seconds) in used.items():
        name, up = None, pid
        while name is None and up in parents:
            name = owner.get(up)
            up = parents[up] if parents[up] != up else 0
        if name is None:
            name = (
                "postgres" if command.startswith("postgres") else "redis" if "redis" in command else "other"
            )
        groups[name] = groups.get(name, 0.0) + seconds
    with open("/proc/stat") as stat:
        groups["steal"] = int(stat.readline().split()[8]) / tick
    return groups


def _disk_sample() -> dict[str, float]:
    """The kernel's dirty and under-writeback memory (KiB) and, summed over whole disks, KiB written,
    milliseconds spent writing and requests in flight so far: whether a slow second had the disk busy
    (a commit waits for its WAL to reach the disk)."""
    sample: dict[str, float] = {}
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            name, _, rest = line.partition(":")
            if name in ("Dirty", "Writeback"):
                sample[f"{name.lower()}_kib"] = float(rest.split()[0])
    written = write_ms = in_flight = 0.0
    with open("/proc/diskstats") as diskstats:
        for line in diskstats:
            fields = line.split()
            device = fields[2]
            # Whole disks only (a partition's writes are its disk's too); no loop or RAM devices.
            if device.startswith(("loop", "ram")) or os.path.exists(f"/sys/class/block/{device}/partition"):
                continue
            written += int(fields[9]) / 2  # 512-byte sectors
            write_ms += int(fields[10])
            in_flight += int(fields[11])
    return sample | {"written_kib": written, "write_ms": write_ms, "in_flight": in_flight}


def _tasks_received(stack: Stack) -> int:
    """How many grade_answers_batch tasks the worker has received (its log, INFO level)."""
    return sum(
        1
        for line in stack.log("worker").splitlines()
        if "grade_answers_batch[" in line and "received" in line
    )


# --- HTTP load ------------------------------------------------------------------------------------


@dataclass
class Result:
    status: int
    seconds: float
    body: bytes


async def http(port: int, method: str, path: str, token: str, body: Any = None, **headers: str) -> Result:
    """One request on a fresh connection (gunicorn's sync workers close it after the response)."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        f"Authorization: Token {token}",
        "Accept: application/json",
        "Connection: close",
        f"Content-Length: {len(payload)}",
    ]
    if body is not None:
        head.append("Content-Type: application/json")
    head += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await reader.read()
        writer.close()
    except OSError:
        return Result(0, time.perf_counter() - started, b"")
    seconds = time.perf_counter() - started
    status_line, _, rest = raw.partition(b"\r\n")
    parts = status_line.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return Result(status, seconds, rest.partition(b"\r\n\r\n")[2])


def run_loop(main: Coroutine[Any, Any, Any]) -> Any:
    """Run ``main`` on uvloop's event loop (libuv, in C) instead of asyncio's own.

    The load generator shares the machine's cores with the server it measures: what it spends is taken
    from the server, and its own scheduling is part of every latency it times. Measured here at 170
    requests a second (three alternating pairs against 9 gunicorn workers): 0.45-0.53 ms of the
    generator's CPU per request with uvloop, 0.76-0.83 ms with asyncio's loop.
    """
    import uvloop

    return uvloop.run(main)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in this process (the load generator) while it times requests.

    The generator holds every student's attempts and questions, hundreds of thousands of objects, and
    a full collection walking them took 250 to 460 ms (a SQLite run with gc.callbacks timing it; the
    web and worker processes had no pause over 200 ms meanwhile). Every request in flight during one
    was timed that much slower than the server served it. A run that missed the paced exam's p99s
    had a start and a submit maximum of 547 and 545 ms: most likely one such pause, here. So
    garbage is collected and what survives frozen before each timed part, and automatic collection is
    off during it (the few cycles it makes wait for the next). Nested uses leave it to the outer one.
    """
    if not gc.isenabled():
        yield
        return
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def closed_loop(
    connections: int, jobs: Iterator[Callable[[], Awaitable[Result]]], seconds: float | None = None
) -> tuple[list[Result], float]:
    """Run ``jobs`` on ``connections`` concurrent loops until they run out (or ``seconds`` pass)."""
    results: list[Result] = []
    deadline = None if seconds is None else time.perf_counter() + seconds

    async def loop() -> None:
        while deadline is None or time.perf_counter() < deadline:
            job = next(jobs, None)
            if job is None:
                return
            results.append(await job())

    with collector_paused():
        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        return results, time.perf_counter() - started


def _ok(results: Sequence[Result]) -> int:
    return sum(1 for r in results if 200 <= r.status < 300)


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def idempotency_key(attempt_id: int, position: int) -> str:
    """The Idempotency-Key of an answer to question ``position`` of an attempt (one per answer; with
    --trace, gunicorn's access log names each request by it)."""
    return f"storm-{attempt_id}-{position}"


def response_for(question: dict[str, Any]) -> dict[str, Any]:
    """A well-formed answer to a public question (right or wrong does not matter here)."""
    kind, widget, choices = question["kind"], question.get("widget") or {}, question.get("choices") or []
    if kind == "single":
        return {"choice": choices[0]["id"]}
    if kind == "multiple":
        return {"choices": [choices[0]["id"]]}
    if kind == "order":
        return {"order": [item["id"] for item in widget.get("items", [])]}
    if kind == "numeric":
        return {"values": {f["id"]: 0 for f in widget.get("fields", [])}}
    if kind == "ladder":
        return {"cells": {blank: "-" for blank in widget.get("blanks", [])}}
    return {"step": None}


# --- The run --------------------------------------------------------------------------------------


@dataclass
class Student:
    user_id: int
    token: str
    attempts: dict[int, int] = field(default_factory=dict)  # quiz id -> attempt id
    questions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # quiz id -> public questions


@dataclass
class Row:
    phase: str
    figure: str
    value: str
    target: str = ""
    ok: bool | None = None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.db: str = args.db
        self.rows: list[Row] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="tcpquiz-storm-"))
        self.port = _free_port()
        self.private_redis: subprocess.Popen[bytes] | None = None
        self.students: list[Student] = []
        self.quizzes: dict[str, int] = {}
        self.worker_autogroup = "none"  # the worker's autogroup niceness, where the kernel has them

    # Set-up ----------------------------------------------------------------------------------------

    def redis_url(self) -> str:
        base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rpartition("/")[0]
        if _redis_answers(f"{base}/{REDIS_DB}"):
            import redis

            # Emptied first as well as after: a run cut short leaves its pools there, and their ids
            # name rows of a database dropped since (each start would then find its variants gone
            # and generate them itself).
            redis.Redis.from_url(f"{base}/{REDIS_DB}").flushdb()
            return f"{base}/{REDIS_DB}"
        port = _free_port()
        self.private_redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://{HOST}:{port}/{REDIS_DB}"
        _wait_for(lambda: _redis_answers(url), 10, "a private redis-server")
        return url

    def database_url(self) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
        return f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"

    def drop_database(self) -> None:
        if self.db != "postgres":
            return
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")

    def environment(self) -> dict[str, str]:
        self.redis = self.redis_url()
        return os.environ | {
            "DATABASE_URL": self.database_url(),
            "REDIS_URL": self.redis,
            "DEBUG": "0",
            "SECRET_KEY": "bench-storm-" + "x" * 50,
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "CONN_MAX_AGE": "600",
            "LOG_LEVEL": "WARNING",
            # A student here answers a whole exam, then two bursts of 20 answers, within about two
            # minutes: more than the 60 a minute a person is allowed. The throttle still runs on every
            # request (what it costs depends on the requests, not on the limit); it refuses none here.
            "THROTTLE_ANSWER_SUBMIT": "1000/min",
            "TCPQUIZ_EAGER_TASKS": "0",
            "DJANGO_SETTINGS_MODULE": "tcpquiz.settings",
        }

    def seed(self) -> None:
        """Students (token auth), the course and its quizzes, straight through the ORM."""
        import django

        django.setup()
        from django.contrib.auth.models import User
        from rest_framework.authtoken.models import Token

        from questions import services
        from questions.generators.registry import families
        from questions.models import Enrollment, Quiz

        course = services.course_create(title="Storm", join_code="STORM-1")
        names = list(families())
        levels = ["easy", "medium", "hard"]
        slots = [(names[i % len(names)], levels[i % 3]) for i in range(QUESTIONS)]
        for name in QUIZZES:
            quiz = services.quiz_create(course=course, title=name, slots=slots, mode=Quiz.Mode.EXAM)
            self.quizzes[name] = quiz.pk
        count = self.args.students + RATIO_CONNECTIONS
        users = User.objects.bulk_create([User(username=f"s{i:05d}", password="!") for i in range(count)])
        Enrollment.objects.bulk_create([Enrollment(user=u, course=course) for u in users])
        tokens = Token.objects.bulk_create([Token(key=Token.generate_key(), user=u) for u in users])
        self.students = [Student(t.user_id, t.key) for t in tokens]
        # As before an exam (the beat task variant_pools_prepare does it for quizzes about to open):
        # one ready-made variant per student and quiz on top of the standing pool (VARIANT_POOL_SIZE),
        # so starting does not generate them and the exam's own starts set off no top-up.
        started = time.perf_counter()
        made = services.quiz_variants_prepare(
            # The exam, burst, backlog and ratio quizzes' starts, and the warm-up's (the pools are
            # per family and difficulty, and the five quizzes have the same slots).
            quiz_id=self.quizzes["exam"],
            size=(len(QUIZZES) - 1) * self.args.students + 2 * RATIO_CONNECTIONS,
        )
        self.rows.append(
            Row("setup", "variant pools filled", f"{made} variants in {time.perf_counter() - started:.1f} s")
        )

    def start_stack(self, stack: Stack) -> None:
        bin_dir = Path(sys.executable).parent
        stack.start(
            "gunicorn",
            [
                str(bin_dir / "gunicorn"),
                "tcpquiz.wsgi",
                *("--bind", f"{HOST}:{self.port}", "--workers", str(self.args.web_workers)),
                # As the Procfile: its settings (preloaded, the collector told to skip what the
                # master loaded; see gunicorn.conf.py).
                *("--config", str(ROOT / "gunicorn.conf.py")),
                *("--worker-class", "sync", "--backlog", "2048", "--log-level", "warning"),
                # With --trace, each request's time inside gunicorn (microseconds) by its idempotency key:
                # set against the client's time, it tells a slow handler from a wait for a free worker.
                *(self.access_log() if self.args.trace else ()),
            ],
        )
        self.start_worker(stack)
        _wait_for(lambda: self.healthy(), 30, "gunicorn")

    def access_log(self) -> tuple[str, ...]:
        log_format = "%({idempotency-key}i)s %(D)s %(s)s"
        return ("--access-logfile", str(self.workdir / "access.log"), "--access-logformat", log_format)

    def start_worker(self, stack: Stack) -> None:
        stack.start(
            "worker",
            [
                # As the Procfile runs it: grading yields the CPU to web requests (see README).
                *("nice", "-n", str(self.args.worker_nice)),
                *(sys.executable, "-m", "celery", "-A", "tcpquiz", "worker", "--pool", "prefork"),
                *("--concurrency", str(self.args.worker_concurrency), "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
        )
        _wait_for(lambda: " ready." in stack.log("worker"), 30, "the Celery worker")
        # Whether the niceness ranks the worker against gunicorn too (see tcpquiz.autogroup).
        autogroup = Path(f"/proc/{stack.processes['worker'].pid}/autogroup")
        with contextlib.suppress(OSError):
            self.worker_autogroup = autogroup.read_text().split()[-1]

    def healthy(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=0.5):
            return True
        return False

    # Phases ----------------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, token: str, body: Any = None, **headers: str
    ) -> Awaitable[Result]:
        return http(self.port, method, path, token, body, **headers)

    async def warmup(self) -> None:
        """Every web process imports the question families and opens its connections."""
        warm = self.students[-RATIO_CONNECTIONS:]
        starts = iter([lambda s=s: self.request("POST", self._start_path("warmup"), s.token) for s in warm])
        await closed_loop(4, starts)
        pings = iter([lambda: self.request("GET", "/api/v1/ping/", warm[0].token)] * 200)
        await closed_loop(8, pings)

    async def settle(self, label: str, timeout: float = 120.0, quiet: float = 1.5) -> None:
        """Wait until the worker has finished what the last phase left it (pool top-ups, grading): no
        task queued and the pools' lengths unchanged for ``quiet`` seconds."""
        import redis
        from django.core.cache import cache

        from questions.tasks import POOLS_FILL_QUEUED_KEY
        from questions.variant_pool import KEY_PREFIX

        client = redis.Redis.from_url(self.redis)
        # A top-up chain holds its quiz's fill-queued key until its last chunk, including the pauses
        # between chunks, when nothing is queued and the pools do not move.
        filling = cache.make_key(POOLS_FILL_QUEUED_KEY.format(quiz_id="*"))
        started = time.perf_counter()
        last: tuple[int, int, int] | None = None
        since = started
        while (now := time.perf_counter()) - started < timeout:
            pools = sum(client.llen(key) for key in client.scan_iter(match=f"{KEY_PREFIX}:*"))
            chains = sum(1 for _key in client.scan_iter(match=filling))
            state = (pools, client.llen("celery"), chains)
            if state != last:
                last, since = state, now
            elif state[1] == 0 and state[2] == 0 and now - since >= quiet:
                break
            await asyncio.sleep(0.25)
        waited = time.perf_counter() - started
        settled = "after" if waited < timeout else f"not quiet (pools, queue, top-ups: {last}) after"
        self.rows.append(Row("ratio", f"worker settled ({label})", f"{settled} {waited:.1f} s"))

    def _start_path(self, quiz: str) -> str:
        return f"/api/v1/quizzes/{self.quizzes[quiz]}/attempts/"

    def ping_jobs(self) -> Iterator[Callable[[], Awaitable[Result]]]:
        tokens = [s.token for s in self.students]
        count = iter(range(10**9))

        def job() -> Callable[[], Awaitable[Result]]:
            token = tokens[next(count) % len(tokens)]
            return lambda: self.request("GET", "/api/v1/ping/", token)

        return iter(job, None)

    async def ratio(
        self, name: str, blocks: Sequence[tuple[Iterator[Callable[[], Awaitable[Result]]], float | None]]
    ) -> tuple[float, str]:
        """The endpoint's rate over the trivial endpoint's, both at 16 connections, in alternating
        blocks: ping, endpoint, ping, ..., ping. Each endpoint block is ``(jobs, seconds)`` (None: until
        its jobs run out); each ping block lasts half ``--ratio-seconds``.

        This machine's speed drifts within seconds (ping 768 against 1,073 req/s on the two sides of
        one six-second window). Interleaving short blocks spreads that drift over both sides alike,
        where one endpoint window between two pings left the estimate to where the drift fell. The
        ratio is the endpoint's requests per second over all its blocks divided by the ping's over all
        of theirs; each round's own ratio (its block over the pings beside it) shows the spread.
        """
        ping_results: list[Result] = []
        ping_seconds: list[float] = []
        ping_rates: list[float] = []
        done: list[Result] = []
        done_seconds = 0.0
        rounds: list[float] = []

        async def ping_block() -> None:
            results, seconds = await closed_loop(
                RATIO_CONNECTIONS, self.ping_jobs(), self.args.ratio_seconds / 2
            )
            ping_results.extend(results)
            ping_seconds.append(seconds)
            ping_rates.append(_ok(results) / seconds)

        await ping_block()
        for jobs, limit in blocks:
            results, seconds = await closed_loop(RATIO_CONNECTIONS, jobs, limit)
            if not results:
                break  # the endpoint's jobs ran out
            done.extend(results)
            done_seconds += seconds
            await ping_block()
            rounds.append((_ok(results) / seconds) / ((ping_rates[-2] + ping_rates[-1]) / 2))
        ping_rate = self.record_rate("ratio", f"ping (beside {name})", ping_results, sum(ping_seconds))
        rate = self.record_rate("ratio", name, done, done_seconds)
        spread = f"{len(rounds)} rounds {min(rounds):5.3f}-{max(rounds):5.3f}" if rounds else ""
        return rate / ping_rate, spread

    def record_rate(self, phase: str, name: str, results: list[Result], seconds: float) -> float:
        ok = [r for r in results if 200 <= r.status < 300]
        rate = len(ok) / seconds
        errors = len(results) - len(ok)
        p50, p99 = (1000 * percentile([r.seconds for r in ok], p) for p in (50, 99))
        self.rows.append(
            Row(
                phase,
                f"{name} @{RATIO_CONNECTIONS}",
                f"{rate:7.0f} req/s  p50 {p50:5.1f} ms  p99 {p99:6.1f} ms  errors {errors}",
            )
        )
        return rate

    async def starts(self, quiz_names: Sequence[str]) -> tuple[float, str]:
        """Start an attempt for every student at each quiz (16 connections), in ``--ratio-rounds``
        blocks between pings; returns the start / ping ratio and its rounds' spread."""
        pending = [(s, q) for q in quiz_names for s in self.students[: self.args.students]]
        keep: list[tuple[Student, str, Result]] = []

        def job(student: Student, quiz: str) -> Callable[[], Awaitable[Result]]:
            async def run() -> Result:
                result = await self.request("POST", self._start_path(quiz), student.token)
                keep.append((student, quiz, result))
                return result

            return run

        jobs = [job(s, q) for s, q in pending]
        size = math.ceil(len(jobs) / self.args.ratio_rounds)
        blocks = [(iter(jobs[at : at + size]), None) for at in range(0, len(jobs), size)]
        ratio = await self.ratio(f"start {QUESTIONS}-question attempt", blocks)
        for student, quiz, result in keep:
            if result.status == 201:
                body = json.loads(result.body)
                student.attempts[self.quizzes[quiz]] = body["id"]
                student.questions[self.quizzes[quiz]] = body["questions"]
        return ratio

    def answer_job(self, student: Student, quiz: str, position: int) -> Callable[[], Awaitable[Result]]:
        quiz_id = self.quizzes[quiz]
        body = {"question": position, "response": response_for(student.questions[quiz_id][position - 1])}
        attempt_id = student.attempts[quiz_id]
        path = f"/api/v1/attempts/{attempt_id}/answers/"
        # As the browser and a careful LMS client do: a retry of this POST cannot make a second answer.
        key = idempotency_key(attempt_id, position)
        return lambda: self.request("POST", path, student.token, body, Idempotency_Key=key)

    async def submits(self) -> tuple[float, str]:
        """Answer the ratio quiz's questions at 16 connections, in ``--ratio-rounds`` blocks of half
        ``--ratio-seconds`` between pings; returns the submit / ping ratio and its spread."""
        quiz = self.quizzes["ratio"]
        students = [s for s in self.students[: self.args.students] if quiz in s.attempts]
        jobs = iter(
            [self.answer_job(s, "ratio", position) for position in range(1, QUESTIONS + 1) for s in students]
        )
        blocks = [(jobs, self.args.ratio_seconds / 2)] * self.args.ratio_rounds
        return await self.ratio("submit answer", blocks)

    async def paced_exam(self, stack: Stack) -> list[int]:
        """Students start within 10 s, then answer ``answers`` questions about 3 s apart."""
        rng = random.Random(7)
        starts: list[Result] = []
        submits: list[Result] = []
        start_wave: list[Result] = []  # each student's first START_WAVE_ANSWERS answers
        answer_ids: list[int] = []
        exam = self.quizzes["exam"]

        trace: list[tuple[str, float, float, int, str]] = []  # (what, sent at, seconds, status, key)
        began = time.perf_counter()

        async def student_run(student: Student) -> None:
            await asyncio.sleep(rng.uniform(0, 10))
            sent = time.perf_counter() - began
            result = await self.request("POST", self._start_path("exam"), student.token)
            starts.append(result)
            trace.append(("start", sent, result.seconds, result.status, ""))
            if result.status != 201:
                return
            body = json.loads(result.body)
            student.attempts[exam] = body["id"]
            student.questions[exam] = body["questions"]
            for position in range(1, self.args.answers + 1):
                await asyncio.sleep(rng.uniform(2, 4))
                sent = time.perf_counter() - began
                answered = await self.answer_job(student, "exam", position)()
                submits.append(answered)
                if position <= START_WAVE_ANSWERS:
                    start_wave.append(answered)
                key = idempotency_key(student.attempts[exam], position)  # the one answer_job sent
                trace.append(("submit", sent, answered.seconds, answered.status, key))
                if answered.status == 201:
                    answer_ids.append(json.loads(answered.body)["id"])

        cpu: list[tuple[float, dict[str, float]]] = []
        disk: list[tuple[float, dict[str, float]]] = []

        async def sample_machine() -> None:
            """Every 0.25 s: CPU used so far per process group, and the disk's state."""
            roots = {name: process.pid for name, process in stack.processes.items()}
            while True:
                cpu.append((time.perf_counter() - began, _cpu_by_group(roots)))
                disk.append((time.perf_counter() - began, _disk_sample()))
                await asyncio.sleep(0.25)

        sampler = asyncio.ensure_future(sample_machine()) if self.args.trace else None
        with collector_paused():
            started = time.perf_counter()
            await asyncio.gather(*(student_run(s) for s in self.students[: self.args.students]))
            seconds = time.perf_counter() - started
        if sampler is not None:
            sampler.cancel()
        if self.args.trace:
            # Every request of the paced exam, for a timeline: which moments were slow, and by how much.
            Path(self.args.trace).write_text(
                json.dumps(
                    {
                        "wall_start": time.time() - (time.perf_counter() - began),
                        "requests": sorted(trace, key=lambda r: r[1]),
                        "cpu": cpu,
                        "disk": disk,
                    }
                )
            )
        n, k = self.args.students, self.args.answers
        phase = f"paced exam ({n} students, {k} of {QUESTIONS} answers each, {seconds:.0f} s)"
        self.latency_rows(phase, "start", starts, START_P99_MS)
        self.latency_rows(phase, "submit", submits, SUBMIT_P99_MS)
        if k > START_WAVE_ANSWERS:
            # For the record (and to compare with runs that answered only these): the seconds in which
            # the last students start while the first ones answer. The target is the whole exam's.
            self.latency_rows(phase, f"submit, first {START_WAVE_ANSWERS} answers", start_wave, None)
        self.graded_rows(phase, answer_ids)
        return answer_ids

    def latency_rows(self, phase: str, name: str, results: list[Result], target_ms: float | None) -> None:
        ok = [1000 * r.seconds for r in results if 200 <= r.status < 300]
        errors = len(results) - len(ok)
        p99 = percentile(ok, 99)
        self.rows.append(
            Row(
                phase,
                f"{name} latency",
                f"p50 {percentile(ok, 50):6.1f} ms  p99 {p99:6.1f} ms  max {max(ok, default=0):6.1f} ms"
                f"  n {len(results)}  errors {errors}",
                "" if target_ms is None else f"p99 < {target_ms} ms, 0 errors",
                None if target_ms is None else p99 < target_ms and errors == 0,
            )
        )

    def graded_rows(self, phase: str, answer_ids: list[int], wait: float = 60) -> None:
        from questions.models import Answer

        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not Answer.objects.filter(pk__in=answer_ids, status=Answer.Status.PENDING).exists():
                break
            time.sleep(0.5)
        rows = list(Answer.objects.filter(pk__in=answer_ids).values_list("status", "created_at", "graded_at"))
        lost = sum(1 for status, _c, _g in rows if status != Answer.Status.GRADED)
        lags = [(g - c).total_seconds() for s, c, g in rows if s == Answer.Status.GRADED and g is not None]
        p99 = percentile(lags, 99)
        self.rows.append(
            Row(
                phase,
                "submit-to-graded",
                f"p50 {percentile(lags, 50):6.3f} s  p99 {p99:6.3f} s  max {max(lags, default=0):6.3f} s"
                f"  lost {lost}",
                f"p99 < {GRADED_P99_S} s, 0 lost",
                p99 < GRADED_P99_S and lost == 0,
            )
        )

    async def burst(self, quiz: str) -> list[int]:
        """Post every answer of every student's attempt at ``quiz`` as fast as 32 connections can."""
        quiz_id = self.quizzes[quiz]
        students = [s for s in self.students[: self.args.students] if quiz_id in s.attempts]
        jobs = [self.answer_job(s, quiz, p) for p in range(1, QUESTIONS + 1) for s in students]
        jobs = jobs[: self.args.burst]
        ids: list[int] = []

        def keep(job: Callable[[], Awaitable[Result]]) -> Callable[[], Awaitable[Result]]:
            async def run() -> Result:
                result = await job()
                if result.status == 201:
                    ids.append(json.loads(result.body)["id"])
                return result

            return run

        results, seconds = await closed_loop(BURST_CONNECTIONS, iter([keep(j) for j in jobs]))
        self.posted = (len(results), len(ids), seconds, results)
        return ids

    def burst_rows(
        self, phase: str, ids: list[int], tasks_before: int, stack: Stack, live: bool, wait: float = 120
    ) -> None:
        """Posting figures, then grading: with ``live`` the answers were graded as they came, so the
        rate is bounded by the posting rate; without, the worker drained a backlog (its capacity)."""
        from questions.models import Answer

        sent, created, seconds, results = self.posted
        errors = sent - created
        latencies = [1000 * r.seconds for r in results if r.status == 201]
        self.rows.append(
            Row(
                phase,
                f"posted @{BURST_CONNECTIONS}",
                f"{created} in {seconds:.1f} s = {created / seconds:6.0f} answers/s  "
                f"p99 {percentile(latencies, 99):6.1f} ms  errors {errors}",
                "0 errors",
                errors == 0,
            )
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not Answer.objects.filter(pk__in=ids, status=Answer.Status.PENDING).exists():
                break
            time.sleep(0.5)
        rows = list(Answer.objects.filter(pk__in=ids).values_list("status", "created_at", "graded_at"))
        graded = sorted(g for s, _c, g in rows if s == Answer.Status.GRADED and g is not None)
        lags = [(g - c).total_seconds() for s, c, g in rows if s == Answer.Status.GRADED and g is not None]
        lost = len(rows) - len(graded)
        # Sustained: the middle 90% of the answers, so start-up and the last stragglers do not count.
        cut = len(graded) // 20
        middle = graded[cut : len(graded) - cut]
        span = (middle[-1] - middle[0]).total_seconds() if len(middle) > 1 else float("nan")
        rate = (len(middle) - 1) / span if span and span > 0 else float("nan")
        whole = (graded[-1] - graded[0]).total_seconds() if len(graded) > 1 else float("nan")
        target = GRADED_PER_S[self.db]
        value = f"{len(graded)} in {whole:.1f} s; sustained {rate:6.0f} answers/s  lost {lost}"
        if live:
            value += f"  lag p99 {percentile(lags, 99):.2f} s"
            self.rows.append(Row(phase, "graded (as posted)", value, "0 lost", lost == 0))
        else:
            self.rows.append(
                Row(phase, "graded", value, f">= {target}/s, 0 lost", rate >= target and lost == 0)
            )
        tasks = _tasks_received(stack) - tasks_before
        self.rows.append(Row(phase, "grading tasks run", f"{tasks} (for {len(graded)} answers)"))

    # Orchestration ---------------------------------------------------------------------------------

    def run(self) -> int:
        env = self.environment()
        os.environ.update(env)
        # The ORM reads results between phases, from inside the event loop (nothing else runs then).
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        stack = Stack(self.workdir, env)
        try:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
            self.seed()
            self.start_stack(stack)
            run_loop(self.phases(stack))
        finally:
            from django.db import connections

            connections.close_all()
            stack.stop_all()
            if self.private_redis is not None:
                self.private_redis.kill()
            else:
                import redis

                redis.Redis.from_url(self.redis).flushdb()
            self.drop_database()
        self.print_table()
        if self.args.keep_logs:
            print(f"logs: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return 0 if all(row.ok is not False for row in self.rows) else 1

    async def phases(self, stack: Stack) -> None:
        await self.warmup()
        await self.settle("before start")
        self.ratio_row("start / ping", *await self.starts(["burst", "backlog", "ratio"]), RATIO_START)
        await self.paced_exam(stack)
        self.memory_row(stack)
        # The exam emptied the pools: their top-up runs in the worker, and a ratio measured meanwhile
        # would compare the submits and the pings to that as well as to each other.
        await self.settle("before submit")
        self.ratio_row("submit / ping", *await self.submits(), RATIO_SUBMIT)
        await asyncio.sleep(2)  # let the submits of the ratio window be graded

        tasks_before = _tasks_received(stack)
        ids = await self.burst("burst")
        self.burst_rows(
            f"burst ({self.args.burst} answers, grading live)", ids, tasks_before, stack, live=True
        )

        stack.stop("worker")
        ids = await self.burst("backlog")
        await asyncio.sleep(2.5)  # the drain-queued key expires: new drains queue as usual
        (self.workdir / "worker.log").rename(self.workdir / "worker-before-backlog.log")
        self.start_worker(stack)
        phase = f"backlog ({self.args.burst} answers posted with the worker stopped, then drained)"
        self.burst_rows(phase, ids, 0, stack, live=False)

    def memory_row(self, stack: Stack) -> None:
        """The web processes' memory after the exam (PSS: shared pages counted once, split)."""
        master = stack.processes["gunicorn"].pid
        workers = [_pss_mib(pid) for pid in _children(master)]
        total = _pss_mib(master) + sum(workers)
        each = ", ".join(f"{mib:.0f}" for mib in workers)
        self.rows.append(
            Row(
                "memory",
                "gunicorn after the exam (PSS)",
                f"{total:.0f} MiB: master {_pss_mib(master):.0f}, workers {each}",
            )
        )

    def ratio_row(self, name: str, ratio: float, spread: str, target: float) -> None:
        self.rows.append(Row("ratio", name, f"{ratio:5.3f}  ({spread})", f">= {target:.2f}", ratio >= target))

    def print_table(self) -> None:
        cores = os.cpu_count()
        print(
            f"\nstorm on {self.db} | {cores} cores shared by load generator (uvloop), gunicorn "
            f"({self.args.web_workers} sync workers), Celery (prefork x{self.args.worker_concurrency}, "
            f"nice {self.args.worker_nice}, autogroup nice {self.worker_autogroup}), "
            f"Redis, database"
        )
        width = max(len(row.figure) for row in self.rows)
        phase = None
        for row in self.rows:
            if row.phase != phase:
                phase = row.phase
                print(f"\n{phase}")
            verdict = "" if row.ok is None else ("ok" if row.ok else "MISSED")
            target = f"target {row.target}" if row.target else ""
            print(f"  {row.figure:<{width}}  {row.value:<74} {target:<28} {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="100 students, 2,000-answer bursts")
    parser.add_argument("--students", type=int, default=None, help="default 500 (100 with --quick)")
    parser.add_argument(
        "--answers", type=int, default=QUESTIONS, help="answers per student in the paced exam (all 20)"
    )
    parser.add_argument("--burst", type=int, default=None, help="default 10,000 (2,000 with --quick)")
    parser.add_argument(
        "--ratio-seconds", type=float, default=3.0, help="two ping blocks' length (each is half)"
    )
    parser.add_argument(
        "--ratio-rounds", type=int, default=4, help="endpoint blocks, each between two ping blocks"
    )
    parser.add_argument(
        "--web-workers",
        type=int,
        default=None,
        help="gunicorn sync workers (default: gunicorn.conf.py's, as the Procfile runs it)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=None,
        help="Celery pool processes: default 1 on SQLite (one writer), 2 on PostgreSQL (as the Procfile)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="niceness of the Celery worker (10, as the Procfile; 0: as the web processes)",
    )
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--trace",
        default=None,
        help=(
            "write the paced exam's requests (kind, sent at, seconds, status, idempotency key), and CPU "
            "per process group and the disk's writes every 0.25 s, as JSON here; gunicorn then logs each "
            "request's own time to access.log (see --keep-logs)"
        ),
    )
    args = parser.parse_args(argv)
    args.students = args.students or (100 if args.quick else 500)
    args.worker_concurrency = args.worker_concurrency or (1 if args.db == "sqlite" else 2)
    if not args.web_workers:
        # As gunicorn.conf.py counts them for this run's database (WEB_CONCURRENCY, if set, wins there).
        worker_count = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_count"]
        database = "sqlite://" if args.db == "sqlite" else "postgres://"
        args.web_workers = worker_count(os.environ | {"DATABASE_URL": database}, os.cpu_count() or 1)
    args.burst = min(args.burst or (2_000 if args.quick else 10_000), args.students * QUESTIONS)
    return Bench(args).run()


if __name__ == "__main__":
    raise SystemExit(main())
