"""Celery tasks, run in-process: thin, idempotent, and safe to run twice."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from questions import services, tasks
from questions.models import Answer, Attempt
from questions.tasks import (
    DRAIN_QUEUED_KEY,
    answers_pending_sweep,
    attempts_expire_overdue,
    grade_answer,
    grade_answers_batch,
    grading_enqueue,
)
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db


def test_grade_answer_twice_grades_once(student: User, attempt: Attempt) -> None:
    """Running the grading task twice grades once: the second run changes nothing."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    grade_answer.apply(args=(answer.pk,)).get()
    first = Answer.objects.get(pk=answer.pk)
    grade_answer.apply(args=(answer.pk,)).get()
    second = Answer.objects.get(pk=answer.pk)
    assert first.status == Answer.Status.GRADED
    assert (second.score, second.graded_at, second.grading_attempts) == (1.0, first.graded_at, 1)


def test_grade_answer_missing_answer_is_no_error(db: None) -> None:
    """A task for a deleted answer finishes quietly (nothing to retry)."""
    result = grade_answer.apply(args=(999_999,))
    assert result.successful()


def test_answers_pending_sweep_grades_left_behind(student: User, attempt: Attempt, settings: object) -> None:
    """The sweep re-enqueues answers left pending; with eager tasks they are graded at once."""
    settings.GRADING_SWEEP_AFTER_SECONDS = 0  # type: ignore[attr-defined]
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    assert answers_pending_sweep.apply().get() == 1
    assert Answer.objects.get(pk=answer.pk).status == Answer.Status.GRADED


def test_attempts_expire_overdue_task_runs(attempt: Attempt) -> None:
    """The expiry task calls its service and reports how many attempts it closed."""
    assert attempts_expire_overdue.apply().get() == 0


def _submit_all(student: User, attempt: Attempt) -> list[int]:
    """Answer every question of ``attempt`` correctly (nothing enqueued); returns the answer ids."""
    ids = []
    for question in attempt.questions.order_by("position"):
        answer, _ = services.answer_submit(
            user=student,
            attempt=attempt,
            position=question.position,
            response={"choice": key_choice(attempt, question.position)},
        )
        ids.append(answer.pk)
    return ids


def test_grade_answers_batch_twice_grades_once(student: User, attempt: Attempt) -> None:
    """The batch task run twice on the same ids grades each answer once, one run counted."""
    ids = _submit_all(student, attempt)
    assert grade_answers_batch.apply(args=(ids,)).get() == len(ids)
    first = {a.pk: a.graded_at for a in Answer.objects.filter(pk__in=ids)}
    assert grade_answers_batch.apply(args=(ids,)).get() == 0
    answers = list(Answer.objects.filter(pk__in=ids))
    assert {(a.status, a.score, a.grading_attempts) for a in answers} == {(Answer.Status.GRADED, 1.0, 1)}
    assert {a.pk: a.graded_at for a in answers} == first


def test_grade_answers_batch_drain_grades_every_new_answer(
    student: User, attempt: Attempt, settings: Any
) -> None:
    """Without ids the task drains all pending answers never tried, in batches of GRADING_BATCH_SIZE."""
    settings.GRADING_BATCH_SIZE = 2
    ids = _submit_all(student, attempt)
    assert grade_answers_batch.apply().get() == len(ids)
    assert set(Answer.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Answer.Status.GRADED}


def test_grade_answers_batch_drain_leaves_tried_answers_to_careful_path(
    student: User, attempt: Attempt
) -> None:
    """An answer whose grading already ran (and did not finish) is not drained: it goes one by one."""
    tried, fresh = _submit_all(student, attempt)[:2]
    Answer.objects.filter(pk=tried).update(grading_attempts=1)
    grade_answers_batch.apply().get()
    assert Answer.objects.get(pk=tried).status == Answer.Status.PENDING
    assert Answer.objects.get(pk=fresh).status == Answer.Status.GRADED


def test_grade_answers_batch_redelivered_grades_one_by_one(
    student: User, attempt: Attempt, settings: Any
) -> None:
    """A batch the broker redelivers (its worker died) hands its answers to the careful path, which
    counts each run first: an answer that already used up its runs ends failed, the others graded."""
    settings.GRADING_MAX_ATTEMPTS = 2
    poison, *others = _submit_all(student, attempt)
    Answer.objects.filter(pk=poison).update(grading_attempts=2)
    grade_answers_batch.push_request(delivery_info={"redelivered": True})
    try:
        assert grade_answers_batch.run([poison, *others]) == 0
    finally:
        grade_answers_batch.pop_request()
    assert Answer.objects.get(pk=poison).status == Answer.Status.FAILED
    assert {(a.status, a.grading_attempts) for a in Answer.objects.filter(pk__in=others)} == {
        (Answer.Status.GRADED, 1)
    }


