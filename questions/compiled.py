"""Hot reads compiled once per database connection, then run with new values; hot writes by key.

Django builds and compiles a queryset on every call: for the submit's one read (five tables, two JSON
keys and a subquery) that was 1.6 ms of Python, more than the query itself took on PostgreSQL. A
``CompiledRead`` builds its queryset the first time a connection runs it, twice, with two sets of
stand-in values, and keeps the SQL, where each value goes in its parameters, and how to turn a row
into objects (the same steps as Django's ``ModelIterable``: converters, ``from_db``, the
``select_related`` populators, the annotations). Later runs on that connection bind the real values
into that SQL and decode the rows the same way.

A shape it cannot map safely (the two compilations differ in more than the values, or a value is
transformed on the way into the parameters) is run through the ORM every time instead.
``tests/questions/test_compiled.py`` checks the results equal the ORM's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import CharField, Field, IntegerField, Model, QuerySet, TextField
from django.db.models import query as django_query
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable

_R = TypeVar("_R")

# Stand-in values: in range for a small integer column (Django answers an out-of-range integer lookup
# without SQL), and unlike anything a query puts in its parameters by itself.
_INT_STANDINS = (29_983, 29_989)
_STR_STANDIN = "\x1ftcpquiz-compiled-{set}-{name}\x1f"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per parameter: (None, a constant), or (the value's name, None or the type to wrap it in).
    slots: tuple[tuple[str | None, Any], ...]
    decode: Callable[[list[Sequence[Any]]], list[Any]]


class CompiledRead(Generic[_R]):
    """``build(**values)`` (a queryset of one shape for any values) compiled once per connection.

    Values are ints or strs, passed by keyword. Each set of value names (and their types) is compiled
    apart, so a value given or left out (a key, say) may change the query's shape; a shape chosen by
    anything else (a flag) needs a ``CompiledRead`` of its own.
    """

    def __init__(self, name: str, build: Callable[..., QuerySet[Any, _R]]) -> None:
        self.name = name
        self.build = build

    def rows(self, **values: int | str) -> list[_R]:
        """The rows ``build(**values)`` would give, from the SQL compiled for this connection."""
        connection = connections[DEFAULT_DB_ALIAS]
        cache: dict[tuple[Any, ...], _Compiled | None] | None = getattr(connection, "_compiled_reads", None)
        if cache is None:
            cache = {}
            connection._compiled_reads = cache  # type: ignore[attr-defined]
        key = (self.name, tuple(sorted((name, type(value)) for name, value in values.items())))
        if key not in cache:
            cache[key] = self._compile(connection, values)
        compiled = cache[key]
        if compiled is None:
            return list(self.build(**values))
        params = [
            constant if name is None else values[name] if constant is None else constant(values[name])
            for name, constant in compiled.slots
        ]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        return compiled.decode(fetched)

    def first(self, **values: int | str) -> _R | None:
        """The first row, or None (for a query that finds at most one)."""
        found = self.rows(**values)
        return found[0] if found else None

    # Compiling ------------------------------------------------------------------------------------

    def _compile(self, connection: Any, values: dict[str, int | str]) -> _Compiled | None:
        standins = [_standins(values, which) for which in (0, 1)]
        querysets = [self.build(**chosen) for chosen in standins]
        compilers = [qs.query.get_compiler(connection=connection) for qs in querysets]
        (sql_a, params_a), (sql_b, params_b) = (compiler.as_sql() for compiler in compilers)
        if not sql_a or sql_a != sql_b or len(params_a) != len(params_b):
            return None
        names = [{_hashable(v): k for k, v in chosen.items()} for chosen in standins]
        slots: list[tuple[str | None, Any]] = []
        for a, b in zip(params_a, params_b, strict=True):
            if type(a) is type(b) and a == b:
                if _hashable(a) in names[0]:
                    return None  # a stand-in that did not change: not a plain parameter
                slots.append((None, a))
                continue
            name = names[0].get(_hashable(_unwrapped(a)))
            if name is None or names[1].get(_hashable(_unwrapped(b))) != name or type(a) is not type(b):
                return None  # the value was transformed on its way into the parameters
            # A typed wrapper (psycopg's Int4 for a small integer column) is put back on at run time.
            slots.append((name, type(a) if type(a) not in (int, str) else None))
        decode = _decoder(querysets[0], compilers[0], connection)
        if decode is None:
            return None
        return _Compiled(sql_a, tuple(slots), decode)


def _standins(values: dict[str, int | str], which: int) -> dict[str, int | str]:
    chosen: dict[str, int | str] = {}
    for index, (name, value) in enumerate(sorted(values.items())):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"CompiledRead takes int and str values, not {type(value).__name__}")
        if isinstance(value, int):
            chosen[name] = _INT_STANDINS[which] - 10 * index
        else:
            chosen[name] = _STR_STANDIN.format(set=which, name=name)
    return chosen


def _unwrapped(value: Any) -> Any:
    """A plain int for an int wrapped in a subclass (psycopg's Int2, Int4, Int8)."""
    return int(value) if isinstance(value, int) and type(value) not in (int, bool) else value


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return ("unhashable", id(value))
    return (type(value), value)


def _decoder(
    queryset: QuerySet[Any, Any], compiler: Any, connection: Any
) -> Callable[[list[Sequence[Any]]], list[Any]] | None:
    """Rows → results, as the queryset's iterable would make them (None: an iterable not handled)."""
    select = compiler.select
    col_count = compiler.col_count
    trim = compiler.has_extra_select
    converters = compiler.get_converters([s[0] for s in select[0:col_count]])

    def converted(rows: list[Sequence[Any]]) -> Any:
        if trim:
            rows = [row[:col_count] for row in rows]
        return compiler.apply_converters(rows, converters) if converters else rows

    iterable = queryset._iterable_class
    if iterable is FlatValuesListIterable:
        return lambda rows: [row[0] for row in converted(rows)]
    if iterable is ValuesListIterable and not queryset.query.extra_select:
        names = list(queryset.query.values_select) + list(queryset.query.annotation_select)
        if len(names) != col_count:
            return None
        return lambda rows: [tuple(row) for row in converted(rows)]
    if iterable is not ModelIterable or any(
        getattr(queryset, extra) for extra in ("_known_related_objects", "_prefetch_related_lookups")
    ):
        return None
    klass_info = compiler.klass_info
    annotation_col_map = compiler.annotation_col_map or {}
    model_cls = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    populators: list[Any] = getattr(django_query, "get_related_populators")(  # noqa: B009 (private)
        klass_info, select, connection.alias
    )

    def models(rows: list[Sequence[Any]]) -> list[Any]:
        made = []
        for row in converted(rows):
            obj = model_cls.from_db(connection.alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr, position in annotation_col_map.items():
                setattr(obj, attr, row[position])
            made.append(obj)
        return made

    return models


# Hot writes --------------------------------------------------------------------------------------


def update_rows(
    model: type[Model], names: Sequence[str], rows: Sequence[tuple[Any, Mapping[str, Any]]]
) -> int:
    """Set columns ``names`` of each row ``(pk, {name: value})`` of ``model``, with one statement run
    for every row (``executemany``: psycopg sends them in one pipeline). Returns how many rows it set.

    Each value goes through its field's ``get_db_prep_save``, as ``Model.save`` does. Django's
    ``bulk_update`` writes one ``CASE WHEN pk = ...`` per field and row instead: building and compiling
    that was most of a grading batch's time on PostgreSQL (under cProfile, 3.7 of 4.6 s for 1,010).
    No signals are sent and no ``auto_now`` is applied, as with ``bulk_update``.
    """
    if not rows:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    pk = meta.pk
    if pk is None or not all(isinstance(field, Field) and field.column for field in fields):
        raise TypeError(f"update_rows sets concrete columns of a model with a primary key: {names}")
    columns = [field for field in fields if isinstance(field, Field)]
    quote = connection.ops.quote_name
    # Only quoted names from the model's metadata go into the text; every value is a parameter.
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(str(pk.column))} = %s"  # noqa: S608
    params = [
        [field.get_db_prep_save(values[field.name], connection) for field in columns]
        + [pk.get_db_prep_value(key, connection)]
        for key, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return max(int(cursor.rowcount), 0)


_M = TypeVar("_M", bound=Model)


def unsaved(model: type[_M], **values: Any) -> _M:
    """``model(**values)``, for values named by their columns' attribute names (``slot_id``, not
    ``slot``): the instance is built from positional values in field order, the way Django builds a
    row it read (``from_db``), and each field left out takes its default. Django's keyword path walks
    every field and its descriptors: 10.5 us per ``AttemptQuestion`` against 2.9, and a start makes 20.
    A name that is not a concrete field's attribute name raises TypeError, as a keyword would."""
    fields = _positional_fields(model)
    unknown = values.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__}() got unexpected fields: {', '.join(sorted(unknown))}")
    return model(
        *[values[attname] if attname in values else field.get_default() for attname, field in fields.items()]
    )


# Per model: its concrete fields by attribute name, in field order (what positional values follow).
_POSITIONAL_FIELDS: dict[type[Model], dict[str, Field[Any, Any]]] = {}


def _positional_fields(model: type[Model]) -> dict[str, Field[Any, Any]]:
    found = _POSITIONAL_FIELDS.get(model)
    if found is None:
        found = {field.attname: field for field in model._meta.concrete_fields}
        _POSITIONAL_FIELDS[model] = found
    return found


def insert_rows(objs: Sequence[Model]) -> None:
    """INSERT unsaved instances ``objs`` (of one model) with one statement, and set their primary keys.

    What ``bulk_create`` does for rows without conflicts, minus its query machinery, with the SQL made
    once per connection and shape: each value goes through its field's ``pre_save`` and
    ``get_db_prep_save``, the primary key comes back through ``RETURNING``, and the instances are
    marked saved. No signals are sent (as with ``bulk_create``). Several rows on PostgreSQL go in as
    one array per column (``UNNEST``), as ``bulk_create`` sends them. A model or a value it cannot
    write this way (an expression, a field with its own placeholder, a database without
    ``RETURNING``, more rows than one statement takes) goes through ``bulk_create``.
    """
    if not objs:
        return
    model = type(objs[0])
    connection = connections[DEFAULT_DB_ALIAS]
    shape = _insert_shape(objs, connection, unnest=len(objs) > 1)
    if shape is None:
        model._default_manager.bulk_create(objs)
        return
    fields, params = shape
    sql = _insert_sql(connection, model, fields, len(objs))
    if sql.unnest:
        # One array per column (as Django's bulk_create does on PostgreSQL): the text and the number
        # of parameters stay the same for any number of rows, so psycopg's parsed-query cache (up to
        # 50 parameters) and the server's prepared statement serve every start.
        params = _columns(params, len(fields))
    with connection.cursor() as cursor:
        cursor.execute(sql.text, params)
        keys = [found[0] for found in cursor.fetchall()]
    _mark_saved(objs, keys, connection)


def insert_with_children(parent: Model, children: Sequence[Model], link: str) -> None:
    """INSERT unsaved ``parent`` and its unsaved ``children`` (of one model), whose foreign key
    ``link`` is to be ``parent``: all or none. Sets every primary key, and each child's ``link``.

    On PostgreSQL this is one statement, ``WITH parent AS (INSERT ... RETURNING id), child AS (INSERT
    ... SELECT (SELECT id FROM parent), * FROM UNNEST(...) RETURNING id) ...``: one round trip, where
    a transaction of two INSERTs takes four (BEGIN, the INSERTs, COMMIT); a statement on its own
    commits or fails whole. Elsewhere, or for rows ``insert_rows`` would hand to ``bulk_create``, it
    is ``insert_rows`` twice in a transaction. The children must not hold the parent yet (Django
    refuses to write a row whose related object has no key); ``link`` is set once the parent has one.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    shapes = None
    if connection.vendor == "postgresql" and children:
        field = type(children[0])._meta.get_field(link)
        if isinstance(field, Field):
            parent_shape = _insert_shape([parent], connection, unnest=False)
            child_shape = _insert_shape(children, connection, unnest=True, leave_out=field)
            if parent_shape is not None and child_shape is not None:
                shapes = (parent_shape, child_shape, field)
    if shapes is None:
        with transaction.atomic():
            insert_rows([parent])
            for child in children:
                setattr(child, link, parent)
            insert_rows(children)
        return
    parent_shape, (child_fields, child_params), field = shapes
    columns = _columns(child_params, len(child_fields))
    keys = _family_insert(connection, parent, parent_shape, type(children[0]), child_fields, field, columns)
    _mark_saved(children, keys, connection)
    for child in children:
        setattr(child, link, parent)


def insert_with_child_columns(
    parent: Model, child_model: type[_M], link: str, columns: Mapping[str, Sequence[Any]]
) -> list[_M]:
    """``insert_with_children`` for children given column by column: ``columns`` maps attribute names
    (``slot_id``, not ``slot``) to one value per child, as ``unsaved`` takes them; a column left out
    takes its field's default. Returns the children, saved, in the order given, each ``link`` set to
    ``parent``. All or none.

    The values go straight into the statement's arrays, each through its field's preparation (or the
    stock shortcut ``_preparers`` knows), with no instance built first: through ``insert_with_children``
    a start built 20 instances and walked them field by field (``_insert_shape``). The instances
    handed back are built once the keys are known, the way Django builds rows it read (``from_db``).
    Measured in-process on PostgreSQL, alternating blocks of 20 starts: 0.18 ms less CPU per start
    (standard error 0.09). A field whose ``pre_save`` does more than read
    its value (``auto_now``, say) needs an instance: TypeError, as for a name that is not a column or
    a value that is an expression. A shape the statement cannot take goes through
    ``insert_with_children``.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    meta = child_model._meta
    field = meta.get_field(link)
    if not isinstance(field, Field) or not field.is_relation:
        raise TypeError(f"{child_model.__name__}.{link} is not a foreign key")
    known = _positional_fields(child_model)
    unknown = columns.keys() - known.keys()
    if field.attname in columns:
        unknown = unknown | {field.attname}  # set from the parent
    if unknown:
        raise TypeError(f"{child_model.__name__}: columns not to give: {', '.join(sorted(unknown))}")
    counts = {len(values) for values in columns.values()}
    if len(counts) > 1:
        raise ValueError("every column needs one value per child")
    count = counts.pop() if counts else 0
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.local_concrete_fields if (f is not pk or not f.db_returning) and f is not field]
    given = {
        f.attname: list(columns[f.attname]) if f.attname in columns else [f.get_default()] * count
        for f in fields
    }
    for values in given.values():
        if any(hasattr(value, "resolve_expression") for value in values):
            raise TypeError("insert_with_child_columns takes values, not expressions")
    preparers = _preparers(connection, fields)
    if any(plain is None for _field, plain, _kind in preparers):
        raise TypeError(f"{child_model.__name__} has a field that must be saved from an instance")
    parent_shape = _insert_shape([parent], connection, unnest=False)
    postgresql = connection.vendor == "postgresql"
    written = [field, *fields] if not postgresql else fields
    if (
        count == 0
        or parent_shape is None
        or not pk.db_returning
        or not connection.features.can_return_rows_from_bulk_insert
        or any(hasattr(f, "get_placeholder") or f.generated for f in written)
        or (postgresql and any(_internal_type(f) not in connection.data_types for f in fields))
        or (not postgresql and connection.ops.bulk_batch_size(written, [None] * count) < count)
    ):
        children = [
            unsaved(child_model, **{name: values[row] for name, values in given.items()})
            for row in range(count)
        ]
        insert_with_children(parent, children, link)
        return children
    prepared = [_column_prepared(preparer, given[preparer[0].attname], connection) for preparer in preparers]
    if postgresql:
        keys = _family_insert(connection, parent, parent_shape, child_model, fields, field, prepared)
    else:
        # The parent, then one INSERT of every child row (its link first), in one transaction.
        with transaction.atomic():
            insert_rows([parent])
            link_value = field.get_db_prep_save(parent.pk, connection)
            params = [value for row in zip(*prepared, strict=True) for value in (link_value, *row)]
            with connection.cursor() as cursor:
                cursor.execute(_insert_sql(connection, child_model, written, count).text, params)
                keys = [found[0] for found in cursor.fetchall()]
        if len(keys) != count:
            raise AssertionError(f"insert_with_child_columns wrote {len(keys)} children for {count}")
    return _children_built(parent, child_model, field, given, keys, connection.alias)


