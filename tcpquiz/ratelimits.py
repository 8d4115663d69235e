"""Rate limits for the HTML forms (django-ratelimit), failing open when the cache is unreachable."""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


def request_is_limited(request: HttpRequest, *, group: str, key: str, rate: str) -> bool:
    """Count this request against ``group``; True when it is over ``rate`` (e.g. "10/m")."""
    try:
        return bool(is_ratelimited(request, group=group, key=key, rate=rate, method="POST", increment=True))
    except Exception:
        logger.warning("Rate-limit cache unreachable; allowing the request.", exc_info=True)
        return False
