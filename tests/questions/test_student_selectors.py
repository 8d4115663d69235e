"""Student modes, reads: the attempt overview, comparisons with the key, diagrams, mastery with FSRS,
the dashboard and the practice page's draws."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from questions import selectors, services
from questions.errors import NoMatchingQuestion, UnknownFamily
from questions.generators.registry import families, make_variant
from questions.models import Attempt, Course
from questions.variant_store import variant_to_json
from tests.questions.student_helpers import exam_create, practice_create


@pytest.mark.parametrize("family", sorted(families()))
def test_answer_comparison_key_agrees_with_itself(family: str) -> None:
    """For every family, the key compared with itself is right everywhere and nothing is left blank."""
    variant = make_variant(family, 5, "hard")
    public = variant.public("en")
    comparison = selectors.answer_comparison(public, dict(variant.key), variant.key)
    assert comparison["shown"] is True
    assert selectors.response_blanks(public, dict(variant.key)) == 0
    kind = public["kind"]
    if kind in ("single", "multiple"):
        assert all(c["chosen"] == c["key"] for c in comparison["choices"])
    elif kind in ("order", "numeric"):
        assert all(r["ok"] for r in comparison["rows"])
    elif kind == "ladder":
        assert all(c["ok"] for r in comparison["rows"] for c in r["cells"] if c["blank"])
    else:
        assert all(s["chosen"] == s["key"] for s in comparison["steps"])
        assert comparison["valid_chosen"] == comparison["valid_key"]


def test_answer_comparison_without_key_shows_only_the_answer() -> None:
    """Before review is allowed the comparison carries no trace of the key."""
    variant = make_variant("ladder", 2, "medium")
    comparison = selectors.answer_comparison(variant.public("en"), {"cells": {}}, None)
    assert comparison["shown"] is False
    assert all(c.get("key") is None for r in comparison["rows"] for c in r["cells"])


def test_response_blanks_counts_what_is_left() -> None:
    """None when nothing is answered, the number of blanks when partly, 0 when complete."""
    public = make_variant("seq_ack", 3, "easy").public("en")
    ids = [f["id"] for f in public["widget"]["fields"]]
    assert selectors.response_blanks(public, {"values": {}}) is None
    assert selectors.response_blanks(public, {"values": {ids[0]: "1"}}) == len(ids) - 1
    assert selectors.response_blanks(public, {"values": dict.fromkeys(ids, "1")}) == 0


def test_skill_label_reads_concepts_and_transitions() -> None:
    """Concept skills show their title, transitions their state and event, in both languages."""
    assert selectors.skill_label("c:time_wait", "en") == "The TIME_WAIT state"
    assert selectors.skill_label("t:FIN_WAIT_1:rcv_fin", "en") == "In FIN_WAIT_1: receives FIN"
    assert selectors.skill_label("t:FIN_WAIT_1:rcv_fin", "zh-hans") == "FIN_WAIT_1 终止等待1：收到 FIN"
    assert selectors.skill_label("t:NOPE:rcv_fin", "en") == "t:NOPE:rcv_fin"


def test_variant_diagrams_draw_ladder_for_scenarios() -> None:
    """A scenario's review has the engine's ladder and the state diagram with its arcs highlighted."""
    variant = make_variant("ladder", 4, "medium")
    state_svg, ladder = selectors.variant_diagrams(variant_to_json(variant), "zh-hans", "q1")
    assert state_svg is not None
    assert 'id="q1-states-title"' in state_svg
    assert ladder is not None
    assert "客户端" in ladder
    assert 'id="q1-ladder-title"' in ladder
    single = make_variant("next_state", 4, "easy")
    assert selectors.variant_diagrams(variant_to_json(single), "en", "q2")[1] is None


def test_practice_draw_meets_requested_skills_deterministically() -> None:
    """A draw exercises a requested skill, and the same seed gives the same variant."""
    skills = ["c:time_wait", "t:FIN_WAIT_2:rcv_fin"]
    first = selectors.practice_draw(skills=skills, seed=7)
    assert set(skills) & set(first.skills)
    again = selectors.practice_draw(skills=skills, seed=7)
    assert (again.family, again.seed, again.difficulty) == (first.family, first.seed, first.difficulty)


def test_practice_draw_by_family() -> None:
    """``family`` restricts the draw to one family; an unknown one is refused."""
    assert selectors.practice_draw(skills=[], seed=1, family="ladder").family == "ladder"
    with pytest.raises(UnknownFamily):
        selectors.practice_draw(skills=[], seed=1, family="nope")


def test_practice_draw_unknown_skill_finds_nothing() -> None:
    """A skill no family exercises ends the bounded search with a clear refusal."""
    with pytest.raises(NoMatchingQuestion):
        selectors.practice_draw(skills=["c:no_such_concept"], seed=3)


@pytest.mark.django_db
def test_attempt_overview_tracks_saved_incomplete_and_answered(student: User, course: Course) -> None:
    """The navigator tells unanswered, saved, incomplete and answered questions apart; time is counted."""
    attempt, _ = services.attempt_start(user=student, quiz=exam_create(course))
    by_kind = {q.variant["kind"]: q for q in attempt.questions.all()}
    services.draft_save(
        user=student, attempt=attempt, position=by_kind["single"].position, response={"choice": "a"}
    )
    services.draft_save(
        user=student,
        attempt=attempt,
        position=by_kind["numeric"].position,
        response={"values": {"s1.seq": "1"}},
    )
    services.answer_submit(
        user=student, attempt=attempt, position=by_kind["trace_step"].position, response={"step": None}
    )
    overview = selectors.attempt_overview(attempt=attempt)
    states = {item.position: item.state for item in overview.nav}
    assert states[by_kind["single"].position] == "saved"
    assert states[by_kind["numeric"].position] == "incomplete"
    assert states[by_kind["trace_step"].position] == "answered"  # an exam shows no result before submit
    assert overview.done == 2
    assert by_kind["numeric"].position in overview.incomplete
    assert len(overview.unanswered) == 3
    assert overview.is_exam
    assert not overview.review
    assert 890 <= (overview.seconds_left or 0) <= 900


@pytest.mark.django_db
def test_question_review_hides_key_until_allowed(student: User, course: Course) -> None:
    """An exam question's review has no result, key or diagram until the attempt is submitted."""
    attempt, _ = services.attempt_start(user=student, quiz=exam_create(course))
    question = attempt.questions.get(position=1)
    services.answer_submit(user=student, attempt=attempt, position=1, response=dict(question.variant["key"]))
    question = selectors.attempt_questions_full(attempt=attempt)[0]
    hidden = selectors.question_review(question=question, lang="en", review=False)
    assert hidden.status == "hidden"
    assert hidden.result is None
    assert hidden.state_svg is None
    assert hidden.comparison["shown"] is False


