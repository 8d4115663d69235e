"""questions.compiled: a hot read compiled once per connection gives what the ORM gives, in one query."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from questions import selectors, services
from questions.compiled import CompiledRead, unsaved
from questions.errors import QuizNotFound
from questions.models import Attempt, AttemptQuestion, Course, Quiz
from tests.conftest import key_choice

pytestmark = pytest.mark.django_db


def _fields(obj: Model | None) -> dict[str, Any] | None:
    """A model's loaded column values (what from_db set), for comparing two loads of one row."""
    if obj is None:
        return None
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _loaded(question: AttemptQuestion | None) -> list[dict[str, Any] | None]:
    """The question and everything the read loads with it, as plain values."""
    if question is None:
        return [None]
    return [
        _fields(question),
        _fields(question.attempt),
        _fields(question.attempt.quiz),
        _fields(getattr(question, "answer", None)),
        _fields(getattr(question, "draft", None)),
    ]


def _both(read: CompiledRead[AttemptQuestion], **values: Any) -> tuple[Any, Any]:
    """(compiled, ORM) results of ``read`` for ``values``, each in a transaction as the submit has it."""
    with transaction.atomic():
        compiled = read.first(**values)
        compiled_loaded = _loaded(compiled)
    with transaction.atomic():
        orm = next(iter(read.build(**values)), None)
        orm_loaded = _loaded(orm)
    return compiled_loaded, orm_loaded


def test_compiled_submit_read_equals_the_orm_in_every_case(student: User, attempt: Attempt) -> None:
    """No answer or draft; a draft; an answer; the key unused, used for this question and for another;
    a question that does not exist; someone else's attempt: the compiled read loads the same rows,
    relations and annotations as the ORM does."""
    services.draft_save(user=student, attempt=attempt, position=2, response={"choice": "x"})
    services.answer_submit(
        user=student,
        attempt=attempt,
        position=3,
        response={"choice": key_choice(attempt, 3)},
        idempotency_key="used-for-3",
    )
    keyed = plain = services._QUESTION_FOR_ANSWER  # the key given or not: two shapes, compiled apart
    base = {"attempt_id": attempt.pk, "user_id": student.pk}
    cases: list[tuple[CompiledRead[AttemptQuestion], dict[str, Any]]] = [
        (plain, {**base, "position": 1}),
        (plain, {**base, "position": 2}),
        (plain, {**base, "position": 3}),
        (plain, {**base, "position": 99}),
        (plain, {**base, "user_id": student.pk + 1000, "position": 1}),
        (keyed, {**base, "position": 1, "idempotency_key": "new-key"}),
        (keyed, {**base, "position": 3, "idempotency_key": "used-for-3"}),
        (keyed, {**base, "position": 1, "idempotency_key": "used-for-3"}),
        (keyed, {**base, "position": 2, "idempotency_key": "new-key"}),
    ]
    seen = []
    for read, values in cases:
        compiled, orm = _both(read, **values)
        assert compiled == orm, values
        seen.append(compiled)
    # The cases did load what they are about (the comparison is not between two Nones).
    assert seen[1][4] is not None
    assert seen[1][3] is None
    assert seen[2][3] is not None  # the answer
    assert seen[3] == [None]
    assert seen[4] == [None]
    assert seen[6][0]["key_position"] == 3
    assert seen[7][0]["key_position"] == 3
    assert seen[5][0]["key_position"] is None
    assert seen[0][0]["variant_kind"] == "single"
    assert seen[0][0]["variant_choices"]


def test_compiled_read_compiles_once_per_connection_and_runs_one_query(
    student: User, attempt: Attempt
) -> None:
    """After the first run on a connection, a run builds no queryset and makes exactly one query."""
    built: list[dict[str, Any]] = []

    def build(**values: Any) -> QuerySet[AttemptQuestion]:
        built.append(values)
        return services._question_for_answer_query(**values)

    read = CompiledRead("test-once", build)
    with transaction.atomic():
        first = read.first(attempt_id=attempt.pk, user_id=student.pk, position=1)
    assert first is not None
    assert len(built) == 2
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        second = read.first(attempt_id=attempt.pk, user_id=student.pk, position=2)
        assert second is not None
        assert second.position == 2
        assert second.attempt.quiz.pk == attempt.quiz_id  # loaded with it: no query
    assert len(built) == 2
    assert len(queries.captured_queries) == 1


