"""Question banks: a course's set of (family, difficulty) items; a quiz slot can draw one per attempt."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth.models import User
from django.test import Client

from questions import selectors, services
from questions.models import Course, Enrollment, QuestionBank, Quiz
from tcpquiz.errors import DomainError
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(course: Course) -> QuestionBank:
    bank = services.question_bank_create(course=course, title="Closing")
    services.bank_item_add(bank=bank, family="rst", difficulty="easy")
    services.bank_item_add(bank=bank, family="ladder", difficulty="hard")
    return bank


@pytest.fixture
def teacher(instructor: User) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def test_bank_item_add_refuses_duplicates(bank: QuestionBank) -> None:
    """The same family at the same difficulty cannot be added twice to a bank."""
    with pytest.raises(DomainError):
        services.bank_item_add(bank=bank, family="rst", difficulty="easy")


def test_quiz_slot_add_from_bank_refuses_other_course_bank(bank: QuestionBank) -> None:
    """A quiz cannot draw from a bank of another course."""
    other = services.course_create(title="Other", join_code="OTHER-2")
    quiz = services.quiz_create(course=other, title="Q", slots=[])
    with pytest.raises(DomainError):
        services.quiz_slot_add_from_bank(quiz=quiz, bank=bank)


def test_quiz_slot_add_from_bank_refuses_empty_bank(quiz: Quiz, course: Course) -> None:
    """An empty bank cannot back a slot."""
    empty = services.question_bank_create(course=course, title="Empty")
    with pytest.raises(DomainError):
        services.quiz_slot_add_from_bank(quiz=quiz, bank=empty)


def test_quiz_slot_draw_picks_bank_items(quiz: Quiz, bank: QuestionBank) -> None:
    """A bank slot draws one of the bank's items; over many draws, each of them."""
    slot = services.quiz_slot_add_from_bank(quiz=quiz, bank=bank, points=2)
    rng = random.Random(1)
    drawn = {services.quiz_slot_draw(slot=slot, rng=rng) for _ in range(40)}
    assert drawn == {("rst", "easy"), ("ladder", "hard")}


def test_attempt_questions_come_from_the_bank(quiz: Quiz, bank: QuestionBank, course: Course) -> None:
    """Attempts at a quiz with a bank slot get a variant of one of the bank's items at that position."""
    services.quiz_slot_add_from_bank(quiz=quiz, bank=bank, points=2)
    seen = set()
    for n in range(12):
        user = make_user(f"s{n}")
        services.course_join(user=user, join_code=course.join_code)
        attempt, _created = services.attempt_start(user=user, quiz=quiz)
        question = attempt.questions.get(position=4)
        seen.add((question.family, question.difficulty))
        assert question.points == 2
    assert seen <= {("rst", "easy"), ("ladder", "hard")}
    assert len(seen) == 2


def test_quiz_slot_without_bank_items_falls_back(quiz: Quiz, bank: QuestionBank) -> None:
    """If every item of its bank is removed, the slot draws its own family and difficulty."""
    slot = services.quiz_slot_add_from_bank(quiz=quiz, bank=bank)
    for item in list(bank.items.all()):
        services.bank_item_remove(item=item)
    assert services.quiz_slot_draw(slot=slot, rng=random.Random(0)) == (slot.family, slot.difficulty)


def test_bank_pages_create_and_fill_a_bank(teacher: Client, course: Course) -> None:
    """The course page creates a bank; its page adds and removes items."""
    response = teacher.post(f"/instructor/courses/{course.pk}/banks/", {"title": "Handshakes"})
    bank = QuestionBank.objects.get(title="Handshakes")
    assert response["Location"] == f"/instructor/banks/{bank.pk}/"
    teacher.post(f"/instructor/banks/{bank.pk}/items/", {"family": "next_state", "difficulty": "easy"})
    teacher.post(f"/instructor/banks/{bank.pk}/items/", {"family": "simultaneous", "difficulty": "hard"})
    assert bank.items.count() == 2
    page = teacher.get(f"/instructor/banks/{bank.pk}/").content.decode()
    assert "Simultaneous open and close" in page
    item = bank.items.first()
    assert item is not None
    teacher.post(f"/instructor/banks/{bank.pk}/items/{item.pk}/remove/")
    assert bank.items.count() == 1


def test_bank_item_duplicate_is_400(teacher: Client, bank: QuestionBank) -> None:
    """Adding an item the bank has is refused with a message."""
    response = teacher.post(f"/instructor/banks/{bank.pk}/items/", {"family": "rst", "difficulty": "easy"})
    assert response.status_code == 400
    assert "already has" in response.content.decode()


def test_quiz_editor_adds_a_bank_slot(teacher: Client, quiz: Quiz, bank: QuestionBank) -> None:
    """The quiz editor's bank form appends a slot drawing from the bank, shown with the bank's name."""
    response = teacher.post(
        f"/instructor/quizzes/{quiz.pk}/bank-slots/", {"bank": str(bank.pk), "points": "3"}
    )
    assert response.status_code == 302
    slot = selectors.quiz_slots(quiz=quiz)[-1]
    assert (slot.bank, slot.points) == (bank, 3)
    assert "Question bank: Closing" in teacher.get(f"/instructor/quizzes/{quiz.pk}/").content.decode()


def test_bank_of_another_course_is_404(bank: QuestionBank) -> None:
    """An instructor of another course cannot open or change this course's bank."""
    other = services.course_create(title="Other", join_code="OTHER-3")
    user = make_user("olga")
    services.enrollment_set_role(user=user, course=other, role=Enrollment.Role.INSTRUCTOR)
    client = Client()
    client.force_login(user)
    assert client.get(f"/instructor/banks/{bank.pk}/").status_code == 404
    response = client.post(f"/instructor/banks/{bank.pk}/items/", {"family": "rst", "difficulty": "hard"})
    assert response.status_code == 404
    assert bank.items.count() == 2
