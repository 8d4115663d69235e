"""Helpers of the student-mode tests: an exam over every input kind, and correct answers as posted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from questions import services
from questions.models import AttemptQuestion, Course, Quiz

# One family per input kind (and the plain single-choice one).
KIND_FAMILIES: tuple[tuple[str, str], ...] = (
    ("next_state", "easy"),
    ("concepts", "medium"),
    ("state_sequence", "medium"),
    ("seq_ack", "easy"),
    ("ladder", "medium"),
    ("trace_validity", "medium"),
)


def exam_create(course: Course, **overrides: Any) -> Quiz:
    options: dict[str, Any] = {
        "course": course,
        "title": "Midterm",
        "slots": KIND_FAMILIES,
        "mode": Quiz.Mode.EXAM,
        "review": Quiz.Review.AFTER_SUBMIT,
        "time_limit": timedelta(minutes=15),
        "max_attempts": 2,
        "shuffle": True,
    }
    options.update(overrides)
    return services.quiz_create(**options)


def practice_create(course: Course) -> Quiz:
    return services.quiz_create(course=course, title="Drill", slots=KIND_FAMILIES, mode=Quiz.Mode.PRACTICE)


def key_form(question: AttemptQuestion) -> dict[str, Any]:
    """The correct answer to ``question`` as its HTML form posts it."""
    key = question.variant["key"]
    kind = question.variant["kind"]
    if kind == "single":
        return {"choice": key["choice"]}
    if kind == "multiple":
        return {"choices": key["choices"]}
    if kind == "order":
        return {"order": key["order"]}
    if kind == "numeric":
        return {f"v-{name}": str(value) for name, value in key["values"].items()}
    if kind == "ladder":
        form: dict[str, Any] = {}
        for cell, value in key["cells"].items():
            form[f"c-{cell}"] = str(value).split("+") if cell.endswith(".flags") else str(value)
        return form
    return {"step": "valid" if key["step"] is None else str(key["step"])}