def test_grading_enqueue_sends_one_drain_while_one_is_queued(student: User, attempt: Attempt) -> None:
    """While a drain is queued (the key is set) no other is sent; once it has started, one is."""
    ids = _submit_all(student, attempt)
    cache.set(DRAIN_QUEUED_KEY, 1, 60)
    assert grading_enqueue() is True
    assert Answer.objects.filter(pk__in=ids, status=Answer.Status.PENDING).count() == len(ids)
    cache.delete(DRAIN_QUEUED_KEY)
    assert grading_enqueue() is True  # eager: the drain runs here and clears the key
    assert Answer.objects.filter(pk__in=ids, status=Answer.Status.GRADED).count() == len(ids)
    assert cache.get(DRAIN_QUEUED_KEY) is None


def test_drain_started_while_another_runs_grades_and_stops_without_lingering(
    student: User, attempt: Attempt, settings: Any
) -> None:
    """A drain that starts while another holds the key grades what is pending, does not linger (even
    when told to) and leaves the running drain's key alone: surplus drains cannot pile up idling."""
    settings.GRADING_DRAIN_IDLE_SECONDS = 30  # a lingering drain would hold this test for 30 s
    ids = _submit_all(student, attempt)
    cache.set(DRAIN_QUEUED_KEY, "running:another-drain", 60)
    started = time.monotonic()
    assert tasks._drain("this-drain", linger=True) == len(ids)
    assert time.monotonic() - started < 5
    assert cache.get(DRAIN_QUEUED_KEY) == "running:another-drain"
    assert Answer.objects.filter(pk__in=ids, status=Answer.Status.GRADED).count() == len(ids)


