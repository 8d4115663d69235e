"""Infrastructure endpoints: /healthz."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _timed(check: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        detail = check()
    except Exception as error:
        return {"ok": False, "error": type(error).__name__, "ms": round(1000 * (time.monotonic() - started))}
    return {"ok": True, "ms": round(1000 * (time.monotonic() - started)), **(detail or {})}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> dict[str, Any] | None:
    from tcpquiz.celery import app

    if app.conf.task_always_eager:
        return {"mode": "eager", "detail": "tasks run in-process; no broker is used"}
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=1, timeout=1)
    return {"mode": "broker"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers (the broker's state is reported, not required); 503 otherwise."""
    database = _timed(_database)
    broker = _timed(_broker)
    ok = bool(database["ok"])
    body = {
        "status": ("ok" if broker["ok"] else "degraded") if ok else "error",
        "database": database,
        "broker": broker,
    }
    return JsonResponse(body, status=200 if ok else 503)
