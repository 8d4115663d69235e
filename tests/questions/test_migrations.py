"""Data migrations, run forwards and back on rows written by the schema before them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from questions.generators.registry import make_variant
from questions.models import choices_ordered
from questions.variant_store import variant_public_all, variant_to_json

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("questions", "0006_attemptquestion_lz4")]
AFTER = [("questions", "0007_storedvariant")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0006() -> Iterator[Any]:
    apps = _migrate(BEFORE)
    try:
        yield apps
    finally:
        _migrate(_migrate_latest())


def _migrate_latest() -> list[tuple[str, str]]:
    leaves: list[tuple[str, str]] = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return leaves


def test_0007_moves_each_question_variant_to_its_own_stored_row_and_back(at_0006: Any) -> None:
    """Every attempt question's payloads (a shuffled one's in its stored order) move to a
    StoredVariant of its own, unchanged; migrating back puts them back on the question."""
    apps = at_0006
    user = apps.get_model("auth", "User").objects.create(username="m", password="!")
    course = apps.get_model("questions", "Course").objects.create(title="C", join_code="MIG-1")
    quiz = apps.get_model("questions", "Quiz").objects.create(course=course, title="Q")
    attempt = apps.get_model("questions", "Attempt").objects.create(user=user, quiz=quiz, number=1)
    question_model = apps.get_model("questions", "AttemptQuestion")
    made = {}
    for position, family in enumerate(["which_event", "ladder", "next_state"], 1):
        variant = make_variant(family, 40 + position, "easy")
        public = variant_public_all(variant)
        if position == 3:
            public = choices_ordered(public, list(reversed(range(len(variant.choices)))))
        made[position] = (public, variant_to_json(variant))
        question_model.objects.create(
            attempt=attempt,
            position=position,
            family=family,
            seed=40 + position,
            difficulty="easy",
            engine_version=variant.engine_version,
            public=public,
            variant=variant_to_json(variant),
        )

    apps = _migrate(AFTER)
    moved = apps.get_model("questions", "AttemptQuestion").objects.select_related("stored")
    stored_ids = set()
    for question in moved.order_by("position"):
        public, whole = made[question.position]
        assert question.stored.public == public
        assert question.stored.variant == whole
        assert (question.stored.family, question.stored.seed) == (question.family, question.seed)
        assert question.choice_order is None
        stored_ids.add(question.stored_id)
    assert len(stored_ids) == 3

    apps = _migrate(BEFORE)
    back = apps.get_model("questions", "AttemptQuestion").objects.order_by("position")
    assert [(q.public, q.variant) for q in back] == [made[p] for p in (1, 2, 3)]