def _family_insert(
    connection: Any,
    parent: Model,
    parent_shape: tuple[list[Field[Any, Any]], list[Any]],
    child_model: type[Model],
    child_fields: list[Field[Any, Any]],
    link: Field[Any, Any],
    columns: list[list[Any]],
) -> list[Any]:
    """PostgreSQL's one statement for a parent and its children (``columns``: one list of prepared
    values per child field): marks the parent saved and returns the children's keys, in order."""
    parent_fields, parent_params = parent_shape
    text = _family_sql(connection, type(parent), parent_fields, child_model, child_fields, link)
    with connection.cursor() as cursor:
        cursor.execute(text, parent_params + columns)
        keys = [found[0] for found in cursor.fetchall()]
    count = len(columns[0]) if columns else 0
    if len(keys) != 1 + count:
        raise AssertionError(f"a parent and {count} children written as {len(keys)} rows")
    _mark_saved([parent], keys[:1], connection)
    return keys[1:]


def _column_prepared(preparer: _Preparer, values: list[Any], connection: Any) -> list[Any]:
    """A column's values as its field's ``get_db_prep_save`` gives them (the stock shortcut if known)."""
    field, _plain, kind = preparer
    if kind is None:
        return [field.get_db_prep_save(value, connection) for value in values]
    known, prepare = kind
    return [
        prepare(value) if type(value) is known else field.get_db_prep_save(value, connection)
        for value in values
    ]


