"""gunicorn.conf.py, the web server's settings (Procfile, bench.storm): the application is preloaded
in the master with every view module, what the master holds is frozen for the garbage collector
before each fork, and each worker collects its youngest generation less often."""

from __future__ import annotations

import gc
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def conf() -> Iterator[dict[str, Any]]:
    threshold = gc.get_threshold()
    try:
        yield runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_gunicorn_conf_preloads_and_tunes_the_collector(conf: dict[str, Any]) -> None:
    assert conf["preload_app"] is True
    conf["when_ready"](None)
    assert "questions.api" in sys.modules  # the URLconf was imported, and the views with it
    gc.unfreeze()
    conf["pre_fork"](None, None)
    assert gc.get_freeze_count() > 10_000
    conf["post_fork"](None, None)
    assert gc.get_threshold() == (conf["GC_THRESHOLD"], 10, 10)
    assert conf["GC_THRESHOLD"] > 700  # Python's default


def test_gunicorn_conf_heartbeat_in_memory(conf: dict[str, Any]) -> None:
    """The workers' heartbeat files are on /dev/shm (tmpfs) where the machine has it."""
    assert conf["worker_tmp_dir"] == ("/dev/shm" if Path("/dev/shm").is_dir() else None)


def test_workers_are_four_per_core_on_postgresql_two_on_sqlite_unless_web_concurrency_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4 x cores + 1 sync workers on PostgreSQL, 2 x cores + 1 on SQLite (one writer), at most 12;
    ``WEB_CONCURRENCY`` (gunicorn's own variable) overrides it; the Procfile pins no count of its own."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)

    def workers(cores: int, database_url: str | None) -> int:
        monkeypatch.setattr("os.cpu_count", lambda: cores)
        if database_url is None:
            monkeypatch.delenv("DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("DATABASE_URL", database_url)
        return int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"])

    postgres = "postgres://postgres@127.0.0.1:5432/test"
    assert workers(2, postgres) == 9
    assert workers(1, "postgresql://db/tcpquiz") == 5
    assert workers(2, "sqlite:////srv/tcpquiz/db.sqlite3") == 5
    assert workers(2, None) == 5  # the embedded default is SQLite
    assert workers(32, postgres) == 12
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]) == 3
    # What bench.storm asks for a database other than the environment's: the same rule.
    worker_count = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_count"]
    assert worker_count({"DATABASE_URL": "postgres://"}, 2) == 9
    assert worker_count({"DATABASE_URL": "sqlite://"}, 2) == 5
    assert worker_count({}, 2) == 5
    assert worker_count({"DATABASE_URL": "postgres://", "WEB_CONCURRENCY": "3"}, 2) == 3
    assert "--workers" not in (ROOT / "Procfile").read_text()


def test_gunicorn_reads_the_conf_as_the_procfile_runs_it() -> None:
    """gunicorn itself accepts the file and its hooks (``--check-config`` loads the app, preloaded)."""
    procfile = (ROOT / "Procfile").read_text()
    assert "--config gunicorn.conf.py" in procfile
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "tcpquiz.wsgi",
            "--config",
            "gunicorn.conf.py",
            "--check-config",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
