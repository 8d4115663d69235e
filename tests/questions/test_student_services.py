"""Student modes, writes: drafts (autosave), submit-all, the deadline, "another one like this",
shuffled exams and the practice page's answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from questions import services
from questions.errors import AlreadyAnswered, AttemptClosed, DeadlinePassed, InvalidResponse, NotInPractice
from questions.generators.registry import make_variant
from questions.models import Answer, Attempt, AttemptQuestion, Course, Draft, PracticeAnswer
from questions.tasks import attempts_expire_overdue
from tests.questions.student_helpers import exam_create, practice_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam_attempt(student: User, course: Course) -> Attempt:
    attempt, _created = services.attempt_start(user=student, quiz=exam_create(course))
    return attempt


def _after_deadline(attempt: Attempt, **delta: int) -> datetime:
    assert attempt.deadline is not None
    return attempt.deadline + timedelta(**delta)


def _question(attempt: Attempt, kind: str) -> int:
    return next(q.position for q in attempt.questions.all() if q.variant["kind"] == kind)


def test_draft_save_latest_wins(student: User, exam_attempt: Attempt) -> None:
    """Saving twice keeps one draft per question, holding the latest response."""
    position = _question(exam_attempt, "single")
    services.draft_save(user=student, attempt=exam_attempt, position=position, response={"choice": "a"})
    services.draft_save(user=student, attempt=exam_attempt, position=position, response={"choice": "b"})
    assert Draft.objects.get().response == {"choice": "b"}


def test_draft_save_after_deadline_refused_clearly(student: User, exam_attempt: Attempt) -> None:
    """Past the deadline a save is refused with "time is up", not a generic closed message."""
    late = _after_deadline(exam_attempt, seconds=1)
    with pytest.raises(DeadlinePassed) as refused:
        services.draft_save(
            user=student, attempt=exam_attempt, position=1, response={"choice": "a"}, now=late
        )
    assert "Time is up" in refused.value.message
    assert refused.value.code == "deadline_passed"
    assert not Draft.objects.exists()


def test_answer_submit_after_deadline_refused_clearly(student: User, exam_attempt: Attempt) -> None:
    """A final answer after the deadline is refused with the deadline's message (409)."""
    late = _after_deadline(exam_attempt, minutes=1)
    position = _question(exam_attempt, "single")
    with pytest.raises(DeadlinePassed):
        services.answer_submit(
            user=student, attempt=exam_attempt, position=position, response={"choice": "a"}, now=late
        )


def test_draft_save_on_answered_question_refused(student: User, exam_attempt: Attempt) -> None:
    """A question with a final answer takes no more drafts."""
    position = _question(exam_attempt, "single")
    services.answer_submit(user=student, attempt=exam_attempt, position=position, response={"choice": "a"})
    with pytest.raises(AlreadyAnswered):
        services.draft_save(user=student, attempt=exam_attempt, position=position, response={"choice": "b"})


def test_attempt_submit_all_turns_drafts_into_answers(student: User, exam_attempt: Attempt) -> None:
    """Submitting makes each non-blank draft an answer (pending grading); blank drafts are no answer."""
    single = _question(exam_attempt, "single")
    ladder = _question(exam_attempt, "ladder")
    services.draft_save(user=student, attempt=exam_attempt, position=single, response={"choice": "a"})
    services.draft_save(user=student, attempt=exam_attempt, position=ladder, response={"cells": {}})
    attempt, created = services.attempt_submit_all(user=student, attempt=exam_attempt)
    assert attempt.status == Attempt.Status.SUBMITTED
    assert len(created) == 1
    answer = Answer.objects.get(pk=created[0])
    assert answer.question.position == single
    assert answer.status == Answer.Status.PENDING
    assert not Draft.objects.exists()
    assert services.attempt_submit_all(user=student, attempt=attempt)[1] == []


def test_attempt_expire_if_overdue_keeps_saved_work(student: User, exam_attempt: Attempt) -> None:
    """An attempt seen after its deadline expires at once; what was saved before it is submitted."""
    position = _question(exam_attempt, "single")
    services.draft_save(user=student, attempt=exam_attempt, position=position, response={"choice": "a"})
    late = _after_deadline(exam_attempt, seconds=5)
    attempt, created = services.attempt_expire_if_overdue(user=student, attempt=exam_attempt, now=late)
    assert attempt.status == Attempt.Status.EXPIRED
    assert attempt.submitted_at == exam_attempt.deadline
    assert len(created) == 1


def test_attempt_expire_if_overdue_leaves_open_attempt(student: User, exam_attempt: Attempt) -> None:
    """Before the deadline nothing changes."""
    attempt, created = services.attempt_expire_if_overdue(user=student, attempt=exam_attempt)
    assert attempt.status == Attempt.Status.IN_PROGRESS
    assert created == []