def _children_built(
    parent: Model,
    child_model: type[_M],
    link: Field[Any, Any],
    given: dict[str, list[Any]],
    keys: Sequence[Any],
    alias: str,
) -> list[_M]:
    """The saved children, from their keys and the values written (in field order, as ``from_db``)."""
    pk = child_model._meta.pk
    assert pk is not None
    names = list(_positional_fields(child_model))
    rows: list[list[Any]] = []
    for attname in names:
        if attname == pk.attname:
            rows.append(list(keys))
        elif attname == link.attname:
            rows.append([parent.pk] * len(keys))
        else:
            rows.append(given[attname])
    children = [child_model.from_db(alias, names, values) for values in zip(*rows, strict=True)]
    for child in children:
        link.set_cached_value(child, parent)  # type: ignore[attr-defined]
    return children


def _insert_shape(
    objs: Sequence[Model], connection: Any, *, unnest: bool, leave_out: Field[Any, Any] | None = None
) -> tuple[list[Field[Any, Any]], list[Any]] | None:
    """The fields written and every row's values (flat, row after row, ready for the database) of
    unsaved ``objs`` of one model, without ``leave_out``; None where ``bulk_create`` must write them."""
    model = type(objs[0])
    meta = model._meta
    pk = meta.pk
    fields = [
        field
        for field in meta.local_concrete_fields
        if (field is not pk or not field.db_returning) and field is not leave_out
    ]
    if (
        pk is None
        or not pk.db_returning
        or not connection.features.can_return_rows_from_bulk_insert
        or any(type(obj) is not model or obj.pk is not None for obj in objs)
        or any(hasattr(field, "get_placeholder") or field.generated for field in fields)
        or connection.ops.bulk_batch_size(fields, objs) < len(objs)
        or (
            # An array of a type Django does not know by name (as bulk_create's UNNEST checks).
            unnest
            and connection.vendor == "postgresql"
            and any(_internal_type(field) not in connection.data_types for field in fields)
        )
    ):
        return None
    params: list[Any] = []
    preparers = _preparers(connection, fields)
    for obj in objs:
        getattr(obj, "_prepare_related_fields_for_save")(operation_name="bulk_create")  # noqa: B009 (private)
        values = [
            field.pre_save(obj, True) if plain is None else getattr(obj, plain)
            for field, plain, _ in preparers
        ]
        if any(hasattr(value, "resolve_expression") for value in values):
            return None
        params.extend(
            field.get_db_prep_save(value, connection)
            if kind is None or type(value) is not kind[0]
            else kind[1](value)
            for (field, _plain, kind), value in zip(preparers, values, strict=True)
        )
    return fields, params


