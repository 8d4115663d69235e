"""The API's rate limits: DRF's anon, user and scoped throttles, checked together.

``RateLimits`` runs DRF's three throttles unchanged (their rates, keys, sliding windows and
``Retry-After``), but reads the request's histories from the cache in one round trip (``get_many``)
and writes them back in one (``set_many``). Run one by one, as DRF runs them, each throttle makes a
``get`` and a ``set``: four Redis round trips for a signed-in student's answer, where this makes two.

It fails open: a cache (Redis) outage must not turn every request into a 500.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import (
    AnonRateThrottle,
    BaseThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class _KeyProbe:
    """A stand-in for the cache that only notes which keys a throttle reads (every history empty)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self.keys.append(key)
        return default

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        pass


class _Batch:
    """A stand-in for the cache holding the histories read at once; the writes wait for one set_many."""

    def __init__(self, fetched: dict[str, Any]) -> None:
        self.fetched = fetched
        self.writes: dict[str, Any] = {}
        self.timeout = 0.0

    def get(self, key: str, default: Any = None) -> Any:
        return self.fetched.get(key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self.writes[key] = value
        # One expiry for the batch: the longest window. A history kept longer than its own window is
        # harmless (DRF drops the entries older than the window when it reads it).
        self.timeout = max(self.timeout, timeout or 0)


class RateLimits(BaseThrottle):
    """Anonymous visitors by address (``anon``), signed-in users (``user``) and the view's
    ``throttle_scope`` per user (e.g. ``answer_submit``), with DRF's rates from
    ``DEFAULT_THROTTLE_RATES``; the request is refused if any of them is used up."""

    parts: tuple[type[SimpleRateThrottle], ...] = (AnonRateThrottle, UserRateThrottle, ScopedRateThrottle)

    def __init__(self) -> None:
        self.waits: list[float | None] = []

    def allow_request(self, request: Request, view: APIView) -> bool:
        throttles = [part() for part in self.parts]
        # First pass: each throttle works out its key (and, scoped, its rate) and reads an empty history.
        probe = _KeyProbe()
        for throttle in throttles:
            throttle.cache = probe  # type: ignore[assignment]  # the two methods a throttle calls
            throttle.allow_request(request, view)
        if not probe.keys:
            return True
        try:
            fetched = cache.get_many(probe.keys)
        except Exception:
            logger.warning("Rate-limit cache unreachable; allowing the request.", exc_info=True)
            return True
        # Second pass: DRF's own logic on the histories read, each success noted in its history.
        batch = _Batch(fetched)
        self.waits = []
        for throttle in throttles:
            throttle.cache = batch  # type: ignore[assignment]
            if not throttle.allow_request(request, view):
                self.waits.append(throttle.wait())
        if batch.writes:
            try:
                cache.set_many(batch.writes, batch.timeout)
            except Exception:
                logger.warning("Rate-limit cache unreachable; this request was not counted.", exc_info=True)
        return not self.waits

    def wait(self) -> float | None:
        """Seconds until the request would be allowed: the longest of the refusing throttles' waits."""
        known = [wait for wait in self.waits if wait is not None]
        return max(known) if known else None
