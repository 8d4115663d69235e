"""Regrading after an engine change: ``answers_regrade`` and ``manage.py regrade``.

An "old engine" is simulated by storing a real variant under an older engine version with a wrong key,
as a buggy engine would have computed it; the current engine recomputes the right one.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from questions import services
from questions.engine import ENGINE_VERSION
from questions.models import Answer, Attempt, AttemptQuestion, RegradeRecord
from tcpquiz.errors import DomainError
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db

OLD_ENGINE = "0.9.0"


def _made_by_old_engine(attempt: Attempt, position: int) -> AttemptQuestion:
    """Question ``position`` as an older engine stored it: its key points at a wrong choice."""
    question = attempt.questions.get(position=position)
    right = question.variant["key"]["choice"]
    wrong = next(c["id"] for c in question.variant["choices"] if c["id"] != right)
    question.stored.variant = question.variant | {"key": {"choice": wrong}, "engine_version": OLD_ENGINE}
    question.stored.engine_version = question.engine_version = OLD_ENGINE
    question.stored.save()
    question.save()
    return question


def _answer_graded(student: User, attempt: Attempt, position: int, choice: str) -> Answer:
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=position, response={"choice": choice}
    )
    return services.answer_grade(answer_id=answer.pk)


def _choice_text(question: AttemptQuestion, choice_id: str) -> str:
    return str(next(c["text"]["en"] for c in question.variant["choices"] if c["id"] == choice_id))


def test_answers_regrade_fixes_score_and_records_it(student: User, attempt: Attempt) -> None:
    """A right answer marked wrong by an old engine's key is regraded right; the record keeps both
    scores and both engine versions, and the response follows the choice into the new variant."""
    right = key_choice(attempt, 1)
    right_text = _choice_text(attempt.questions.get(position=1), right)
    question = _made_by_old_engine(attempt, 1)
    answer = _answer_graded(student, attempt, 1, right)
    assert answer.score == 0.0

    summary = services.answers_regrade()

    assert (summary.questions, summary.answers, len(summary.changes)) == (1, 1, 1)
    answer.refresh_from_db()
    question.refresh_from_db()
    assert answer.score == 1.0
    assert question.engine_version == ENGINE_VERSION
    assert _choice_text(question, answer.response["choice"]) == right_text
    record = RegradeRecord.objects.get(answer=answer)
    assert (record.old_score, record.new_score) == (0.0, 1.0)
    assert (record.old_engine_version, record.new_engine_version) == (OLD_ENGINE, ENGINE_VERSION)
    assert record.new_key == question.variant["key"]


def test_answers_regrade_dry_run_writes_nothing(student: User, attempt: Attempt) -> None:
    """A dry run reports the score it would change and leaves answers, variants and records alone."""
    right = key_choice(attempt, 1)
    question = _made_by_old_engine(attempt, 1)
    answer = _answer_graded(student, attempt, 1, right)
    stored = question.variant

    summary = services.answers_regrade(dry_run=True)

    assert summary.dry_run
    assert len(summary.changes) == 1
    assert Answer.objects.get(pk=answer.pk).score == 0.0
    assert AttemptQuestion.objects.get(pk=question.pk).variant == stored
    assert not RegradeRecord.objects.exists()


def test_answers_regrade_twice_changes_nothing_the_second_time(student: User, attempt: Attempt) -> None:
    """Once recomputed the variants are current: a second run regrades nothing and records nothing."""
    right = key_choice(attempt, 1)
    _made_by_old_engine(attempt, 1)
    _answer_graded(student, attempt, 1, right)
    services.answers_regrade()
    summary = services.answers_regrade()
    assert (summary.questions, summary.answers) == (0, 0)
    assert RegradeRecord.objects.count() == 1


def test_answers_regrade_all_records_unchanged_scores(student: User, attempt: Attempt) -> None:
    """With include_current every stored answer is regraded and recorded, even when nothing changes."""
    _answer_graded(student, attempt, 1, key_choice(attempt, 1))
    _answer_graded(student, attempt, 2, key_choice(attempt, 2))
    summary = services.answers_regrade(include_current=True)
    assert (summary.questions, summary.answers, summary.changes) == (3, 2, ())
    assert sorted(RegradeRecord.objects.values_list("old_score", "new_score")) == [(1.0, 1.0), (1.0, 1.0)]


def test_answers_regrade_pending_answer_gets_new_key_only(student: User, attempt: Attempt) -> None:
    """A pending answer is not regraded (no record); it is graded later against the new key."""
    right = key_choice(attempt, 1)
    _made_by_old_engine(attempt, 1)
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": right})
    summary = services.answers_regrade()
    assert (summary.questions, summary.answers) == (1, 0)
    assert not RegradeRecord.objects.exists()
    assert services.answer_grade(answer_id=answer.pk).score == 1.0


def test_answers_regrade_family_filter(student: User, attempt: Attempt) -> None:
    """``family`` limits the run to that family; an unknown family is a domain error."""
    _made_by_old_engine(attempt, 1)
    assert services.answers_regrade(family="which_event").questions == 0
    assert services.answers_regrade(family="next_state").questions == 1
    with pytest.raises(DomainError):
        services.answers_regrade(family="no_such_family")


def test_regrade_command_dry_run_then_real(student: User, attempt: Attempt) -> None:
    """``manage.py regrade --dry-run`` reports; without it the scores change and records are kept."""
    right = key_choice(attempt, 1)
    _made_by_old_engine(attempt, 1)
    answer = _answer_graded(student, attempt, 1, right)
    out = StringIO()
    call_command("regrade", "--dry-run", "--family", "next_state", stdout=out)
    assert "dry run" in out.getvalue()
    assert f"answer {answer.pk} (next_state): 0.0 -> 1.0" in out.getvalue()
    assert Answer.objects.get(pk=answer.pk).score == 0.0
    out = StringIO()
    call_command("regrade", stdout=out)
    assert "score changed: 1" in out.getvalue()
    assert Answer.objects.get(pk=answer.pk).score == 1.0


def test_regrade_command_unknown_family_fails(db: Any) -> None:
    """An unknown family is refused with the command's error, not a traceback."""
    with pytest.raises(CommandError):
        call_command("regrade", "--family", "no_such_family", stdout=StringIO())