def test_compiled_read_of_values_lists(student: User, attempt: Attempt) -> None:
    """Flat and tuple values lists come back as the ORM returns them, converters applied."""
    flat = CompiledRead(
        "test-flat",
        lambda attempt_id: (
            AttemptQuestion.objects.filter(attempt_id=attempt_id)
            .order_by("position")
            .values_list("position", flat=True)
        ),
    )
    pairs = CompiledRead(
        "test-pairs",
        lambda user_id: (
            Attempt.objects.filter(user_id=user_id).order_by().values_list("status", "started_at")
        ),
    )
    assert flat.rows(attempt_id=attempt.pk) == [1, 2, 3]
    assert flat.rows(attempt_id=attempt.pk + 1000) == []
    assert pairs.rows(user_id=student.pk) == list(
        Attempt.objects.filter(user_id=student.pk).order_by().values_list("status", "started_at")
    )


def test_compiled_read_falls_back_to_the_orm_for_a_transformed_value(student: User) -> None:
    """A value the ORM rewrites on its way into the parameters (``contains`` wraps it in %) cannot be
    bound into compiled SQL: the read runs through the ORM every time, with the right result."""
    built: list[str] = []

    def build(fragment: str) -> QuerySet[User]:
        built.append(fragment)
        return User.objects.filter(username__contains=fragment).order_by("pk")

    read = CompiledRead("test-contains", build)
    assert [u.pk for u in read.rows(fragment=student.username[1:3])] == [student.pk]
    assert read.rows(fragment="no-such-name") == []
    assert built[-1] == "no-such-name"  # built again for the second run: not compiled


def test_compiled_read_refuses_other_value_types(student: User) -> None:
    read = CompiledRead("test-types", lambda flag: User.objects.filter(is_active=flag))
    with pytest.raises(TypeError, match="int and str"):
        read.rows(flag=True)


def test_compiled_quiz_read_equals_the_orm(
    student: User, instructor: User, outsider: User, quiz: Quiz, course: Course
) -> None:
    """The quiz read of a quiz page (with its slot count) and of a start (without it, with the earlier
    attempts and the slots), for a student, an instructor (who also sees an unpublished quiz) and an
    outsider: the same as the ORM's."""
    hidden = services.quiz_create(course=course, title="Draft", slots=[("next_state", "easy")])
    Quiz.objects.filter(pk=hidden.pk).update(is_published=False)
    for user in (student, instructor, outsider):
        for target in (quiz, hidden):
            for with_count in (True, False):
                read = selectors._QUIZ_FOR_USER if with_count else selectors._QUIZ_FOR_START
                compiled = read.first(user_id=user.pk, quiz_id=target.pk)
                orm = (
                    selectors._visible_quizzes(user).filter(pk=target.pk).first()
                    if with_count
                    else next(iter(selectors._quiz_for_start_query(user.pk, target.pk)), None)
                )
                assert _fields(compiled) == _fields(orm)
                if compiled is not None and orm is not None:
                    assert _fields(compiled.course) == _fields(orm.course)
    assert selectors._QUIZ_FOR_USER.first(user_id=instructor.pk, quiz_id=hidden.pk) is not None
    assert selectors._QUIZ_FOR_USER.first(user_id=student.pk, quiz_id=hidden.pk) is None
    shown = selectors._QUIZ_FOR_USER.first(user_id=student.pk, quiz_id=quiz.pk)
    assert shown is not None
    assert shown.slot_count == 3  # type: ignore[attr-defined]
    assert shown.viewer_role == "student"  # type: ignore[attr-defined]


