"""Settings: production passes `check --deploy`, the embedded mode says so, migrations are complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!q2-production-test-key-" + "k" * 40,
    "ALLOWED_HOSTS": "tcpquiz.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://tcpquiz.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh process with ``env`` on top of a clean environment."""
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "TCPQUIZ_EAGER_TASKS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings_production_passes_check_deploy() -> None:
    """With production env (DEBUG=0), `check --deploy` reports no warning at all."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_production_requires_secret_key() -> None:
    """DEBUG=0 without SECRET_KEY refuses to start, saying why."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_eager_mode_warns_at_startup() -> None:
    """TCPQUIZ_EAGER_TASKS=1 logs a WARNING that grading runs in-process."""
    result = manage("check", TCPQUIZ_EAGER_TASKS="1")
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr
    assert "grading runs in-process" in result.stderr


def test_settings_sqlite_uses_wal_and_busy_timeout() -> None:
    """The default SQLite database runs in WAL mode with a busy timeout and immediate transactions,
    through Django's backend with prompt queueing for the write lock (tcpquiz.dbsqlite)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "tcpquiz.dbsqlite":
        pytest.skip("the suite runs on another database")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["timeout"] == 20
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["TEST"]["NAME"].endswith(".sqlite3")


def test_settings_sqlite_connection_maps_the_file_and_caches_32_mb(tmp_path: Path) -> None:
    """Each SQLite connection reads the file through mmap (256 MB) with a 32 MB page cache: the default
    2 MB cache, re-read through read() calls, made a 20-question start 30% slower once the variant
    table held an exam's worth of rows (bench.storm: 157 vs 225 starts/s)."""
    probe = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    for pragma in ('journal_mode', 'mmap_size', 'cache_size'):\n"
        "        print(pragma, cursor.execute('PRAGMA ' + pragma).fetchone()[0])\n"
    )
    result = manage("shell", "-c", probe, DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}")
    assert result.returncode == 0, result.stderr
    pragmas = dict(line.split() for line in result.stdout.strip().splitlines()[-3:])
    assert pragmas == {"journal_mode": "wal", "mmap_size": "268435456", "cache_size": "-32000"}


@pytest.mark.django_db
def test_settings_migrations_complete() -> None:
    """The models and the committed migrations agree (`makemigrations --check`)."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_settings_eager_mode_uses_no_broker() -> None:
    """In the embedded mode Celery's broker is in-memory: a missing Redis is never contacted."""
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CELERY_BROKER_URL)",
        TCPQUIZ_EAGER_TASKS="1",
    )
    assert result.stdout.strip().splitlines()[-1].startswith("memory://")


# The local PostgreSQL, as `make test-postgres` uses it (read-only queries here).
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"


def _prepared_statements(**env: str) -> int:
    """How many statements with server-side parameters a fresh PostgreSQL connection has prepared after
    running the same query three times."""
    probe = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    for _ in range(3):\n"
        "        cursor.execute('SELECT count(*) FROM pg_class WHERE relname = %s', ['tcpquiz-probe'])\n"
        '    cursor.execute("SELECT count(*) FROM pg_prepared_statements '
        "WHERE statement LIKE '%%pg_class%%' AND statement LIKE '%%$1%%'\")\n"
        "    print('prepared', cursor.fetchone()[0])\n"
    )
    result = manage("shell", "-c", probe, DATABASE_URL=POSTGRES_URL, **env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1].split()[1])


def test_settings_postgres_prepares_repeated_statements() -> None:
    """On PostgreSQL, parameters are bound server-side and a statement run a second time on a
    connection is prepared (no planning on later runs); DATABASE_PREPARE_THRESHOLD=off turns it off."""
    assert _prepared_statements() == 1
    assert _prepared_statements(DATABASE_PREPARE_THRESHOLD="off") == 0
