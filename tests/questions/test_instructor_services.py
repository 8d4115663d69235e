"""Instructor services and selectors: authoring slots, join codes, rosters, results, family previews."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from questions import selectors, services
from questions.errors import CourseNotFound, QuizNotFound, QuizSlotNotFound, UnknownFamily
from questions.models import Answer, Attempt, Course, Enrollment, Quiz
from questions.tasks import grade_answer
from tcpquiz.errors import DomainError
from tests.conftest import key_choice, make_user, wrong_choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_course(db: None) -> Course:
    return services.course_create(title="Another course", join_code="OTHER-1")


@pytest.fixture
def other_instructor(other_course: Course) -> User:
    user = make_user("olga")
    services.enrollment_set_role(user=user, course=other_course, role=Enrollment.Role.INSTRUCTOR)
    return user


def _positions(quiz: Quiz) -> list[tuple[int, str]]:
    return [(s.position, s.family) for s in selectors.quiz_slots(quiz=quiz)]


def test_user_is_instructor_only_for_teachers(instructor: User, student: User, outsider: User) -> None:
    """Only someone with an instructor enrolment counts as an instructor."""
    assert selectors.user_is_instructor(user=instructor)
    assert not selectors.user_is_instructor(user=student)
    assert not selectors.user_is_instructor(user=outsider)


def test_course_list_for_instructor_counts_students_and_quizzes(
    instructor: User, student: User, other_student: User, quiz: Quiz, course: Course
) -> None:
    """The taught courses carry their number of students and quizzes."""
    (listed,) = selectors.course_list_for_instructor(user=instructor)
    assert listed == course
    assert listed.student_count == 2  # type: ignore[attr-defined]
    assert listed.quiz_count == 1  # type: ignore[attr-defined]


def test_course_get_for_instructor_refuses_other_course(instructor: User, other_course: Course) -> None:
    """An instructor of one course cannot fetch another course."""
    with pytest.raises(CourseNotFound):
        selectors.course_get_for_instructor(user=instructor, course_id=other_course.pk)


def test_course_get_for_instructor_refuses_students(student: User, course: Course) -> None:
    """A student of a course cannot fetch it as an instructor."""
    with pytest.raises(CourseNotFound):
        selectors.course_get_for_instructor(user=student, course_id=course.pk)


def test_quiz_get_for_instructor_refuses_other_course(other_instructor: User, quiz: Quiz) -> None:
    """An instructor of another course cannot fetch this course's quiz."""
    with pytest.raises(QuizNotFound):
        selectors.quiz_get_for_instructor(user=other_instructor, quiz_id=quiz.pk)


def test_quiz_create_can_make_a_draft(course: Course) -> None:
    """A quiz can be created unpublished (a draft students do not see)."""
    quiz = services.quiz_create(course=course, title="Draft", slots=[], is_published=False)
    assert quiz.is_published is False


def test_quiz_update_changes_settings(quiz: Quiz) -> None:
    """Every setting of the quiz is saved."""
    updated = services.quiz_update(
        quiz=quiz,
        title="Exam",
        description="**Read** carefully",
        mode=Quiz.Mode.EXAM,
        review=Quiz.Review.NEVER,
        time_limit=timedelta(minutes=20),
        max_attempts=2,
        shuffle=True,
        opens_at=None,
        closes_at=None,
        is_published=False,
    )
    quiz.refresh_from_db()
    assert (quiz.title, quiz.mode, quiz.review, quiz.max_attempts) == ("Exam", "exam", "never", 2)
    assert quiz.time_limit == timedelta(minutes=20)
    assert quiz.shuffle
    assert not quiz.is_published
    assert updated.pk == quiz.pk


def test_quiz_update_refuses_invalid_values_as_domain_error(quiz: Quiz) -> None:
    """A model-invalid value (an unknown mode) is a DomainError, not a crash."""
    with pytest.raises(DomainError):
        services.quiz_update(
            quiz=quiz,
            title="x",
            description="",
            mode="speedrun",
            review=Quiz.Review.NEVER,
            time_limit=None,
            max_attempts=None,
            shuffle=False,
            opens_at=None,
            closes_at=None,
            is_published=True,
        )


def test_quiz_slot_add_appends_at_the_end(quiz: Quiz) -> None:
    """A new slot takes the next position, with its family, difficulty and points."""
    slot = services.quiz_slot_add(quiz=quiz, family="ladder", difficulty="hard", points=3)
    assert (slot.position, slot.family, slot.difficulty, slot.points) == (4, "ladder", "hard", 3)


def test_quiz_slot_add_refuses_unknown_family(quiz: Quiz) -> None:
    """A family that does not exist is refused."""
    with pytest.raises(UnknownFamily):
        services.quiz_slot_add(quiz=quiz, family="nonsense", difficulty="easy")


def test_quiz_slot_update_changes_the_slot(quiz: Quiz) -> None:
    """A slot's family, difficulty and points can be changed."""
    slot = selectors.quiz_slots(quiz=quiz)[0]
    services.quiz_slot_update(slot=slot, family="rst", difficulty="hard", points=5)
    slot.refresh_from_db()
    assert (slot.family, slot.difficulty, slot.points) == ("rst", "hard", 5)


def test_quiz_slot_remove_closes_the_gap(quiz: Quiz) -> None:
    """Removing a slot moves the later ones up, so positions stay 1..n."""
    _first, second, third = selectors.quiz_slots(quiz=quiz)
    services.quiz_slot_update(slot=third, family="rst", difficulty="hard", points=1)
    services.quiz_slot_remove(slot=second)
    assert _positions(quiz) == [(1, "next_state"), (2, "rst")]


