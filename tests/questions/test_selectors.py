"""Selectors: who sees what, and when results may be reviewed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from questions import selectors, services
from questions.errors import AnswerNotFound, AttemptNotFound, QuizNotFound
from questions.models import Attempt, Course, Enrollment, Quiz
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db


def test_course_list_for_user_only_enrolled(student: User, outsider: User, course: Course) -> None:
    """A user sees the courses they are enrolled in, with their role; others see none."""
    courses = list(selectors.course_list_for_user(user=student))
    assert courses == [course]
    assert courses[0].role == Enrollment.Role.STUDENT  # type: ignore[attr-defined]
    assert not selectors.course_list_for_user(user=outsider).exists()
    assert not selectors.course_list_for_user(user=AnonymousUser()).exists()


def test_quiz_get_for_user_hidden_from_outsider(outsider: User, quiz: Quiz) -> None:
    """Only enrolled users see a course's quizzes."""
    with pytest.raises(QuizNotFound):
        selectors.quiz_get_for_user(user=outsider, quiz_id=quiz.pk)


def test_quiz_unpublished_seen_by_instructor_only(student: User, instructor: User, quiz: Quiz) -> None:
    """An unpublished quiz is visible to the course's instructors, not its students."""
    quiz.is_published = False
    quiz.save()
    assert selectors.quiz_get_for_user(user=instructor, quiz_id=quiz.pk) == quiz
    with pytest.raises(QuizNotFound):
        selectors.quiz_get_for_user(user=student, quiz_id=quiz.pk)


def test_attempt_get_for_user_hidden_from_others(
    other_student: User, instructor: User, attempt: Attempt
) -> None:
    """A student's attempt is not found for anybody else."""
    for user in (other_student, instructor, AnonymousUser()):
        with pytest.raises(AttemptNotFound):
            selectors.attempt_get_for_user(user=user, attempt_id=attempt.pk)


def test_answer_get_for_user_hidden_from_others(student: User, other_student: User, attempt: Attempt) -> None:
    """An answer is not found for anybody but its author."""
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})
    with pytest.raises(AnswerNotFound):
        selectors.answer_get_for_user(user=other_student, answer_id=answer.pk)


def test_attempt_review_practice_immediate(attempt: Attempt) -> None:
    """In practice mode with review after_submit, results show while the attempt is open."""
    assert selectors.attempt_review_allowed(attempt=attempt)


def test_attempt_review_exam_waits_for_submit(student: User, quiz: Quiz) -> None:
    """In exam mode with review after_submit, results show only once the attempt is closed."""
    quiz.mode = Quiz.Mode.EXAM
    quiz.save()
    attempt, _ = services.attempt_start(user=student, quiz=quiz)
    assert not selectors.attempt_review_allowed(attempt=attempt)
    attempt = services.attempt_submit(user=student, attempt=attempt)
    assert selectors.attempt_review_allowed(attempt=attempt)


def test_attempt_review_after_close_and_never(student: User, quiz: Quiz) -> None:
    """after_close waits for the quiz's closing time; never means never."""
    now = timezone.now()
    quiz.review = Quiz.Review.AFTER_CLOSE
    quiz.closes_at = now + timedelta(hours=1)
    quiz.save()
    attempt, _ = services.attempt_start(user=student, quiz=quiz)
    assert not selectors.attempt_review_allowed(attempt=attempt, now=now)
    assert selectors.attempt_review_allowed(attempt=attempt, now=now + timedelta(hours=2))
    attempt.quiz.review = Quiz.Review.NEVER
    assert not selectors.attempt_review_allowed(attempt=attempt, now=now + timedelta(hours=2))


def test_attempt_progress_counts(student: User, attempt: Attempt) -> None:
    """Progress counts answered, pending and graded questions and the points scored."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    services.answer_submit(
        user=student, attempt=attempt, position=2, response={"choice": key_choice(attempt, 2)}
    )
    services.answer_grade(answer_id=answer.pk)
    progress = selectors.attempt_progress(attempt=attempt)
    assert (progress.total, progress.answered, progress.graded, progress.pending) == (3, 2, 1, 1)
    assert progress.points_scored == 1.0


def test_answer_result_in_both_languages(student: User, attempt: Attempt) -> None:
    """A graded answer's result carries the explanation and key text in the asked language."""
    answer, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    answer = services.answer_grade(answer_id=answer.pk)
    english = selectors.answer_result(answer=answer, lang="en")
    chinese = selectors.answer_result(answer=answer, lang="zh-hans")
    assert english is not None
    assert chinese is not None
    assert english.correct
    assert english.explanation
    assert chinese.explanation
    assert english.explanation != chinese.explanation
    assert english.key_text == english.chosen_text


def test_answer_result_none_while_pending(student: User, attempt: Attempt) -> None:
    """No result exists before grading."""
    answer, _ = services.answer_submit(user=student, attempt=attempt, position=1, response={"choice": "a"})
    assert selectors.answer_result(answer=answer, lang="en") is None
