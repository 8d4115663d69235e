"""Celery tasks: thin and idempotent. Each takes ids, calls one service, and may run twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from questions import services
from questions.errors import AnswerNotFound
from tcpquiz.celery import Task

logger = logging.getLogger(__name__)

# Infrastructure hiccups worth another try; a domain error or a grader bug never is.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    base=Task,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=20,
    time_limit=30,
)
def grade_answer(self: Task, answer_id: int) -> None:
    """Grade one pending answer (nothing happens if it is already graded)."""
    try:
        answer = services.answer_grade(answer_id=answer_id)
    except AnswerNotFound:
        logger.warning("grade_answer: answer %s no longer exists; nothing to do.", answer_id)
        return
    logger.info("grade_answer: answer %s is %s (score %s).", answer_id, answer.status, answer.score)


@shared_task(
    bind=True,
    base=Task,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    max_retries=3,
    soft_time_limit=20,
    time_limit=30,
)
def answers_pending_sweep(self: Task) -> int:
    """Enqueue grading again for answers left pending (e.g. submitted while the broker was down)."""
    ids = services.answers_pending_sweep(older_than=timedelta(seconds=settings.GRADING_SWEEP_AFTER_SECONDS))
    sent = sum(1 for answer_id in ids if grade_answer.publish_or_log((answer_id,), {}))
    if ids:
        logger.info("answers_pending_sweep: re-enqueued %s of %s pending answers.", sent, len(ids))
    return sent


@shared_task(
    bind=True,
    base=Task,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    max_retries=3,
    soft_time_limit=20,
    time_limit=30,
)
def attempts_expire_overdue(self: Task) -> int:
    """Close in-progress attempts whose deadline has passed."""
    return services.attempts_expire_overdue()