def test_quiz_slot_move_swaps_with_neighbour(quiz: Quiz) -> None:
    """Moving a slot down swaps it with the next one; at the end nothing moves."""
    services.quiz_slot_update(
        slot=selectors.quiz_slots(quiz=quiz)[0], family="rst", difficulty="easy", points=1
    )
    first = selectors.quiz_slots(quiz=quiz)[0]
    services.quiz_slot_move(slot=first, offset=1)
    assert _positions(quiz) == [(1, "next_state"), (2, "rst"), (3, "next_state")]
    last = selectors.quiz_slots(quiz=quiz)[-1]
    services.quiz_slot_move(slot=last, offset=1)
    assert [p for p, _ in _positions(quiz)] == [1, 2, 3]


def test_quiz_slot_get_refuses_slot_of_another_quiz(quiz: Quiz, course: Course) -> None:
    """A slot id of another quiz is not found through this quiz."""
    other = services.quiz_create(course=course, title="Other", slots=[("rst", "easy")])
    with pytest.raises(QuizSlotNotFound):
        selectors.quiz_slot_get(quiz=quiz, slot_id=other.slots.get().pk)


def test_course_join_code_regenerate_replaces_the_code(course: Course, outsider: User) -> None:
    """The new code lets students join; the old one no longer does."""
    old = course.join_code
    course = services.course_join_code_regenerate(course=course)
    assert course.join_code != old
    assert course.join_code.startswith("TCP-")
    with pytest.raises(DomainError):
        services.course_join(user=outsider, join_code=old)
    services.course_join(user=outsider, join_code=course.join_code)


def test_course_roster_lists_members_with_attempt_counts(
    course: Course, instructor: User, student: User, attempt: Attempt
) -> None:
    """The roster lists instructors first and counts each member's attempts in the course."""
    roster = list(selectors.course_roster(course=course))
    assert [(e.user.username, e.role) for e in roster] == [("ivy", "instructor"), ("alice", "student")]
    assert roster[1].attempt_count == 1  # type: ignore[attr-defined]


def test_quiz_results_scores_attempts_and_averages_slots(
    quiz: Quiz, attempt: Attempt, student: User, other_student: User
) -> None:
    """Results give each attempt's points and each slot's mean score over graded answers."""
    for position, choice in ((1, key_choice(attempt, 1)), (2, wrong_choice(attempt, 2))):
        answer, _created = services.answer_submit(
            user=student, attempt=attempt, position=position, response={"choice": choice}
        )
        grade_answer.delay(answer.pk)
    services.attempt_submit(user=student, attempt=attempt)
    services.attempt_start(user=other_student, quiz=quiz)

    results = selectors.quiz_results(quiz=quiz)
    by_user = {row.username: row for row in results.attempts}
    assert by_user["alice"].points_scored == 1.0
    assert by_user["alice"].points_total == 3
    assert by_user["alice"].percent == 33
    assert by_user["bob"].answered == 0
    assert [s.average for s in results.slots] == [1.0, 0.0, None]
    assert results.average_percent == 33  # only finished attempts count
    assert Answer.objects.filter(status=Answer.Status.GRADED).count() == 2


def test_family_list_has_every_family_with_kinds() -> None:
    """All 14 families are listed with their input kinds and the three difficulty levels."""
    families = selectors.family_list(lang="en")
    assert len(families) == 14
    ladder = next(f for f in families if f.name == "ladder")
    assert ladder.kinds == ("ladder",)
    assert ladder.difficulties == ("easy", "medium", "hard")


def test_family_preview_is_deterministic_by_seed() -> None:
    """The same seed gives the same variants; the count never exceeds the cap."""
    first = selectors.family_preview(name="next_state", n=4, difficulty="easy", seed=42)
    again = selectors.family_preview(name="next_state", n=4, difficulty="easy", seed=42)
    assert [v.canonical for v in first] == [v.canonical for v in again]
    assert len(first) == 4
    assert len(selectors.family_preview(name="rst", n=500, difficulty="easy", seed=1)) <= 20


def test_family_preview_refuses_unknown_family() -> None:
    """An unknown family is reported as such."""
    with pytest.raises(UnknownFamily):
        selectors.family_preview(name="nonsense", n=1, difficulty="easy", seed=1)


def test_variant_for_instructor_marks_key_and_misconceptions() -> None:
    """Every choice says whether it is the key and names the misconception behind it."""
    (variant,) = selectors.family_preview(name="rfc_vs_linux", n=1, difficulty="hard", seed=4)
    shown = selectors.variant_for_instructor(variant=variant, lang="zh-hans")
    keys = [c for c in shown["choices"] if c["is_key"]]
    assert len(keys) == 1
    assert keys[0]["id"] == variant.key["choice"]
    with_misconception = [c for c in shown["choices"] if c["misconception"]]
    assert with_misconception
    assert all(c["misconception"]["title"] for c in with_misconception)
    assert shown["explanation"] == variant.explanation["zh-hans"]


def test_variant_for_instructor_fills_ladder_blanks() -> None:
    """A ladder variant's key is shown as its rows with every blank filled in."""
    (variant,) = selectors.family_preview(name="ladder", n=1, difficulty="medium", seed=3)
    shown = selectors.variant_for_instructor(variant=variant, lang="en")
    blanks = [cell for row in shown["ladder"] for cell in row["cells"] if cell["is_blank"]]
    assert len(blanks) == len(variant.key["cells"])
    assert all(cell["value"] for cell in blanks)