def test_drain_holds_the_key_while_running_and_releases_it_before_its_last_look(
    student: User, attempt: Attempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a drain grades, the key names it (a submit then sends no drain). Its last look comes after
    it released the key: answers found then are graded, and if a submit queued a drain meanwhile this
    one stops (that drain looks next), else it takes the key back and goes on."""
    held: list[Any] = []
    looks = iter([[1], [], [2], [], [3], []])  # batch, idle, last look finds one, ...

    def batch(**_kwargs: Any) -> list[int]:
        held.append(cache.get(DRAIN_QUEUED_KEY))
        return next(looks, [])

    monkeypatch.setattr(services, "answers_grade_batch", batch)
    assert tasks._drain("d1", linger=False) == 3
    # Looks 1-2 with the key held; look 3 (the last) after releasing it; retaken; 4 held; 5 released.
    assert held[:5] == ["running:d1", "running:d1", None, "running:d1", None]
    assert cache.get(DRAIN_QUEUED_KEY) is None

    looks = iter([[], [7]])
    held.clear()

    def batch_then_submit(**_kwargs: Any) -> list[int]:
        found = next(looks, [])
        if found:
            cache.add(DRAIN_QUEUED_KEY, 1, 60)  # a submit committed meanwhile and queued a drain
        return found

    monkeypatch.setattr(services, "answers_grade_batch", batch_then_submit)
    assert tasks._drain("d2", linger=False) == 1
    assert cache.get(DRAIN_QUEUED_KEY) == 1  # the queued drain's key is left for it


def test_lingering_drain_gathers_answers_after_a_batch_that_was_not_full(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """After a batch that was not full, a lingering drain waits until GRADING_GATHER_SECONDS have
    passed since it looked, so answers arriving one by one are graded together; after a full batch
    (a backlog) it looks again at once, and a drain that does not linger (eager) never waits."""
    settings.GRADING_BATCH_SIZE = 2
    settings.GRADING_GATHER_SECONDS = 0.25
    settings.GRADING_DRAIN_IDLE_SECONDS = 0
    slept: list[float] = []
    monkeypatch.setattr("questions.tasks.time.sleep", slept.append)
    looks = iter([[1], [2, 3], [4], []])

    def batch(**_kwargs: Any) -> list[int]:
        return next(looks, [])

    monkeypatch.setattr(services, "answers_grade_batch", batch)
    assert tasks._drain("gathering", linger=True) == 4
    # One wait after [1] and one after [4]; none after the full [2, 3].
    assert len(slept) == 2
    # The rest of the gather time since the look (a loaded machine may eat some of it).
    assert all(0.1 < seconds <= 0.25 for seconds in slept)

    looks = iter([[1], [2], []])
    slept.clear()
    assert tasks._drain("eager", linger=False) == 2
    assert slept == []


def test_redelivered_drain_releases_the_dead_drains_key_and_sends_a_new_drain(
    student: User, attempt: Attempt
) -> None:
    """A drain redelivered after its worker died sends the suspects one by one, releases the key its
    dead run held (else submits would send no drain until it expired) and queues a fresh drain, which
    grades everything else pending."""
    ids = _submit_all(student, attempt)
    cache.set(DRAIN_QUEUED_KEY, "running:the-dead-run", 60)
    grade_answers_batch.push_request(delivery_info={"redelivered": True})
    try:
        assert grade_answers_batch.run() == 0
    finally:
        grade_answers_batch.pop_request()
    assert Answer.objects.filter(pk__in=ids, status=Answer.Status.GRADED).count() == len(ids)
    assert cache.get(DRAIN_QUEUED_KEY) is None


def test_answers_pending_sweep_sends_batches(student: User, attempt: Attempt, settings: Any) -> None:
    """The sweep sends the ids of answers left pending to grade_answers_batch, in chunks."""
    settings.GRADING_SWEEP_AFTER_SECONDS = 0
    settings.GRADING_BATCH_SIZE = 2
    ids = _submit_all(student, attempt)
    assert answers_pending_sweep.apply().get() == len(ids)
    assert {(a.status, a.grading_attempts) for a in Answer.objects.filter(pk__in=ids)} == {
        (Answer.Status.GRADED, 1)
    }


def test_answers_graded_save_skips_answer_graded_meanwhile(student: User, attempt: Attempt) -> None:
    """A batch grade is written only if its answer is still as read: one graded meanwhile (by another
    worker) keeps that grade and its single run."""
    first, second = _submit_all(student, attempt)[:2]
    rows = list(
        Answer.objects.filter(pk__in=[first, second])
        .order_by("pk")
        .values_list("pk", "grading_attempts", "response", "question__stored__variant")
    )
    graded = services._answers_graded(rows, None)
    services.answer_grade(answer_id=first)  # another worker got there first
    assert services._answers_graded_save(graded) == [second]
    assert Answer.objects.get(pk=first).grading_attempts == 1
    assert Answer.objects.get(pk=second).grading_attempts == 1


@pytest.mark.django_db(transaction=True)
def test_answers_grade_batch_leaves_an_answer_another_worker_has(
    student: User, attempt: Attempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers never grade one answer twice. PostgreSQL: an answer another worker has locked is
    skipped, and the lock is taken in a subquery of the answer table alone (a join there let a plan
    from stale statistics strip and sort every pending answer's variant per batch). SQLite: an answer
    another worker graded between this batch's read and its write is not written again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    ids = _submit_all(student, attempt)
    if connection.features.has_select_for_update_skip_locked:
        import psycopg

        settings_dict = connection.settings_dict
        other = psycopg.connect(
            dbname=settings_dict["NAME"],
            user=settings_dict["USER"],
            host=settings_dict["HOST"],
            port=settings_dict["PORT"] or 5432,
        )
        try:
            other.execute("SELECT id FROM questions_answer WHERE id = %s FOR UPDATE", [ids[0]])
            with CaptureQueriesContext(connection) as queries:
                graded = services.answers_grade_batch()
        finally:
            other.rollback()
            other.close()
        claim = next(q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"])
        inner = claim[claim.index("IN (SELECT") :]
        assert "FOR UPDATE SKIP LOCKED" in inner
        assert "JOIN" not in inner[: inner.index("FOR UPDATE")]
    else:
        real = services._answers_graded

        def meanwhile(rows: Any, now: Any) -> Any:
            graded_rows = real(rows, now)
            # Another worker grades the first answer after this batch read it, before it writes.
            Answer.objects.filter(pk=ids[0]).update(
                status=Answer.Status.GRADED, score=0.5, graded_at=timezone.now(), grading_attempts=1
            )
            return graded_rows

        monkeypatch.setattr(services, "_answers_graded", meanwhile)
        graded = services.answers_grade_batch()
        assert Answer.objects.get(pk=ids[0]).score == 0.5  # the other worker's grade stands
    assert sorted(graded) == sorted(ids[1:])
    assert Answer.objects.get(pk=ids[0]).grading_attempts == (
        0 if connection.features.has_select_for_update_skip_locked else 1
    )
    assert set(Answer.objects.filter(pk__in=ids[1:]).values_list("status", "grading_attempts")) == {
        (Answer.Status.GRADED, 1)
    }