def test_compiled_start_reads_equal_the_orm(
    student: User, outsider: User, attempt: Attempt, quiz: Quiz, course: Course
) -> None:
    """The start's one read brings the student's earlier attempts and the quiz's slots in order, as
    the ORM reads them (the attempts also as the read a retried start makes); a quiz with neither
    gives empty lists; the quiz of another course is not found."""
    services.attempt_submit(user=student, attempt=attempt)
    services.attempt_start(user=student, quiz=quiz)
    orm_earlier = sorted(Attempt.objects.filter(user=student, quiz=quiz).values_list("status", "number"))
    assert sorted(number for _status, number in orm_earlier) == [1, 2]
    services.quiz_slot_move(slot=quiz.slots.order_by("position")[0], offset=1)  # positions change
    read = selectors.quiz_for_start(user=student, quiz_id=quiz.pk)
    assert read.quiz.pk == quiz.pk
    assert sorted(read.earlier) == orm_earlier
    assert sorted(services._attempts_earlier(student, quiz)) == orm_earlier
    slots = quiz.slots.order_by("position")
    assert read.slots == [
        selectors.SlotRow(s.pk, s.position, s.family, s.difficulty, s.points, s.bank_id) for s in slots
    ]
    assert [type(value) for value in read.slots[0]] == [int, int, str, str, int, type(None)]

    empty = services.quiz_create(course=course, title="Empty", slots=[])
    assert selectors.quiz_for_start(user=student, quiz_id=empty.pk).earlier == []
    assert selectors.quiz_for_start(user=student, quiz_id=empty.pk).slots == []
    with pytest.raises(QuizNotFound):
        selectors.quiz_for_start(user=outsider, quiz_id=quiz.pk)


def test_update_rows_writes_each_row_as_save_would(student: User, attempt: Attempt) -> None:
    """Each row gets its own values, JSON and timestamps included, read back as ``Model.save`` would
    have stored them; rows not named are untouched; one statement per row, no other query."""
    from django.utils import timezone

    from questions.compiled import update_rows
    from questions.models import Answer

    answers = [
        services.answer_submit(
            user=student, attempt=attempt, position=p, response={"choice": key_choice(attempt, p)}
        )[0]
        for p in (1, 2, 3)
    ]
    when = timezone.now()
    rows = [
        (
            answers[0].pk,
            {
                "status": "graded",
                "score": 1.0,
                "feedback": {"en": "ok", "n": [1, 2]},
                "format_error": None,
                "graded_at": when,
                "grading_attempts": 1,
            },
        ),
        (
            answers[1].pk,
            {
                "status": "graded",
                "score": 0.0,
                "feedback": {},
                "format_error": {"en": "bad", "zh": "错"},
                "graded_at": when,
                "grading_attempts": 2,
            },
        ),
    ]
    names = ["status", "score", "feedback", "format_error", "graded_at", "grading_attempts"]
    with CaptureQueriesContext(connection) as queries:
        written = update_rows(Answer, names, rows)
    assert written == 2
    assert len(queries) == 1  # the one statement, run for each row
    first, second, third = (Answer.objects.get(pk=a.pk) for a in answers)
    assert (first.status, first.score, first.feedback, first.format_error, first.graded_at) == (
        "graded",
        1.0,
        {"en": "ok", "n": [1, 2]},
        None,
        when,
    )
    assert first.grading_attempts == 1
    assert (second.score, second.feedback, second.format_error, second.grading_attempts) == (
        0.0,
        {},
        {"en": "bad", "zh": "错"},
        2,
    )
    assert (third.status, third.score, third.graded_at) == ("pending", None, None)
    assert update_rows(Answer, names, []) == 0
    with pytest.raises(TypeError):
        update_rows(Course, ["quizzes"], [(1, {"quizzes": []})])  # a relation, not a column


