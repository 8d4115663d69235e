"""tcpquiz.dbsqlite: a write transaction waiting for SQLite's write lock tries again every half
millisecond (SQLite's own busy handler sleeps up to 100 ms between looks), and gives up as before."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, transaction

from questions.models import Course
from tcpquiz.dbsqlite import base

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def writer() -> Iterator[sqlite3.Connection]:
    """Another connection to the same database file, holding its write lock."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    connection.ensure_connection()
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def _busy_timeout() -> int:
    with connection.cursor() as cursor:
        return int(cursor.execute("PRAGMA busy_timeout").fetchone()[0])


def test_a_write_transaction_starts_once_the_lock_is_released(
    writer: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another connection writes, BEGIN IMMEDIATE is tried again after each short pause; the
    moment the lock is free the transaction starts, and the busy timeout is as configured again."""
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            writer.execute("COMMIT")  # the other writer is done

    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=time.monotonic, sleep=pause))
    with transaction.atomic():
        Course.objects.create(title="Written after the wait", join_code="WAIT-1")
    assert pauses == [base.RETRY_SECONDS] * 3
    assert Course.objects.filter(join_code="WAIT-1").exists()
    assert _busy_timeout() == 20_000  # the settings' 20 s, for every other statement


def test_a_write_transaction_gives_up_after_the_timeout(
    writer: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock never freed: after the connection's timeout (20 s, on a stand-in clock here) the start
    fails with SQLite's "database is locked", and nothing is written."""
    clock = [0.0]

    def pause(seconds: float) -> None:
        clock[0] += 1.0  # a second per try: the 20 s pass in 20 tries

    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=pause))
    with pytest.raises(OperationalError, match="locked"), transaction.atomic():
        Course.objects.create(title="Never written", join_code="WAIT-2")
    assert clock[0] == 20.0
    writer.execute("ROLLBACK")
    assert not Course.objects.filter(join_code="WAIT-2").exists()
    assert _busy_timeout() == 20_000
