"""gunicorn's settings for tcpquiz (``gunicorn tcpquiz.wsgi --config gunicorn.conf.py``; the Procfile
and ``bench.storm`` use it). The bind address stays on the command line.

Workers: gunicorn's documented starting point for sync workers, 2 x cores + 1, at most 12
(``WEB_CONCURRENCY``, the variable gunicorn itself reads, overrides it). A sync worker serves one
request at a time and sits idle while the database and Redis answer, so with one worker per core the
cores idle while requests queue. Measured in ``bench.storm`` on PostgreSQL (2 cores): the paced
exam's p99 submit was 82.8 and 121 ms in two runs with 2 workers (target 100); 41.5, 101.2, 61.2 and
46.0 ms in four runs with 5 (bursts of slow submits during the pool top-up remain); the web
processes' memory (PSS) 152-155 MiB against 242-245. On SQLite the p99s stayed within 21-41 ms
either way.

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
from typing import Any

preload_app = True

# At most 12 on a large machine: gunicorn's documentation says 4-12 workers serve hundreds or thousands
# of requests a second, and each takes memory (about 40-50 MiB PSS here).
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 12))

# Allocations (net of deallocations) before a first-generation collection; the older generations
# keep Python's ratios (10, 10).
GC_THRESHOLD = 10_000


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
