"""gunicorn's settings for tcpquiz (``gunicorn tcpquiz.wsgi --config gunicorn.conf.py``; the Procfile
and ``bench.storm`` use it). The bind address stays on the command line.

Workers: on PostgreSQL 4 x cores + 1 sync workers, on SQLite 2 x cores + 1 (gunicorn's documented
starting point), at most 12; ``WEB_CONCURRENCY``, the variable gunicorn itself reads, overrides it.
SQLite has one writer: more processes only queue on its lock (its busy handler sleeps between tries).
On PostgreSQL this application waits
on PostgreSQL and Redis for about half of each request (a submit: about 10 ms in gunicorn, 4-6 ms of
it CPU), and at an exam's start its requests differ fourfold in length (a 20-question start against
a submit). With too few workers, a submit waits in the listen queue behind starts while the cores are
not the limit. Measured in ``bench.storm`` on PostgreSQL (2 cores):

- 2 workers: the paced exam's p99 submit was 82.8 and 121 ms in two runs (target 100).
- 5 workers: 41.5, 101.2, 61.2 and 46.0 ms; then, with the Celery worker's autogroup niced as well
  (tcpquiz.autogroup), 60.6, 181.1, 43.6, 327.3, 47.6, 57.9 and 156.5 ms. In the traced run with
  156.5 ms (``--trace``), the worst second had a client-side p50 of 136 ms while gunicorn's own p50
  (its access log) was 22 ms: the time went in waiting for a free worker.
- 9 workers: 33.6, 77.8, 102.7 and 145.9 ms (the last three in runs where the machine ran slow: ping
  at 568-642 req/s, or 834 falling to 633). Better, not enough: on two shared cores the exam's
  busiest second (the last starts, the most submits so far) saturates both; in the traced 145.9 ms run
  gunicorn alone took 1.4 cores then. With the pools prepared on top of their standing size (no top-up
  during the start wave): 54.4 ms, on a slow run (ping 613). The start / ping ratio was 0.307-0.353,
  against 0.28-0.31 with 5. On the same code, 25.5, 159.8, 47.2, 76.1 and 42.5 ms in five more runs.
- 9 workers, every student of the paced exam answering all 20 questions (the lines above answered
  the first 5, the start wave only): 69.5, 60.9, 52.8 and 122.5 ms (missed; the slow seconds came
  after the start wave, at about 175 submits a second, with gunicorn at 1.0-1.3 cores); its first
  five answers alone 79.5, 50.3, 53.6 and 128.7 ms.
- 9 workers, the rate limits' cache round trips batched and the load generator on uvloop (session
  12, the machine slow: ping 524-767 req/s): 67.6, 75.3, 88.3, 75.1 and 78.9 ms (74.3 before uvloop). One run
  missed at 203.3 ms: a process outside the stack took 0.7 of a core for a quarter of a second
  (docs/grading.md, "Where the paced exam's time goes").

The web processes' memory (PSS, after the exam) was 152-155 MiB with 2 workers, 241-248 with 5 and
357-371 with 9. On SQLite the paced exam's p99s were 21-64 ms in five runs with 2 and 5 workers, and
134 (start) and 109.5 ms (submit, missed) in one run with 9, its submit / ping ratio 0.302 against
0.32-0.36. With 5 and all 20 questions answered: 35.9 and 38.7 ms; in session 12, 51.8 and 51.3.

The application is loaded once, in the master, before the workers fork (``preload_app``), with every
module a request needs (the URLconf imports the views, the services and the question engine). Then
the garbage collector is told to leave those objects alone:

- ``gc.freeze()`` before each fork moves every object the master holds (about 400,000: Django, DRF,
  the engine's tables) into a generation the collector never scans. Without it, each full collection
  in a worker walks all of them (250-430 ms each, measured in-process), and writing their GC headers
  copies the pages the workers share with the master. Python's documentation recommends this for
  servers that fork.
- A larger first-generation threshold (``GC_THRESHOLD``) in each worker. A request that starts an
  attempt holds a few thousand live containers (20 question payloads, their rows, the response); with
  Python's default of 700 allocations, collections run in the middle of most such requests and scan
  and promote them. Measured in-process on PostgreSQL over 600 starts each: time in the collector per
  start 0.79 ms with the defaults, 0.49 ms frozen, 0.33-0.44 ms frozen with 2,000-10,000.

Reference cycles are still collected, only less often; nothing here changes what a request does.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from typing import Any

preload_app = True


def default_workers(cores: int, database_url: str) -> int:
    """Per core 4 on PostgreSQL, 2 on SQLite (the settings' default without ``DATABASE_URL``), plus 1.
    At most 12: gunicorn's documentation says 4-12 workers serve hundreds or thousands of requests a
    second, and each takes memory (about 35-45 MiB PSS here)."""
    per_core = 2 if not database_url or database_url.startswith("sqlite") else 4
    return min(per_core * cores + 1, 12)


def worker_count(environ: Mapping[str, str], cores: int) -> int:
    """``WEB_CONCURRENCY`` if ``environ`` sets it, else ``default_workers`` for its ``DATABASE_URL``
    (bench.storm asks this for the database it runs, so it starts what the Procfile would)."""
    return int(environ.get("WEB_CONCURRENCY") or default_workers(cores, environ.get("DATABASE_URL", "")))


workers = worker_count(os.environ, os.cpu_count() or 1)

# Allocations (net of deallocations) before a first-generation collection; the older generations
# keep Python's ratios (10, 10).
GC_THRESHOLD = 10_000

# Each worker's heartbeat file on a memory file system. A sync worker touches it (os.utime) on every
# pass of its accept loop, several times a request under load; gunicorn's documentation warns that on
# a disk-backed file system the call "may block a worker for arbitrary time" (setting
# ``worker_tmp_dir``; its FAQ recommends /dev/shm). Here /tmp shares its disk with PostgreSQL's WAL.
# (gunicorn makes each file with mkstemp and unlinks it at once: no name for another user to take.)
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108


def when_ready(server: Any) -> None:
    """In the master, once the application is loaded: import what the first request would."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module, and through them the engine)
    gc.collect()


def pre_fork(server: Any, worker: Any) -> None:
    """In the master, before each worker forks: what it holds is frozen for the collector."""
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """In the new worker."""
    gc.set_threshold(GC_THRESHOLD, 10, 10)