# What Django's stock fields do to a value on its way to the database, where that is nothing or one
# call: a CharField or TextField keeps a str as it is; an integer field passes an int to the backend's
# adapt_integerfield_value. A subclass that overrides any of those steps goes the whole way.
_Preparer: TypeAlias = "tuple[Field[Any, Any], str | None, tuple[type, Callable[[Any], Any]] | None]"


def _preparers(connection: Any, fields: Sequence[Field[Any, Any]]) -> list[_Preparer]:
    """Per field: the field; its attribute name if ``pre_save`` only reads it (else None); and, if
    its preparation of a value of one type is known, ``(that type, what it does)`` (else None).

    A start's 20 question rows have 10 fields each: through the whole ``get_db_prep_save`` chain that
    is 200 calls of 3-5 frames per start. Made once per connection and list of fields."""
    cache: dict[tuple[Field[Any, Any], ...], list[_Preparer]] | None = getattr(
        connection, "_compiled_preparers", None
    )
    if cache is None:
        cache = {}
        connection._compiled_preparers = cache
    key = tuple(fields)
    if key in cache:
        return cache[key]
    found: list[_Preparer] = []
    for field in fields:
        plain = field.attname if type(field).pre_save is Field.pre_save else None
        found.append((field, plain, _known_preparation(connection, field)))
    cache[key] = found
    return found


