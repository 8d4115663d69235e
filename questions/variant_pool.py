"""Pools of ready-made question variants in Redis, so starting an attempt does not generate them.

Starting a 20-question attempt would otherwise draw 20 variants from the engine inside the request
(about 15 ms of CPU); at the start of an exam a whole class does that within seconds. A pool per
(engine version, family, difficulty) is filled ahead by a Celery task (``variant_pools_fill``, queued
when a quiz is started, or run by ``manage.py variant_pools``) and drawn from in one round trip. The
filler writes each variant's row (``StoredVariant``) and pools its id with its public payload, so a start
writes only small rows that point at the variants, and answers with the payloads it popped.

A pooled variant is an ordinary one: generated from a fresh random seed, used once (LPOP), and keyed by
engine version, so an engine change never serves a stale variant. An empty or unreachable pool falls
back to generating in the request: the pool only ever saves time. It is used when the cache is Redis
(the broker's server); the embedded mode and the tests (local-memory cache) always generate inline.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from django.conf import settings

from questions.engine import ENGINE_VERSION
from questions.generators.base import Difficulty, Variant
from questions.generators.registry import make_variant
from questions.models import StoredVariant, stored_variant_id
from questions.variant_store import (
    PublicTexts,
    StoredJSON,
    json_dumps,
    json_loads,
    variant_public_all,
    variant_to_json,
)

logger = logging.getLogger(__name__)

# Seeds fit a signed 64-bit column on every database.
SEED_BITS = 62
KEY_PREFIX = "tcpquiz:variant-pool"
# A pool nobody fills for this long (its quizzes are over, or the engine changed) is dropped.
POOL_TTL_SECONDS = 7 * 24 * 3600

Pair = tuple[str, str]  # (family, difficulty)

# Set by a draw that left a pool low; the caller then queues a refill (see ``refill_wanted``).
_refill_wanted = False


def pool_key(family: str, difficulty: str) -> str:
    return f"{KEY_PREFIX}:{ENGINE_VERSION}:{family}:{Difficulty(difficulty)}"


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)


def _client() -> redis.Redis | None:
    """The Redis holding the pools: the cache's, when the cache is Redis; else None (no pools)."""
    default = settings.CACHES.get("default", {})
    if not str(default.get("BACKEND", "")).endswith("RedisCache") or settings.VARIANT_POOL_SIZE <= 0:
        return None
    location = default["LOCATION"]
    return _client_for(location if isinstance(location, str) else location[0])


# One round trip and one command for a whole start: per key, the popped entry (nil if the pool is
# empty) and the length left. A Lua false stays in the table as a nil reply (a nil would end it).
_DRAW_LUA = """
local replies = {}
for i, key in ipairs(KEYS) do
  replies[2 * i - 1] = redis.call('LPOP', key) or false
  replies[2 * i] = redis.call('LLEN', key)
end
return replies
"""


@cache
def _draw_script(client: redis.Redis) -> Any:
    """The draw as a registered script (EVALSHA, loaded again by redis-py if the server lost it)."""
    return client.register_script(_DRAW_LUA)


@dataclass(frozen=True)
class DrawnVariant:
    """A variant ready to use: its stored row's id and identity, and its public payload as stored JSON.

    ``stored`` (the whole variant) is set when the row is still to be written (a variant made in the
    request); a pooled variant's row was written by the filler, and the start only points at it.
    """

    id: int
    family: str
    seed: int
    difficulty: str
    engine_version: str
    public: PublicTexts  # variant_public_all(...), decoded a language at a time
    stored: StoredJSON | None = None  # variant_to_json(...), when the row is not written yet

    def row(self) -> StoredVariant:
        """The StoredVariant to write (only for a variant made here: ``stored`` is set)."""
        assert self.stored is not None, "a pooled variant's row is written already"
        return StoredVariant(
            id=self.id,
            family=self.family,
            seed=self.seed,
            difficulty=self.difficulty,
            engine_version=self.engine_version,
            public=self.public.stored(),
            variant=self.stored,
        )


def _drawn(variant: Variant) -> DrawnVariant:
    return DrawnVariant(
        id=stored_variant_id(),
        family=variant.family,
        seed=variant.seed,
        difficulty=str(variant.difficulty),
        engine_version=variant.engine_version,
        public=PublicTexts.of(variant_public_all(variant)),
        stored=StoredJSON.of(variant_to_json(variant)),
    )


def _entry(drawn: DrawnVariant) -> bytes:
    """A pool entry: a small header line (the row's id first, then the languages), then the public
    payload's JSON in each language, a line each (JSON has no newline). The whole variant is in the
    database only: a start never reads it."""
    texts = drawn.public.texts
    header = json_dumps([drawn.id, drawn.family, drawn.seed, drawn.difficulty, drawn.engine_version, *texts])
    return "\n".join((header, *texts.values())).encode()