def test_insert_rows_writes_rows_as_bulk_create_would(student: User, attempt: Attempt) -> None:
    """One row and many: each instance gets its primary key and is marked saved, and every column
    reads back as written (JSON, null and an empty list included); one statement per call."""
    from questions.compiled import insert_rows

    other = Attempt(
        user=student,
        quiz=attempt.quiz,
        number=7,
        status=Attempt.Status.SUBMITTED,
        started_at=timezone.now(),
        submitted_at=timezone.now(),
    )
    with CaptureQueriesContext(connection) as queries:
        insert_rows([other])
    assert len(queries) == 1
    assert other.pk is not None
    assert not other._state.adding
    assert Attempt.objects.get(pk=other.pk).number == 7
    # The fixture attempt's questions make way (their stored variants are one-to-one) for new rows.
    old = list(AttemptQuestion.objects.filter(attempt=attempt).order_by("position"))
    AttemptQuestion.objects.filter(attempt=attempt).delete()
    questions = [
        AttemptQuestion(
            attempt=attempt,
            slot_id=question.slot_id,
            position=question.position,
            family="next_state",
            seed=2**40 + question.position,  # a bigint
            difficulty="easy",
            engine_version="1",
            points=question.position,
            stored_id=question.stored_id,
            choice_order=[[2, 0, 1], None, []][question.position - 1],
        )
        for question in old
    ]
    connection._compiled_inserts = {}  # type: ignore[attr-defined]  # this connection's SQL made anew
    with CaptureQueriesContext(connection) as queries:
        insert_rows(questions[:1])  # one row first, then several of the same model: two shapes
        insert_rows(questions[1:])
    assert len(queries) == 2
    read = {q.pk: q for q in AttemptQuestion.objects.filter(attempt=attempt)}
    assert sorted(read) == sorted(q.pk for q in questions)
    assert len(read) == 3
    for written in questions:
        again = read[written.pk]
        assert (again.position, again.seed, again.points, again.stored_id, again.slot_id) == (
            written.position,
            written.seed,
            written.points,
            written.stored_id,
            written.slot_id,
        )
        assert again.choice_order == written.choice_order
    insert_rows([])  # nothing to do


def test_insert_rows_falls_back_to_bulk_create_for_an_expression(student: User, quiz: Quiz) -> None:
    """A value that is an expression (here a function of the database) goes through bulk_create."""
    from django.db.models.functions import Now

    from questions.compiled import insert_rows

    attempt = Attempt(user=student, quiz=quiz, number=8, started_at=Now())
    with CaptureQueriesContext(connection) as queries:
        insert_rows([attempt])
    assert Attempt.objects.get(pk=attempt.pk).started_at is not None
    # bulk_create compiled the expression into the statement (insert_rows sends only parameters).
    # PostgreSQL: STATEMENT_TIMESTAMP(); SQLite: STRFTIME(..., 'NOW').
    sql = queries.captured_queries[-1]["sql"].upper()
    assert "STATEMENT_TIMESTAMP()" in sql or "'NOW'" in sql


def _children_of(attempt: Attempt) -> list[AttemptQuestion]:
    """New questions for ``attempt``'s slots and stored variants, its own deleted to make way (a stored
    variant belongs to one question), and not linked to any attempt yet."""
    old = list(AttemptQuestion.objects.filter(attempt=attempt).order_by("position"))
    AttemptQuestion.objects.filter(attempt=attempt).delete()
    return _children([(q.slot_id, q.position, q.stored_id) for q in old])


def _children(rows: list[tuple[int | None, int, int]]) -> list[AttemptQuestion]:
    """Unsaved questions of ``(slot, position, stored variant)``, with no attempt yet."""
    return [
        AttemptQuestion(
            slot_id=slot,
            position=position,
            family="next_state",
            seed=2**40 + position,  # a bigint
            difficulty="easy",
            engine_version="1",
            points=position,
            stored_id=stored,
            choice_order=[[2, 0, 1], None, []][position - 1],
        )
        for slot, position, stored in rows
    ]


def _assert_one_statement_on_postgresql(queries: CaptureQueriesContext) -> None:
    """A parent and its children written as one statement on PostgreSQL (nothing else: no BEGIN or
    COMMIT), as two INSERTs elsewhere."""
    writes = [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "WITH"))
    ]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 2)
    if connection.vendor == "postgresql":
        assert len(queries) == 1


