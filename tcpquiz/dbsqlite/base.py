"""Django's SQLite backend, except how a write transaction waits for the database's one write lock.

``BEGIN IMMEDIATE`` takes the write lock up front. When another process holds it, SQLite's own busy
handler sleeps in growing steps (1, 2, 5, 10, 15, 20, 25 ms, ..., then 100 ms at a time) and looks
again only at the end of each: a request that lost a race for a 5 ms write waited 33, 53 or 103 ms,
the sums of those steps (bench.storm's SQLite run logged exactly these waits on ``BEGIN IMMEDIATE``,
and they were its slowest submits). Here ``BEGIN IMMEDIATE`` is tried with no busy wait, and again
every half millisecond until the lock is free or the connection's ``timeout`` has passed; then it
fails as before, with "database is locked". Other statements keep SQLite's busy handler.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Between two tries of BEGIN IMMEDIATE while another connection writes.
RETRY_SECONDS = 0.0005


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        parent: Any = super()  # a private method, not in django-stubs
        if getattr(self, "transaction_mode", None) != "IMMEDIATE":
            parent._start_transaction_under_autocommit()
            return
        raw: Any = self.connection
        wait_ms = int(1000 * float(self.settings_dict["OPTIONS"].get("timeout", 5)))  # sqlite3's default
        deadline = time.monotonic() + wait_ms / 1000
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    parent._start_transaction_under_autocommit()
                    return
                except OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() >= deadline:
                        raise
                time.sleep(RETRY_SECONDS)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {wait_ms:d}")