def _from_entry(entry: bytes) -> DrawnVariant:
    header, *texts = entry.decode().split("\n")
    row_id, family, seed, difficulty, engine_version, *langs = json_loads(header)
    if len(langs) != len(texts) or not langs:
        raise ValueError("a pool entry of another format")
    public = PublicTexts(dict(zip(langs, texts, strict=True)))
    return DrawnVariant(int(row_id), family, int(seed), difficulty, engine_version, public)


def variant_new(family: str, difficulty: str) -> DrawnVariant:
    """A variant drawn by the engine from a fresh random seed (its row not written yet)."""
    return _drawn(make_variant(family, secrets.randbits(SEED_BITS), difficulty))


def variants_draw(pairs: Sequence[Pair]) -> list[DrawnVariant]:
    """One variant per ``(family, difficulty)``, each used once: from the pools when they have one,
    generated here when not (an empty pool, no pools, or Redis unreachable)."""
    global _refill_wanted
    popped: list[Any] = [None] * len(pairs)
    client = _client()
    if client is not None and pairs:
        try:
            replies = _draw_script(client)(keys=[pool_key(f, d) for f, d in pairs])
        except (redis.RedisError, OSError):
            logger.warning("Variant pools unreachable; generating in the request.", exc_info=True)
        else:
            popped = replies[0::2]
            low = settings.VARIANT_POOL_SIZE // 2
            _refill_wanted = _refill_wanted or any(int(left) < low for left in replies[1::2])
    drawn = []
    for (family, difficulty), entry in zip(pairs, popped, strict=True):
        variant = None
        if entry is not None:
            try:
                variant = _from_entry(entry)
            except ValueError:
                logger.exception("A pooled %s variant could not be read; generating one.", family)
        drawn.append(variant or variant_new(family, difficulty))
    return drawn


def variants_still_stored(drawn: Sequence[DrawnVariant]) -> list[DrawnVariant]:
    """``drawn`` with every pooled variant whose row is gone or taken replaced by a new one (its row
    to be written): a row a pool still named was pruned, or the database was reset under the pools.
    One query, none if nothing was pooled."""
    pooled = [d.id for d in drawn if d.stored is None]
    if not pooled:
        return list(drawn)
    usable = set(
        StoredVariant.objects.filter(pk__in=pooled, question__isnull=True).values_list("pk", flat=True)
    )
    return [
        d if d.stored is not None or d.id in usable else variant_new(d.family, d.difficulty) for d in drawn
    ]


def refill_wanted() -> bool:
    """Did a draw in this process find a pool below half VARIANT_POOL_SIZE since the last call?"""
    global _refill_wanted
    wanted, _refill_wanted = _refill_wanted, False
    return wanted


def variant_pools_fill(*, pairs: Iterable[Pair], size: int | None = None, limit: int | None = None) -> int:
    """Top each pool of ``pairs`` up to ``size`` variants (VARIANT_POOL_SIZE), making at most ``limit``
    in all; returns how many were made (``limit`` made: there may be more to do).

    Each chunk's rows are written (one INSERT) before their ids go into the pool, so a pooled id always
    names a written row. Safe to run twice or concurrently: at worst a pool briefly holds a few more
    than ``size``.
    """
    client = _client()
    if client is None:
        return 0
    size = settings.VARIANT_POOL_SIZE if size is None else size
    budget = limit if limit is not None else 1 << 62
    made = 0
    for family, difficulty in sorted(set(pairs)):
        key = pool_key(family, difficulty)
        missing = min(size - int(client.llen(key)), budget - made)
        while missing > 0:
            chunk = [variant_new(family, difficulty) for _ in range(min(missing, 100))]
            StoredVariant.objects.bulk_create([drawn.row() for drawn in chunk])
            client.rpush(key, *[_entry(drawn) for drawn in chunk])
            made += len(chunk)
            missing -= len(chunk)
        client.expire(key, POOL_TTL_SECONDS)
        if made >= budget:
            break
    return made


def variant_pools_ids() -> set[int] | None:
    """The ids of every variant waiting in a pool (any engine version); None if the pools are there but
    cannot be read now (an empty set without pools)."""
    client = _client()
    if client is None:
        return set()
    try:
        keys = list(client.scan_iter(match=f"{KEY_PREFIX}:*", count=500))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.lrange(key, 0, -1)
        entries = [entry for listed in pipe.execute() for entry in listed]
    except (redis.RedisError, OSError):
        logger.warning("Variant pools unreachable; nothing pruned.", exc_info=True)
        return None
    ids = set()
    for entry in entries:
        try:
            ids.add(_from_entry(entry).id)
        except ValueError:
            continue  # an unreadable entry is skipped by a draw too
    return ids


def variant_pools_sizes(pairs: Iterable[Pair]) -> dict[Pair, int]:
    """How many variants each pool holds now (0 without pools)."""
    client = _client()
    unique = sorted(set(pairs))
    if client is None:
        return dict.fromkeys(unique, 0)
    pipe = client.pipeline(transaction=False)
    for family, difficulty in unique:
        pipe.llen(pool_key(family, difficulty))
    return dict(zip(unique, (int(n) for n in pipe.execute()), strict=True))