def _finished(student: User, attempt: Attempt, number: int) -> Attempt:
    """An unsaved submitted attempt at ``attempt``'s quiz (the fixture's is the one open attempt)."""
    now = timezone.now()
    return Attempt(
        user=student,
        quiz=attempt.quiz,
        number=number,
        status=Attempt.Status.SUBMITTED,
        started_at=now,
        submitted_at=now,
    )


def test_insert_with_children_writes_a_parent_and_its_children(student: User, attempt: Attempt) -> None:
    """Every row gets its key, the children their parent, and reads back as written. On PostgreSQL it is
    one statement; elsewhere two INSERTs."""
    from questions.compiled import insert_with_children

    children = _children_of(attempt)
    parent = _finished(student, attempt, 7)
    connection._compiled_families = {}  # type: ignore[attr-defined]  # this connection's SQL made anew
    with CaptureQueriesContext(connection) as queries:
        insert_with_children(parent, children, "attempt")
    _assert_one_statement_on_postgresql(queries)
    assert parent.pk is not None
    assert not parent._state.adding
    assert Attempt.objects.get(pk=parent.pk).number == 7
    read = {q.pk: q for q in AttemptQuestion.objects.filter(attempt_id=parent.pk)}
    assert sorted(read) == sorted(child.pk for child in children)
    for child in children:
        assert child.attempt is parent
        assert child.attempt_id == parent.pk
        assert not child._state.adding
        again = read[child.pk]  # the key given back is this child's row (the order kept)
        assert (again.position, again.seed, again.points, again.stored_id, again.slot_id) == (
            child.position,
            child.seed,
            child.points,
            child.stored_id,
            child.slot_id,
        )
        assert again.choice_order == child.choice_order
    # The same shape again reuses the statement made for this connection.
    if connection.vendor == "postgresql":
        assert len(connection._compiled_families) == 1  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_insert_with_children_is_all_or_none(student: User, attempt: Attempt) -> None:
    """Outside any transaction (as a start runs): a child that breaks a constraint (a stored variant
    that does not exist) leaves no parent and no child behind."""
    from django.db import IntegrityError

    from questions.compiled import insert_with_children

    children = _children_of(attempt)
    rows = [(child.slot_id, child.position, child.stored_id) for child in children]
    children[-1].stored_id = 2**31 - 1
    parent = _finished(student, attempt, 8)
    assert not connection.in_atomic_block
    with pytest.raises(IntegrityError):
        insert_with_children(parent, children, "attempt")
    assert not Attempt.objects.filter(number=8).exists()
    assert not AttemptQuestion.objects.filter(attempt__number=8).exists()
    assert AttemptQuestion.objects.count() == 0
    # And with every value right, the same call writes them all.
    children = _children(rows)
    parent = _finished(student, attempt, 8)
    insert_with_children(parent, children, "attempt")
    assert AttemptQuestion.objects.filter(attempt=parent).count() == len(children) == 3


def test_insert_with_children_falls_back_for_an_expression(student: User, attempt: Attempt) -> None:
    """A parent value that is an expression goes through bulk_create, in a transaction, children after."""
    from django.db.models.functions import Now

    from questions.compiled import insert_with_children

    children = _children_of(attempt)
    parent = _finished(student, attempt, 9)
    parent.started_at = Now()
    insert_with_children(parent, children, "attempt")
    assert Attempt.objects.get(pk=parent.pk).started_at is not None
    assert AttemptQuestion.objects.filter(attempt=parent).count() == 3