def _known_preparation(connection: Any, field: Field[Any, Any]) -> tuple[type, Callable[[Any], Any]] | None:
    """``(type, what the field's get_db_prep_save does to a value of that type)``, for a stock str or
    int field; None for any other."""
    cls = type(field)
    if cls.get_db_prep_save is not Field.get_db_prep_save:
        return None
    if isinstance(field, (CharField, TextField)):
        base = CharField if isinstance(field, CharField) else TextField
        stock = (
            cls.get_db_prep_value is Field.get_db_prep_value
            and cls.get_prep_value is base.get_prep_value
            and cls.to_python is base.to_python
        )
        return (str, _same) if stock else None
    if (
        isinstance(field, IntegerField)
        and cls.get_db_prep_value is IntegerField.get_db_prep_value
        and cls.get_prep_value is IntegerField.get_prep_value
    ):
        adapt, internal = connection.ops.adapt_integerfield_value, field.get_internal_type()
        return (int, lambda value: adapt(value, internal))
    return None


def _same(value: Any) -> Any:
    return value


def _columns(params: list[Any], width: int) -> list[Any]:
    """Row-after-row values as one list per column (for UNNEST)."""
    return [params[column::width] for column in range(width)]


def _mark_saved(objs: Sequence[Model], keys: Sequence[Any], connection: Any) -> None:
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias


@dataclass(frozen=True)
class _InsertSql:
    text: str
    unnest: bool


def _insert_sql(connection: Any, model: type[Model], fields: list[Field[Any, Any]], rows: int) -> _InsertSql:
    """The INSERT of ``rows`` rows of ``fields``, made once per connection and shape."""
    cache: dict[tuple[Any, ...], _InsertSql] | None = getattr(connection, "_compiled_inserts", None)
    if cache is None:
        cache = {}
        connection._compiled_inserts = cache
    unnest = connection.vendor == "postgresql" and rows > 1
    # One UNNEST text serves any number of rows; VALUES has one per count. (Not ``unnest or rows``:
    # True == 1, so a one-row INSERT and an UNNEST one would share an entry.)
    key = (model, tuple(field.name for field in fields), "unnest" if unnest else rows)
    if key in cache:
        return cache[key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    if unnest:
        values = f"SELECT * FROM {_unnest(connection, fields)}"  # noqa: S608
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        values = "VALUES " + ", ".join([row] * rows)
    pk = model._meta.pk
    assert pk is not None
    # Only quoted names and types from the model's metadata go into the text; values are parameters.
    text = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {values} RETURNING {quote(str(pk.column))}"
    cache[key] = _InsertSql(text, unnest)
    return cache[key]


def _unnest(connection: Any, fields: Sequence[Field[Any, Any]]) -> str:
    # The type without its length (varchar, not varchar(64)), as Django's bulk_create casts it.
    types = [str(field.db_type(connection)).split("(")[0] for field in fields]
    return "UNNEST(" + ", ".join(f"(%s)::{db_type}[]" for db_type in types) + ")"


def _family_sql(
    connection: Any,
    parent: type[Model],
    parent_fields: list[Field[Any, Any]],
    child: type[Model],
    child_fields: list[Field[Any, Any]],
    link: Field[Any, Any],
) -> str:
    """``insert_with_children``'s statement, made once per connection and shape."""
    cache: dict[tuple[Any, ...], str] | None = getattr(connection, "_compiled_families", None)
    if cache is None:
        cache = {}
        connection._compiled_families = cache
    key = (
        parent,
        tuple(f.name for f in parent_fields),
        child,
        tuple(f.name for f in child_fields),
        link.name,
    )
    if key in cache:
        return cache[key]
    quote = connection.ops.quote_name
    parent_pk, child_pk = parent._meta.pk, child._meta.pk
    assert parent_pk is not None
    assert child_pk is not None
    parent_key, child_key = quote(str(parent_pk.column)), quote(str(child_pk.column))
    parent_insert = _insert_sql(connection, parent, parent_fields, 1).text
    columns = ", ".join(quote(str(field.column)) for field in [link, *child_fields])
    rows = _unnest(connection, child_fields)
    # Only quoted names and types from the models' metadata go into the text; values are parameters.
    # The rows come back parent first, then the children in the order given (RETURNING gives rows in
    # the order inserted, which bulk_create relies on too); the caller checks the count.
    cache[key] = (
        f"WITH parent AS ({parent_insert}), "  # noqa: S608
        f"child AS (INSERT INTO {quote(child._meta.db_table)} ({columns}) "
        f"SELECT (SELECT {parent_key} FROM parent), * FROM {rows} RETURNING {child_key}) "
        f"SELECT {parent_key} FROM parent UNION ALL SELECT {child_key} FROM child"
    )
    return cache[key]


def _internal_type(field: Field[Any, Any]) -> str:
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    return str(target.get_internal_type())