@pytest.mark.django_db
def test_skill_mastery_counts_recent_and_schedules_reviews(student: User) -> None:
    """Mastery is the share right of recent variants per skill; FSRS makes a wrong skill due soon."""
    start = timezone.now() - timedelta(days=3)
    right = make_variant("next_state", 1, "easy")
    for seed in range(3):
        variant = make_variant("next_state", seed, "easy")
        services.practice_answer_record(
            user=student, variant=variant, response=dict(variant.key), requested_skills=[], now=start
        )
    wrong = next(c.id for c in right.choices if c.id != right.key["choice"])
    services.practice_answer_record(
        user=student,
        variant=make_variant("next_state", 99, "easy"),
        response={"choice": wrong},
        requested_skills=[],
        now=start + timedelta(minutes=5),
    )
    mastery = {m.skill: m for m in selectors.skill_mastery(user=student, lang="en")}
    diagram = mastery["c:state_diagram"]
    assert (diagram.right, diagram.seen) == (3, 4)
    assert diagram.percent == 75
    assert diagram.due <= timezone.now()


@pytest.mark.django_db
def test_student_dashboard_lists_open_quizzes_and_past_attempts(student: User, course: Course) -> None:
    """The dashboard shows open quizzes (the started one with its time left) and finished attempts."""
    exam = exam_create(course)
    drill = practice_create(course)
    attempt, _ = services.attempt_start(user=student, quiz=exam)
    done, _ = services.attempt_start(user=student, quiz=drill)
    services.attempt_submit(user=student, attempt=done)
    board = selectors.student_dashboard(user=student, lang="en")
    open_ids = {item.quiz.pk: item for item in board.open_quizzes}
    assert open_ids[exam.pk].attempt == attempt
    assert open_ids[exam.pk].seconds_left
    assert open_ids[exam.pk].attempts_left == 1
    assert [p.attempt for p in board.past_attempts] == [done]
    assert board.past_attempts[0].review is True


@pytest.mark.django_db
def test_student_dashboard_hides_used_up_quiz(student: User, course: Course) -> None:
    """A quiz whose attempts are used up is no longer listed as open."""
    exam = exam_create(course, max_attempts=1)
    attempt, _ = services.attempt_start(user=student, quiz=exam)
    services.attempt_submit(user=student, attempt=attempt)
    board = selectors.student_dashboard(user=student, lang="en")
    assert exam.pk not in {item.quiz.pk for item in board.open_quizzes}
    assert board.past_attempts[0].attempt.status == Attempt.Status.SUBMITTED