def test_attempts_expire_overdue_task_grades_drafts_twice_safe(
    student: User, exam_attempt: Attempt, django_capture_on_commit_callbacks: Any
) -> None:
    """The periodic task closes the overdue attempt and its draft gets graded; a second run does nothing."""
    position = _question(exam_attempt, "single")
    services.draft_save(user=student, attempt=exam_attempt, position=position, response={"choice": "a"})
    Attempt.objects.filter(pk=exam_attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert attempts_expire_overdue.apply().get() == 1
    assert attempts_expire_overdue.apply().get() == 0
    exam_attempt.refresh_from_db()
    assert exam_attempt.status == Attempt.Status.EXPIRED
    assert Answer.objects.get().status == Answer.Status.GRADED


def test_attempt_question_add_like_appends_fresh_variant(student: User, course: Course) -> None:
    """In practice, "another one like this" appends a new variant of the same family and difficulty."""
    attempt, _ = services.attempt_start(user=student, quiz=practice_create(course))
    like = attempt.questions.get(position=3)
    added = services.attempt_question_add_like(user=student, attempt=attempt, position=3)
    assert added.position == attempt.questions.count()
    assert (added.family, added.difficulty, added.slot_id) == (like.family, like.difficulty, like.slot_id)
    assert added.seed != like.seed


def test_attempt_question_add_like_refused_in_exam(student: User, exam_attempt: Attempt) -> None:
    """An exam gives one variant per slot: no other one can be drawn."""
    with pytest.raises(NotInPractice):
        services.attempt_question_add_like(user=student, attempt=exam_attempt, position=1)
    assert exam_attempt.questions.count() == 6
    assert len({q.slot_id for q in exam_attempt.questions.all()}) == 6


def test_exam_shuffle_keeps_choices_and_languages_aligned(student: User, course: Course) -> None:
    """Shuffled choices keep their ids and the same order in both languages, so grading is unchanged."""
    for _ in range(3):
        attempt, _ = services.attempt_start(user=student, quiz=exam_create(course, max_attempts=None))
        for question in attempt.questions.all():
            en = [c["id"] for c in question.public["en"]["choices"]]
            zh = [c["id"] for c in question.public["zh-hans"]["choices"]]
            assert en == zh
            assert sorted(en) == sorted(c["id"] for c in question.variant["choices"])
        services.attempt_submit(user=student, attempt=attempt)


def test_exam_shuffle_shows_the_same_order_when_read_again(student: User, course: Course) -> None:
    """The order a start answers with is the order stored (``choice_order``) and read back later; over
    a few starts, some question is shown in an order other than the generated one."""
    reordered = False
    for _ in range(4):
        attempt, _ = services.attempt_start(user=student, quiz=exam_create(course, max_attempts=None))
        new: list[AttemptQuestion] = attempt.new_questions  # type: ignore[attr-defined]
        started = {q.position: [c["id"] for c in q.public["en"]["choices"]] for q in new}
        for question in attempt.questions.select_related("stored"):
            shown = [c["id"] for c in question.public["en"]["choices"]]
            assert shown == started[question.position]
            generated = [c["id"] for c in question.stored.public["en"]["choices"]]
            assert sorted(shown) == sorted(generated)
            reordered = reordered or (question.choice_order is not None and shown != generated)
        services.attempt_submit(user=student, attempt=attempt)
    assert reordered


def test_attempt_closed_refuses_drafts(student: User, exam_attempt: Attempt) -> None:
    """A submitted attempt takes no more drafts."""
    services.attempt_submit(user=student, attempt=exam_attempt)
    with pytest.raises(AttemptClosed):
        services.draft_save(user=student, attempt=exam_attempt, position=1, response={"choice": "a"})


def test_practice_answer_record_counts_first_answer_only(student: User) -> None:
    """The practice page grades at once; the same variant answered again returns the first answer."""
    variant = make_variant("next_state", 11, "easy")
    answer, created = services.practice_answer_record(
        user=student, variant=variant, response=dict(variant.key), requested_skills=["c:state_diagram"]
    )
    assert created
    assert answer.score == 1.0
    assert answer.skills == list(variant.skills)
    wrong = next(c.id for c in variant.choices if c.id != variant.key["choice"])
    again, created = services.practice_answer_record(
        user=student, variant=variant, response={"choice": wrong}, requested_skills=[]
    )
    assert not created
    assert again.pk == answer.pk
    assert again.score == 1.0
    assert PracticeAnswer.objects.count() == 1


def test_practice_answer_record_refuses_malformed(student: User) -> None:
    """A malformed answer is refused and not stored (it costs nothing)."""
    variant = make_variant("seq_ack", 3, "easy")
    with pytest.raises(InvalidResponse):
        services.practice_answer_record(
            user=student, variant=variant, response={"values": {"s1.seq": "x"}}, requested_skills=[]
        )
    assert not PracticeAnswer.objects.exists()
