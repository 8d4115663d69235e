"""Filters for the student pages: clocks, prompts and skill links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _

register = template.Library()

_LISTED_LINE = re.compile(r"^\s*\d+\.\s")


@register.filter
def clock(seconds: Any) -> str:
    """Seconds as a clock: "4:05", or "1:04:05" past an hour."""
    try:
        total = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def prompt_lead(public: dict[str, Any]) -> str:
    """The prompt without the numbered lines a widget shows itself (trace steps, segment lists)."""
    prompt = str(public.get("prompt", ""))
    widget = public.get("widget") or {}
    if public.get("kind") == "trace_step" or widget.get("segments"):
        kept = [line for line in prompt.splitlines() if not _LISTED_LINE.match(line)]
        return "\n".join(kept).strip()
    return prompt


@register.simple_tag
def practice_url(*skills: str) -> str:
    """The practice page on ``skills``."""
    wanted = [s for s in skills if s]
    return reverse("questions:practice") + ("?skills=" + quote(",".join(wanted), safe=":,") if wanted else "")


@register.filter
def skill_ids(rows: Any) -> str:
    """The comma-joined ids of skill rows (anything with ``.skill``), for one practice link."""
    return ",".join(str(row.skill) for row in rows)


@register.filter
def minutes(duration: Any) -> int:
    """A timedelta in whole minutes (rounded up)."""
    try:
        return -(-int(duration.total_seconds()) // 60)
    except AttributeError:
        return 0


@register.filter
def due_text(due: Any) -> str:
    """When a skill is due for review: "now", or "in 3 days"."""
    if due is None:
        return ""
    if due <= timezone.now():
        return str(_("now"))
    return str(_("in %(time)s") % {"time": timeuntil(due)})