def test_insert_values_prepared_as_django_prepares_them(attempt: Attempt) -> None:
    """The shortcut for stock str and int fields gives what each field's ``get_db_prep_save`` gives
    (on PostgreSQL, the same adapted integer types), for every row of a start; a field class that
    changes any step of the preparation is not taken for a stock one."""
    from django.db.models import CharField, IntegerField

    from questions.compiled import _insert_shape, _preparers

    questions = [
        AttemptQuestion(**{f.attname: getattr(q, f.attname) for f in AttemptQuestion._meta.concrete_fields})
        for q in attempt.questions.all()
    ]
    for q in questions:
        q.pk = None
    shape = _insert_shape(questions, connection, unnest=True)
    assert shape is not None
    fields, params = shape
    expected = [f.get_db_prep_save(f.pre_save(q, True), connection) for q in questions for f in fields]
    assert [(type(v), v) for v in params] == [(type(v), v) for v in expected]
    kinds = {field.name: kind for field, _plain, kind in _preparers(connection, fields)}
    assert [(kinds[name] or (None,))[0] for name in ("family", "position", "seed")] == [str, int, int]
    assert kinds["choice_order"] is None  # JSON goes the whole way

    class Upper(CharField):  # type: ignore[type-arg]
        def get_prep_value(self, value: Any) -> Any:
            return str(value).upper()

    class Doubled(IntegerField):  # type: ignore[type-arg]
        def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
            return 2 * value

    odd = [Upper(max_length=8), Doubled()]
    for number, field in enumerate(odd):
        field.set_attributes_from_name(f"odd_{number}")
    assert [kind for _field, _plain, kind in _preparers(connection, odd)] == [None, None]


def _field_values(obj: Model) -> dict[str, Any]:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


def test_unsaved_builds_what_the_keyword_constructor_builds() -> None:
    """``unsaved`` (positional, as Django builds a row it read) gives the instance ``Model(**values)``
    gives: every column's value, defaults for what is left out, unsaved state."""
    values: dict[str, Any] = {
        "slot_id": 7,
        "position": 3,
        "family": "next_state",
        "seed": 2**40 + 1,
        "difficulty": "hard",
        "engine_version": "1.2",
        "points": 2,
        "stored_id": 11,
        "choice_order": [2, 0, 1],
    }
    fast, slow = unsaved(AttemptQuestion, **values), AttemptQuestion(**values)
    assert _field_values(fast) == _field_values(slow)
    assert fast._state.adding
    assert fast._state.db is None
    assert fast.pk is None
    # Left out: each field's default, as the keyword path gives it; a callable one (timezone.now) is
    # called for each instance.
    for model, given in ((Attempt, {"user_id": 1, "quiz_id": 2}), (Course, {"title": "T"})):
        before = timezone.now()
        fast_values, slow_values = _field_values(unsaved(model, **given)), _field_values(model(**given))
        after = timezone.now()
        for name, value in fast_values.items():
            if isinstance(value, datetime):
                assert before <= value <= after
                assert before <= slow_values[name] <= after
            else:
                assert value == slow_values[name], name


def test_unsaved_refuses_a_name_that_is_not_a_column() -> None:
    with pytest.raises(TypeError, match="slot"):
        unsaved(AttemptQuestion, slot=None, position=1)
    with pytest.raises(TypeError, match="nonsense"):
        unsaved(AttemptQuestion, nonsense=1)


def _columns_of(children: list[AttemptQuestion], *leave_out: str) -> dict[str, list[Any]]:
    """``children``'s values column by column (attribute names), without ``leave_out``."""
    names = [
        f.attname
        for f in AttemptQuestion._meta.concrete_fields
        if f.attname not in ("id", "attempt_id", *leave_out)
    ]
    return {name: [getattr(child, name) for child in children] for name in names}


def test_insert_with_child_columns_writes_what_insert_with_children_writes(
    student: User, attempt: Attempt
) -> None:
    """The same rows as from instances, the same statements (one on PostgreSQL), and the children handed
    back saved, in the order given, each linked to the parent, with the values the ORM reads back."""
    from questions.compiled import insert_with_child_columns

    children = _children_of(attempt)
    parent = _finished(student, attempt, 11)
    with CaptureQueriesContext(connection) as queries:
        made = insert_with_child_columns(parent, AttemptQuestion, "attempt", _columns_of(children))
    _assert_one_statement_on_postgresql(queries)
    assert parent.pk is not None
    assert not parent._state.adding
    assert [q.position for q in made] == [c.position for c in children]
    read = {q.pk: q for q in AttemptQuestion.objects.filter(attempt_id=parent.pk)}
    assert sorted(read) == sorted(q.pk for q in made)
    for question, child in zip(made, children, strict=True):
        assert question.attempt is parent
        assert not question._state.adding
        assert question._state.db == "default"
        assert _field_values(question) == _field_values(read[question.pk])
        assert _field_values(question) | {"id": None, "attempt_id": None} == _field_values(child)


