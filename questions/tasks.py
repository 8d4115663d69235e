"""Celery tasks: thin and idempotent. Each takes ids, calls one service, and may run twice.

Grading has two paths:

- fast: ``grade_answers_batch`` grades many answers per transaction. The submit path does not send a
  message per answer: ``grading_enqueue()`` publishes one draining batch task unless one is already
  queued (a Redis key says so), and that task grades every pending, never-tried answer, 50 at a time,
  until none is left. The sweep sends it the ids of answers left behind.
- careful: ``grade_answer`` grades one answer, counting the run before grading, so an answer whose
  grading kills workers ends up failed. A batch whose worker died (the broker redelivers it) or that
  hit its soft time limit hands its answers to this path one by one.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction

from questions import selectors, services, variant_pool
from questions.errors import AnswerNotFound
from tcpquiz.celery import Task

logger = logging.getLogger(__name__)

# Infrastructure hiccups worth another try; a domain error or a grader bug never is.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class IdempotentTask(Task):
    """What every task here shares: acked after it ran (redelivered if its worker dies), transient
    infrastructure errors retried with backoff, and time limits. Safe because each task's service locks
    its rows and returns early when the work is done (each has a run-twice test)."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 1
    max_retries = 3
    soft_time_limit = 20
    time_limit = 30


# Set while a draining grade_answers_batch is queued ("queued", by the submit that sent it) or running
# ("running:<task id>", kept fresh by the drain): a submit that finds it set sends no drain, because one
# will look after its answer committed. A running drain clears it before its last look.
DRAIN_QUEUED_KEY = "grading:drain-queued"
# If the drain holding the key is lost (killed, Redis restarted empty), new drains are held back this
# long at most; a running drain refreshes it at least every DRAIN_REFRESH_SECONDS.
DRAIN_QUEUED_SECONDS = 2
DRAIN_REFRESH_SECONDS = 0.5
# How often a lingering drain looks for answers again.
DRAIN_POLL_SECONDS = 0.05


@shared_task(bind=True, base=IdempotentTask, retry_backoff_max=60, retry_jitter=True, max_retries=6)
def grade_answer(self: Task, answer_id: int) -> None:
    """Grade one pending answer, its run counted first (nothing happens if it is already graded)."""
    try:
        answer = services.answer_grade(answer_id=answer_id)
    except AnswerNotFound:
        logger.warning("grade_answer: answer %s no longer exists; nothing to do.", answer_id)
        return
    logger.info("grade_answer: answer %s is %s (score %s).", answer_id, answer.status, answer.score)


def _redelivered(task: Task) -> bool:
    """Did the broker hand this message back after its worker died (or lost the broker) mid-task?"""
    return bool((task.request.delivery_info or {}).get("redelivered"))


def _one_by_one(answer_ids: list[int]) -> int:
    """Send each answer to the careful path; returns how many were sent."""
    return sum(1 for answer_id in answer_ids if grade_answer.publish_or_log((answer_id,), {}))


def _suspects() -> list[int]:
    """The pending answers a died or timed-out drain was most likely grading (the oldest ones)."""
    return services.answers_pending_sweep(older_than=timedelta(0), limit=settings.GRADING_BATCH_SIZE)


def _drain_claim(task_id: str) -> bool:
    """Take the drain key for this drain; False if another drain is running (this one is surplus: a
    submit sent it while that one ran, or its key expired). Unreadable key: act as the only drain."""
    try:
        holder = cache.get(DRAIN_QUEUED_KEY)
        if isinstance(holder, str) and holder.startswith("running:") and holder != f"running:{task_id}":
            return False
    except Exception:
        logger.warning("grade_answers_batch: could not read the drain key.", exc_info=True)
    _drain_refresh(task_id)
    return True


def _drain_refresh(task_id: str) -> None:
    try:
        cache.set(DRAIN_QUEUED_KEY, f"running:{task_id}", DRAIN_QUEUED_SECONDS)
    except Exception:
        logger.warning("grade_answers_batch: could not refresh the drain key.", exc_info=True)


def _drain_release() -> None:
    try:
        cache.delete(DRAIN_QUEUED_KEY)
    except Exception:
        # The key expires on its own; until then a submit may not queue a drain.
        logger.warning("grade_answers_batch: could not clear the drain key.", exc_info=True)


def _drain_retake(task_id: str) -> bool:
    """After its last look found answers: keep draining if no submit queued another drain meanwhile."""
    try:
        return bool(cache.add(DRAIN_QUEUED_KEY, f"running:{task_id}", DRAIN_QUEUED_SECONDS))
    except Exception:
        return False


