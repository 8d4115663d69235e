"""Variant pools in a real Redis (a private redis-server per test; marker ``broker``)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from questions import selectors, services, tasks, variant_pool
from questions.generators.registry import make_variant
from questions.models import Attempt, AttemptQuestion, Course, Quiz, StoredVariant
from questions.variant_store import variant_public_all, variant_to_json
from tcpquiz.celery import app
from tests.questions.test_faults import PrivateRedis

celery_app: Any = app

pytestmark = [pytest.mark.broker, pytest.mark.django_db]

PAIR = ("which_event", "medium")  # a family whose questions show the shared state diagram


@pytest.fixture
def pools(settings: Any) -> Iterator[PrivateRedis]:
    """The cache (and so the pools) in a private Redis, pools of 4 variants."""
    if shutil.which("redis-server") is None:
        if os.environ.get("TCPQUIZ_REQUIRE_BROKER") == "1":
            pytest.fail("redis-server is not installed (TCPQUIZ_REQUIRE_BROKER=1)")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
    }
    settings.VARIANT_POOL_SIZE = 4
    variant_pool.refill_wanted()  # start from a clean flag
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def test_variant_pools_fill_tops_up_to_size(pools: PrivateRedis) -> None:
    """Filling makes what is missing, and nothing when the pool is full (safe to run twice)."""
    assert variant_pool.variant_pools_fill(pairs=[PAIR], size=3) == 3
    assert variant_pool.variant_pools_fill(pairs=[PAIR], size=3) == 0
    assert variant_pool.variant_pools_sizes([PAIR]) == {PAIR: 3}


def test_variants_draw_takes_each_pooled_variant_once(pools: PrivateRedis) -> None:
    """Each draw takes a different pooled variant; once the pool is empty it generates one."""
    variant_pool.variant_pools_fill(pairs=[PAIR], size=2)
    seeds = [variant_pool.variants_draw([PAIR])[0].seed for _ in range(3)]
    assert len(set(seeds)) == 3
    assert variant_pool.variant_pools_sizes([PAIR]) == {PAIR: 0}


def test_variants_draw_one_script_for_full_empty_and_repeated_pools(pools: PrivateRedis) -> None:
    """The draw is one server-side script over every slot's pool: an empty pool's slot is generated,
    a pool named twice gives two different variants, and a server that lost its scripts (SCRIPT FLUSH,
    a restart) is sent the script again."""
    other = ("seq_ack", "hard")
    variant_pool.variant_pools_fill(pairs=[PAIR], size=2)
    client = variant_pool._client()
    assert client is not None
    client.script_flush()
    drawn = variant_pool.variants_draw([PAIR, other, PAIR])
    assert [d.stored is None for d in drawn] == [True, False, True]  # pooled, generated, pooled
    assert drawn[0].id != drawn[2].id
    assert [(d.family, d.difficulty) for d in drawn] == [PAIR, other, PAIR]
    assert variant_pool.variant_pools_sizes([PAIR, other]) == {PAIR: 0, other: 0}


def test_pooled_variant_is_the_engines_variant_for_its_seed(pools: PrivateRedis) -> None:
    """A pooled variant stores exactly what the engine makes for its seed: whole variant and the
    public payload in both languages (each with its own language's diagram)."""
    variant_pool.variant_pools_fill(pairs=[PAIR, ("seq_ack", "hard")], size=1)
    for drawn in variant_pool.variants_draw([PAIR, ("seq_ack", "hard")]):
        variant = make_variant(drawn.family, drawn.seed, drawn.difficulty)
        assert drawn.stored is None  # its row is written already
        row = StoredVariant.objects.get(pk=drawn.id)
        assert (row.family, row.seed, row.difficulty) == (drawn.family, drawn.seed, drawn.difficulty)
        assert row.variant == variant_to_json(variant)
        assert row.public == dict(drawn.public) == variant_public_all(variant)


def test_variants_draw_low_pool_wants_a_refill(pools: PrivateRedis) -> None:
    """A draw leaving a pool under half its size asks for a refill (once)."""
    variant_pool.variant_pools_fill(pairs=[PAIR], size=4)
    variant_pool.variants_draw([PAIR])
    assert variant_pool.refill_wanted() is False
    variant_pool.variants_draw([PAIR, PAIR])
    assert variant_pool.refill_wanted() is True
    assert variant_pool.refill_wanted() is False


def test_variants_draw_redis_down_generates(pools: PrivateRedis) -> None:
    """With Redis unreachable a draw still gives a variant, generated in the request."""
    pools.stop()
    (drawn,) = variant_pool.variants_draw([PAIR])
    assert drawn.stored is not None
    assert drawn.stored.value() == variant_to_json(make_variant(drawn.family, drawn.seed, drawn.difficulty))


def test_attempt_start_draws_from_prepared_pools(pools: PrivateRedis, student: User, quiz: Quiz) -> None:
    """Prepared pools serve an attempt's questions: one pooled variant per slot, taken out."""
    assert services.quiz_variants_prepare(quiz_id=quiz.pk) == 12  # 3 slots, 3 levels, 4 each
    pairs = [(slot.family, slot.difficulty) for slot in quiz.slots.all()]
    attempt, _created = services.attempt_start(user=student, quiz=quiz)
    assert set(variant_pool.variant_pools_sizes(pairs).values()) == {3}
    for question in attempt.questions.all():
        variant = make_variant(question.family, question.seed, question.difficulty)
        assert question.variant == variant_to_json(variant)


def test_attempt_start_writes_small_rows_pointing_at_pooled_variants(
    pools: PrivateRedis, student: User, quiz: Quiz
) -> None:
    """Pooled rows are written by the filler: a start writes none, it points its questions at them."""
    services.quiz_variants_prepare(quiz_id=quiz.pk)
    before = set(StoredVariant.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        attempt, _created = services.attempt_start(user=student, quiz=quiz)
    # Two INSERTs (on PostgreSQL in one statement: see compiled.insert_with_children).
    tables = [t for q in captured.captured_queries for t in re.findall(r'INSERT INTO "(\w+)"', q["sql"])]
    assert tables == ["questions_attempt", "questions_attemptquestion"]
    assert set(StoredVariant.objects.values_list("pk", flat=True)) == before
    used = {q.stored_id for q in attempt.questions.all()}
    assert len(used) == 3
    assert used <= before


def test_attempt_start_replaces_a_pooled_variant_whose_row_is_gone(
    pools: PrivateRedis, student: User, quiz: Quiz
) -> None:
    """A pool naming rows that are gone (pruned, or a database reset under the pools): the start
    fails once on the missing rows, then makes those variants itself; nothing is lost or wrong."""
    services.quiz_variants_prepare(quiz_id=quiz.pk)
    StoredVariant.objects.all().delete()
    attempt, created = services.attempt_start(user=student, quiz=quiz)
    assert created
    for question in AttemptQuestion.objects.filter(attempt=attempt).select_related("stored"):
        variant = make_variant(question.family, question.seed, question.difficulty)
        assert question.variant == variant_to_json(variant)
        assert question.stored.family == question.family


@pytest.mark.django_db(transaction=True)
def test_attempt_start_outside_a_transaction_replaces_a_pooled_variant_whose_row_is_gone(
    pools: PrivateRedis, student: User, quiz: Quiz
) -> None:
    """As a request runs it (no transaction around it), a missing pooled row fails the commit on its
    foreign key; the start runs again with a variant made in the request."""
    services.quiz_variants_prepare(quiz_id=quiz.pk)
    doomed = next(iter(variant_pool.variant_pools_ids() or set()))
    StoredVariant.objects.filter(pk__in=variant_pool.variant_pools_ids() or set()).delete()
    assert not connection.in_atomic_block
    attempt, created = services.attempt_start(user=student, quiz=quiz)
    assert created
    questions = list(AttemptQuestion.objects.filter(attempt=attempt).select_related("stored"))
    assert len(questions) == 3
    assert doomed not in {q.stored_id for q in questions}
    # The failed first write left nothing behind (on PostgreSQL it was one statement, no transaction).
    assert list(Attempt.objects.filter(user=student, quiz=quiz)) == [attempt]
    assert AttemptQuestion.objects.count() == 3
    for question in questions:
        variant = make_variant(question.family, question.seed, question.difficulty)
        assert question.variant == variant_to_json(variant)


def test_stored_variants_prune_keeps_used_pooled_and_recent_rows(
    pools: PrivateRedis, student: User, quiz: Quiz
) -> None:
    """Only old rows that no question uses and no pool holds are deleted."""
    services.quiz_variants_prepare(quiz_id=quiz.pk)  # 12 pooled
    attempt, _created = services.attempt_start(user=student, quiz=quiz)  # 3 of them used
    pooled = variant_pool.variant_pools_ids()
    assert pooled is not None
    assert len(pooled) == 9
    redis_client = variant_pool._client()
    assert redis_client is not None
    redis_client.delete(variant_pool.pool_key("next_state", "easy"))  # dropped: its rows are orphans
    orphans = set(StoredVariant.objects.filter(question__isnull=True).values_list("pk", flat=True)) - (
        variant_pool.variant_pools_ids() or set()
    )
    assert orphans
    later = timezone.now() + services.STORED_VARIANT_KEEP + timedelta(minutes=1)
    assert services.stored_variants_prune(now=timezone.now()) == 0  # nothing old enough yet
    assert services.stored_variants_prune(now=later) == len(orphans)
    assert not StoredVariant.objects.filter(pk__in=orphans).exists()
    assert StoredVariant.objects.filter(question__attempt=attempt).count() == 3
    assert set(StoredVariant.objects.filter(question__isnull=True).values_list("pk", flat=True)) == (
        variant_pool.variant_pools_ids()
    )
    assert services.stored_variants_prune(now=later) == 0  # safe to run twice


def test_stored_variants_prune_does_nothing_while_the_pools_cannot_be_read(
    pools: PrivateRedis, student: User, quiz: Quiz
) -> None:
    """Redis down: which rows are pooled is unknown, so none is deleted."""
    services.quiz_variants_prepare(quiz_id=quiz.pk)
    pools.stop()
    later = timezone.now() + services.STORED_VARIANT_KEEP + timedelta(minutes=1)
    assert services.stored_variants_prune(now=later) == 0
    assert StoredVariant.objects.count() == 12


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks run in this thread (the pools are real, the broker is not needed)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_variant_pools_fill_task_hands_over_in_chunks(
    pools: PrivateRedis, eager_tasks: None, quiz: Quiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fill makes at most POOLS_FILL_CHUNK variants, then queues the rest as a fresh task."""
    monkeypatch.setattr(tasks, "POOLS_FILL_CHUNK", 5)
    assert tasks.variant_pools_fill.apply(args=(quiz.pk, 6)).get() == 5
    pairs = [(slot.family, slot.difficulty) for slot in quiz.slots.all()]
    # 6 students on top of the standing pool (VARIANT_POOL_SIZE, 4).
    assert set(variant_pool.variant_pools_sizes(pairs).values()) == {10}


def test_variant_pools_refill_paces_its_chunks_and_keeps_one_chain(
    pools: PrivateRedis, quiz: Quiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A top-up asked for by starts (no size) queues its next chunk after a pause, a prepare (a size)
    at once; while a chain goes on its fill-queued key is set (starts queue no second chain), and the
    chunk that finishes the pools clears it."""
    monkeypatch.setattr(tasks, "POOLS_FILL_CHUNK", 5)
    sent: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def publish(args: tuple[Any, ...], kwargs: dict[str, Any], **options: Any) -> bool:
        sent.append((args, options))
        return True

    monkeypatch.setattr(tasks.variant_pools_fill, "publish_or_log", publish)
    key = tasks.POOLS_FILL_QUEUED_KEY.format(quiz_id=quiz.pk)
    assert tasks.variant_pools_fill.run(quiz.pk) == 5
    assert sent == [((quiz.pk, None), {"countdown": tasks.POOLS_REFILL_PAUSE_SECONDS})]
    assert cache.get(key) == 1
    assert tasks.variant_pools_fill.run(quiz.pk, 7) == 5
    assert sent[-1] == ((quiz.pk, 7), {"countdown": 0.0})
    monkeypatch.setattr(tasks, "POOLS_FILL_CHUNK", 10_000)
    tasks.variant_pools_fill.run(quiz.pk)  # fills the rest: the chain ends
    assert len(sent) == 2
    assert cache.get(key) is None


def test_variant_pools_prepare_fills_quizzes_about_to_open(
    pools: PrivateRedis, eager_tasks: None, course: Course, student: User, other_student: User
) -> None:
    """Quizzes opening within VARIANT_POOL_PREPARE_MINUTES get their pools filled; others do not."""
    now = timezone.now()
    soon = services.quiz_create(
        course=course, title="soon", slots=[("rst", "easy")], opens_at=now + timedelta(minutes=5)
    )
    services.quiz_create(
        course=course, title="later", slots=[("timers", "easy")], opens_at=now + timedelta(hours=5)
    )
    assert tasks.variant_pools_prepare.apply().get() == 1
    # One per student (2) on top of the standing pool (VARIANT_POOL_SIZE, 4): the class's own starts
    # leave it at its standing size, so none of them sets off a top-up.
    assert variant_pool.variant_pools_sizes([("rst", "easy"), ("timers", "easy")]) == {
        ("rst", "easy"): 6,
        ("timers", "easy"): 0,
    }
    assert soon.pk in dict(selectors.quizzes_opening_soon(within=timedelta(minutes=15)))
