"""The two requests of an exam-start storm (start an attempt, submit an answer): what they return,
how many queries they make, and that a concurrent duplicate is resolved by the constraints.

Speed itself is measured by ``python -m bench.storm``, not here; the query counts keep the hot paths
from quietly growing a query per question or per request (a deferred column read late, say).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from questions import api as api_module
from questions import selectors, services
from questions.engine import ENGINE_VERSION
from questions.generators.diagrams import state_diagrams
from questions.generators.registry import families
from questions.models import Attempt, Course, Quiz
from questions.serializers import AttemptDetailSerializer
from tests.conftest import key_choice, wrong_choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_quiz(course: Course) -> Quiz:
    """A question with the shared state diagram (which_event) and one with its own (ladder)."""
    return services.quiz_create(
        course=course,
        title="Mixed",
        slots=[("which_event", "easy"), ("ladder", "easy"), ("next_state", "easy")],
    )


def _writes(queries: list[dict[str, Any]]) -> list[str]:
    """The writing statements, by kind; a WITH that inserts (insert_with_children) counts as its
    INSERTs."""
    kinds = []
    for q in queries:
        first = q["sql"].split()[0].upper()
        if first == "WITH":
            kinds += ["INSERT"] * q["sql"].upper().count("INSERT INTO")
        elif first in {"INSERT", "UPDATE", "DELETE"}:
            kinds.append(first)
    return kinds


def test_start_links_the_shared_diagram_and_inlines_its_own(api: APIClient, mixed_quiz: Quiz) -> None:
    """The plain state diagram is a link (diagram_url), a question's own diagram stays inline."""
    for lang in ("en", "zh-hans"):
        if lang == "zh-hans":
            api.post(f"/api/v1/attempts/{Attempt.objects.get().pk}/submit/")
        body = api.post(f"/api/v1/quizzes/{mixed_quiz.pk}/attempts/?lang={lang}").json()
        by_family = {q["family"]: q for q in body["questions"]}
        shared = by_family["which_event"]
        assert shared["diagram_svg"] is None
        assert shared["diagram_url"] == f"/diagrams/state/{lang}.svg?v={ENGINE_VERSION}"
        own = by_family["ladder"]
        assert own["diagram_url"] is None
        assert own["diagram_svg"] is None or own["diagram_svg"].startswith("<svg")
        assert by_family["next_state"]["diagram_svg"] is None
        assert by_family["next_state"]["diagram_url"] is None
        # The same attempt read back says the same.
        again = api.get(f"/api/v1/attempts/{body['id']}/questions/", {"lang": lang}).json()
        assert {q["family"]: (q["diagram_svg"], q["diagram_url"]) for q in again} == {
            f: (q["diagram_svg"], q["diagram_url"]) for f, q in by_family.items()
        }


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_shared_diagram_is_served_to_anyone_and_cacheable(client: Any, lang: str) -> None:
    response = client.get(f"/diagrams/state/{lang}.svg", {"v": ENGINE_VERSION})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response.content.decode() == state_diagrams()[lang]
    assert "public" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/diagrams/state/fr.svg", "/diagrams/ladder/en.svg"])
def test_unknown_diagram_404(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


def test_start_query_count(api: APIClient, quiz: Quiz) -> None:
    """Starting reads the quiz (with the viewer's role), the earlier attempts and its slots in one
    query, then writes the variants it made (no pools here), the attempt and its questions in one INSERT each:
    whatever the number of questions. On PostgreSQL the attempt and its questions go in one statement.
    (With pools, the variants are written already: see test_variant_pool.)"""
    with CaptureQueriesContext(connection) as captured:
        response = api.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
    assert response.status_code == 201
    assert _writes(captured.captured_queries) == ["INSERT", "INSERT", "INSERT"]
    kinds = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    assert kinds.count("WITH") == (1 if connection.vendor == "postgresql" else 0)
    # Auth (session, user), then one read (the quiz with attempts and slots) and the writes.
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))
    ]
    reads = [sql for sql in statements if sql.upper().startswith("SELECT")]
    assert len(reads) == 3, reads
    assert reads[2].startswith('SELECT "questions_quiz"')
    assert '"questions_quizslot"' in reads[2]
    assert '"questions_attempt"' in reads[2]
    writes = len(statements) - len(reads)
    assert writes == (2 if connection.vendor == "postgresql" else 3), statements


def test_submit_query_count(api: APIClient, attempt: Attempt) -> None:
    """Submitting reads the question with its attempt, quiz, answer, draft and key use in one query,
    then inserts the answer: the stored variant and public payload are never read."""
    body = {"question": 1, "response": {"choice": key_choice(attempt, 1)}}
    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            f"/api/v1/attempts/{attempt.pk}/answers/",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
    assert response.status_code == 201, response.content
    assert _writes(captured.captured_queries) == ["INSERT"]
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("SELECT")]
    question_reads = [sql for sql in reads if "questions_attemptquestion" in sql]
    assert len(question_reads) == 1
    selected = question_reads[0].split(" FROM ")[0]
    assert '"public"' not in selected
    assert (
        '"variant"' not in selected.replace("variant_kind", "").replace("variant_choices", "").split(",")[0]
    )