@shared_task(bind=True, base=IdempotentTask, retry_backoff_max=30, retry_jitter=True, max_retries=6)
def grade_answers_batch(self: Task, answer_ids: list[int] | None = None) -> int:
    """Grade pending answers in batches; returns how many it graded.

    With ``answer_ids`` (the sweep): those answers. Without (the submit path): drain every pending
    answer never tried, batch after batch, for up to GRADING_DRAIN_SECONDS, then hand over to a fresh
    drain if work is left.
    """
    if _redelivered(self):
        # Its worker died mid-batch, maybe killed by one of these answers: grade them one by one.
        sent = _one_by_one(answer_ids if answer_ids is not None else _suspects())
        logger.warning("grade_answers_batch: redelivered; %s answers sent to be graded one by one.", sent)
        if answer_ids is None:
            _drain_release()  # the key this drain held before its worker died: stale now
            grading_enqueue()
        return 0
    graded = 0
    try:
        if answer_ids is not None:
            size = settings.GRADING_BATCH_SIZE
            for start in range(0, len(answer_ids), size):
                graded += len(services.answers_grade_batch(answer_ids=answer_ids[start : start + size]))
            return graded
        graded = _drain(str(self.request.id), linger=not self.request.is_eager)
    except SoftTimeLimitExceeded:
        # A batch is hanging (its transaction rolled back): one by one, a hanging answer fails alone.
        sent = _one_by_one(answer_ids if answer_ids is not None else _suspects())
        logger.error("grade_answers_batch: soft time limit; %s answers sent to be graded one by one.", sent)
    if graded:
        logger.info("grade_answers_batch: graded %s answers.", graded)
    return graded


def _drain(task_id: str, linger: bool) -> int:
    """Grade batch after batch while answers keep coming (GRADING_DRAIN_SECONDS at most), then hand
    over to a fresh drain if work is left. When none is pending, ``linger`` looks again every
    DRAIN_POLL_SECONDS for GRADING_DRAIN_IDLE_SECONDS, so a steady trickle of submits is served by this
    drain instead of one message each; and after a batch that was not full it waits until
    GRADING_GATHER_SECONDS have passed since the look, so answers arriving one by one are graded
    several at a time (a full batch means a backlog: the next look comes at once).

    The drain key says a drain will look again: it is held (and refreshed) while this drain runs, and
    released before the last look, so an answer committed after that look finds it clear and sends a
    drain. A drain that starts while another runs grades what is pending and stops without lingering:
    under a steady trickle, surplus drains would otherwise queue up, each idling its linger time in a
    worker process (measured: 291 queued during bench.storm's paced exam, pool top-ups behind them).
    """
    if not _drain_claim(task_id):
        return _drain_once()
    graded = 0
    now = time.monotonic()
    deadline = now + settings.GRADING_DRAIN_SECONDS
    idle_until = now + (settings.GRADING_DRAIN_IDLE_SECONDS if linger else 0)
    refreshed = now
    while True:
        looked = time.monotonic()
        if batch := services.answers_grade_batch():
            graded += len(batch)
            idle_until = time.monotonic() + (settings.GRADING_DRAIN_IDLE_SECONDS if linger else 0)
            if linger and len(batch) < settings.GRADING_BATCH_SIZE:
                # Answers are coming in, not piled up: let more arrive before the next look, so they
                # are graded together (see GRADING_GATHER_SECONDS).
                time.sleep(max(0.0, looked + settings.GRADING_GATHER_SECONDS - time.monotonic()))
        elif time.monotonic() >= idle_until:
            _drain_release()
            last = services.answers_grade_batch()
            graded += len(last)
            if not last or not _drain_retake(task_id):
                return graded
            idle_until = time.monotonic() + (settings.GRADING_DRAIN_IDLE_SECONDS if linger else 0)
        else:
            time.sleep(DRAIN_POLL_SECONDS)
        now = time.monotonic()
        if now >= deadline:
            _drain_release()
            grading_enqueue()
            return graded
        if now - refreshed >= DRAIN_REFRESH_SECONDS:
            _drain_refresh(task_id)
            refreshed = now


def _drain_once() -> int:
    """Grade what is pending now, batch after batch, and stop (another drain is running)."""
    graded = 0
    while batch := services.answers_grade_batch():
        graded += len(batch)
    return graded


def grading_enqueue() -> bool:
    """Make sure a draining grade_answers_batch is queued; False if the broker could not be reached.

    One queued drain serves every answer committed before it starts, so a storm of submits sends a
    handful of messages, not one per answer. An answer whose drain never comes (broker down) is
    enqueued again by the pending sweep.
    """
    try:
        if not cache.add(DRAIN_QUEUED_KEY, 1, DRAIN_QUEUED_SECONDS):
            return True  # a drain is queued and has not started: it will see this answer
    except Exception:
        logger.warning("grading_enqueue: cache unreachable; sending a drain anyway.", exc_info=True)
    if grade_answers_batch.publish_or_log((), {}):
        return True
    _drain_release()  # nothing is queued after all: let the next submit try again
    return False