def test_insert_with_child_columns_takes_defaults_for_columns_left_out(
    student: User, attempt: Attempt
) -> None:
    from questions.compiled import insert_with_child_columns

    children = _children_of(attempt)
    parent = _finished(student, attempt, 12)
    made = insert_with_child_columns(
        parent, AttemptQuestion, "attempt", _columns_of(children, "points", "choice_order")
    )
    stored = AttemptQuestion.objects.filter(attempt=parent).order_by("position")
    assert [(q.points, q.choice_order) for q in stored] == [(1, None)] * len(children)
    assert [(q.points, q.choice_order) for q in made] == [(1, None)] * len(children)


def test_insert_with_child_columns_refuses_what_it_cannot_write(student: User, attempt: Attempt) -> None:
    """A name that is not a column, the link itself, columns of different lengths, an expression: an
    error before anything is written."""
    from django.db.models.functions import Now

    from questions.compiled import insert_with_child_columns

    children = _children_of(attempt)
    columns = _columns_of(children)
    parent = _finished(student, attempt, 13)
    with pytest.raises(TypeError, match="slot"):
        insert_with_child_columns(parent, AttemptQuestion, "attempt", columns | {"slot": columns["slot_id"]})
    with pytest.raises(TypeError, match="attempt_id"):
        insert_with_child_columns(parent, AttemptQuestion, "attempt", columns | {"attempt_id": [1, 1, 1]})
    with pytest.raises(ValueError, match="one value per child"):
        insert_with_child_columns(parent, AttemptQuestion, "attempt", columns | {"seed": [1]})
    with pytest.raises(TypeError, match="expressions"):
        insert_with_child_columns(parent, AttemptQuestion, "attempt", columns | {"family": [Now()] * 3})
    with pytest.raises(TypeError, match="not a foreign key"):
        insert_with_child_columns(parent, AttemptQuestion, "position", columns)
    assert parent.pk is None
    assert not Attempt.objects.filter(number=13).exists()


@pytest.mark.django_db(transaction=True)
def test_insert_with_child_columns_is_all_or_none(student: User, attempt: Attempt) -> None:
    """Outside any transaction (as a start runs): one bad child (a stored variant that does not exist)
    leaves neither the parent nor any child."""
    from django.db import IntegrityError

    from questions.compiled import insert_with_child_columns

    columns = _columns_of(_children_of(attempt))
    good = list(columns["stored_id"])
    columns["stored_id"][-1] = 2**31 - 1
    assert not connection.in_atomic_block
    with pytest.raises(IntegrityError):
        insert_with_child_columns(_finished(student, attempt, 14), AttemptQuestion, "attempt", columns)
    assert not Attempt.objects.filter(number=14).exists()
    assert AttemptQuestion.objects.count() == 0
    columns["stored_id"] = good
    parent = _finished(student, attempt, 14)
    insert_with_child_columns(parent, AttemptQuestion, "attempt", columns)
    assert AttemptQuestion.objects.filter(attempt=parent).count() == 3


def test_insert_with_child_columns_falls_back_for_a_parent_expression(
    student: User, attempt: Attempt
) -> None:
    """A parent value the statement cannot take (an expression) goes through insert_with_children."""
    from django.db.models.functions import Now

    from questions.compiled import insert_with_child_columns

    columns = _columns_of(_children_of(attempt))
    parent = _finished(student, attempt, 15)
    parent.started_at = Now()
    made = insert_with_child_columns(parent, AttemptQuestion, "attempt", columns)
    assert Attempt.objects.get(pk=parent.pk).started_at is not None
    assert sorted(q.pk for q in made) == sorted(
        AttemptQuestion.objects.filter(attempt=parent).values_list("pk", flat=True)
    )