def test_answer_grade_reads_the_variant_with_the_answer(student: Any, attempt: Attempt) -> None:
    """The careful grading path locks the answer and reads its stored variant in one query, not in a
    second one through the question."""
    answer, _created = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    with CaptureQueriesContext(connection) as captured:
        graded = services.answer_grade(answer_id=answer.pk)
    assert graded.score == 1.0
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("SELECT")]
    assert not [sql for sql in reads if sql.split(" FROM ")[1].startswith('"questions_storedvariant"')]


def test_attempt_detail_data_is_what_the_serializer_gives(api: APIClient, course: Course) -> None:
    """The start and attempt responses hand the questions over as ``question_payload`` built them, not
    through ``QuestionSerializer``: for every family, in both languages, with an answer and a draft,
    that is exactly what the serializer would have given."""
    everything = services.quiz_create(
        course=course, title="All", slots=[(name, "medium") for name in families()]
    )
    attempt_id = api.post(f"/api/v1/quizzes/{everything.pk}/attempts/").json()["id"]
    api.put(
        f"/api/v1/attempts/{attempt_id}/questions/2/draft/",
        data=json.dumps({"response": {"choice": "x"}}),
        content_type="application/json",
    )
    answered = api.post(
        f"/api/v1/attempts/{attempt_id}/answers/",
        data=json.dumps({"question": 1, "response": {"choice": key_choice(Attempt.objects.get(), 1)}}),
        content_type="application/json",
    )
    assert answered.status_code == 201, answered.content
    for lang in ("en", "zh-hans"):
        attempt = Attempt.objects.get(pk=attempt_id)
        questions = selectors.attempt_questions_full(attempt=attempt, with_variant=False)
        fast = api_module.attempt_detail_data(attempt, questions, lang)
        body = api_module.attempt_payload(attempt, questions) | {
            "questions": [api_module.question_payload(q, lang) for q in questions]
        }
        assert json.loads(json.dumps(fast, default=str)) == json.loads(
            json.dumps(AttemptDetailSerializer(body).data, default=str)
        )
        assert fast["questions"][0]["answer"] is not None
        assert fast["questions"][1]["draft"] == {"choice": "x"}
        listed = api.get(f"/api/v1/attempts/{attempt_id}/questions/?lang={lang}").json()
        assert listed == json.loads(json.dumps(fast["questions"]))


def test_represent_is_what_a_fresh_serializer_gives(student: Any, attempt: Attempt, course: Course) -> None:
    """``represent`` (one serializer instance per process) gives what ``Serializer(payload).data`` does:
    for an attempt, a pending answer and, in practice (results shown), a wrong answer graded with its
    feedback, misconception, key and explanation, in both languages; then the same again."""
    from django.utils import translation

    from questions.serializers import AnswerSerializer, AttemptSerializer, represent
    from tests.questions.student_helpers import practice_create

    pending, _ = services.answer_submit(
        user=student, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    practice, _ = services.attempt_start(user=student, quiz=practice_create(course))
    single = practice.questions.get(family="next_state").position
    wrong, _ = services.answer_submit(
        user=student, attempt=practice, position=single, response={"choice": wrong_choice(practice, single)}
    )
    graded = services.answer_grade(answer_id=wrong.pk)
    assert graded.status == "graded"
    for lang in ("en", "zh-hans", "en"):
        with translation.override(lang):
            for answer in (pending, graded):
                answer = selectors.answer_get_for_user(user=student, answer_id=answer.pk)
                payload = api_module.answer_payload(answer, lang)
                assert represent(AnswerSerializer, payload) == AnswerSerializer(payload).data
            summary = api_module.attempt_payload(attempt)
            assert represent(AttemptSerializer, summary) == AttemptSerializer(summary).data
    shown = represent(AnswerSerializer, api_module.answer_payload(graded, "en"))
    assert shown["result"] is not None


def test_retrying_on_conflict_runs_again_then_gives_up() -> None:
    """A unique-constraint conflict (a concurrent request committed first) runs the work again, in a
    fresh transaction; a conflict that persists is raised, not swallowed."""
    calls: list[int] = []

    def conflict_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("UNIQUE constraint failed")
        return "second time"

    assert services._retrying_on_conflict(conflict_once) == "second time"
    assert len(calls) == 2

    def always() -> None:
        calls.append(1)
        raise IntegrityError("UNIQUE constraint failed")

    calls.clear()
    with pytest.raises(IntegrityError):
        services._retrying_on_conflict(always, tries=3)
    assert len(calls) == 3