def grading_enqueue_on_commit() -> None:
    """``grading_enqueue`` once the current transaction commits (the answer is then visible)."""
    transaction.on_commit(grading_enqueue)


@shared_task(bind=True, base=IdempotentTask)
def answers_pending_sweep(self: Task) -> int:
    """Enqueue grading again for answers left pending (e.g. submitted while the broker was down)."""
    ids = services.answers_pending_sweep(older_than=timedelta(seconds=settings.GRADING_SWEEP_AFTER_SECONDS))
    size = settings.GRADING_BATCH_SIZE
    sent = sum(
        len(chunk)
        for chunk in (ids[start : start + size] for start in range(0, len(ids), size))
        if grade_answers_batch.publish_or_log((chunk,), {})
    )
    if ids:
        logger.info("answers_pending_sweep: re-enqueued %s of %s pending answers.", sent, len(ids))
    return sent


@shared_task(bind=True, base=IdempotentTask)
def attempts_expire_overdue(self: Task) -> int:
    """Close in-progress attempts whose deadline has passed; their saved drafts become answers to grade."""
    closed, answer_ids = services.attempts_close_overdue()
    if answer_ids:
        grading_enqueue_on_commit()
    return closed


# Set while a pool fill chain for the quiz is queued or running; a start then does not queue another.
POOLS_FILL_QUEUED_KEY = "variant-pools:fill-queued:{quiz_id}"
POOLS_FILL_QUEUED_SECONDS = 30


# Variants made per fill task (~50 ms): a fill hands over to a fresh task rather than hold a worker
# for seconds, so grading drains queued meanwhile are not kept waiting.
POOLS_FILL_CHUNK = 50
# Between two chunks of a top-up asked for by starts (an exam is on): at most ~50 variants a second.
POOLS_REFILL_PAUSE_SECONDS = 1.0


@shared_task(bind=True, base=IdempotentTask)
def variant_pools_fill(self: Task, quiz_id: int, size: int | None = None) -> int:
    """Top up the variant pools a quiz draws from (see questions.variant_pool), a chunk at a time.

    A fill with a ``size`` prepares a quiz before it opens (beat: the machine is quiet) and hands over
    at once. A top-up asked for by starts (no ``size``) runs while an exam is going on: it pauses
    POOLS_REFILL_PAUSE_SECONDS between chunks, so it takes a small share of a worker instead of a
    whole one (measured in bench.storm's paced exam on PostgreSQL: unpaced, 100 chunks in 9 s made
    the p99 submit 1.5 s). The fill-queued key stays set for the whole chain, so one chain per quiz.
    """
    key = POOLS_FILL_QUEUED_KEY.format(quiz_id=quiz_id)
    made = services.quiz_variants_prepare(quiz_id=quiz_id, size=size, limit=POOLS_FILL_CHUNK)
    if made >= POOLS_FILL_CHUNK:
        pause = 0.0 if size is not None else POOLS_REFILL_PAUSE_SECONDS
        try:
            cache.set(key, 1, POOLS_FILL_QUEUED_SECONDS)
        except Exception:
            logger.warning("variant_pools_fill: could not set the fill-queued key.", exc_info=True)
        if variant_pools_fill.publish_or_log((quiz_id, size), {}, countdown=pause):
            return made
    try:
        cache.delete(key)
    except Exception:
        logger.warning("variant_pools_fill: could not clear the fill-queued key.", exc_info=True)
    return made


def variant_pools_refill(quiz_id: int) -> None:
    """Queue a top-up of the quiz's pools if a start left one low, unless one is already queued."""
    if not variant_pool.refill_wanted():
        return
    try:
        if not cache.add(POOLS_FILL_QUEUED_KEY.format(quiz_id=quiz_id), 1, POOLS_FILL_QUEUED_SECONDS):
            return
    except Exception:
        return  # no cache, no pools (and the pools only ever save time)
    variant_pools_fill.publish_or_log((quiz_id,), {})


def variant_pools_refill_on_commit(quiz_id: int) -> None:
    transaction.on_commit(lambda: variant_pools_refill(quiz_id))


@shared_task(bind=True, base=IdempotentTask)
def variant_pools_prepare(self: Task) -> int:
    """Queue filling the pools of quizzes about to open, one variant per student (beat, every minute)."""
    within = timedelta(minutes=settings.VARIANT_POOL_PREPARE_MINUTES)
    opening = selectors.quizzes_opening_soon(within=within)
    return sum(1 for quiz, students in opening if variant_pools_fill.publish_or_log((quiz, students), {}))


@shared_task(bind=True, base=IdempotentTask)
def stored_variants_prune(self: Task) -> int:
    """Delete stored variants no question uses and no pool holds any more (beat, hourly)."""
    return services.stored_variants_prune()
