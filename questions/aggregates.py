"""Aggregates Django does not ship for every database."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, TextField


class JSONRows(Aggregate):
    """A group's rows as the text of one JSON array of arrays, ``[[a, b, ...], ...]``, one inner array
    per row with the expressions' values in order (rows in no particular order); NULL for no rows.

    SQLite's ``json_group_array(json_array(...))``, PostgreSQL's ``json_agg(json_build_array(...))``
    as text. It lets one query bring a row's children with it (the slots of a quiz, say) as plain
    values, where a second query would cost a round trip and a model instance per child.
    """

    function = "JSON_GROUP_ARRAY"
    name = "JSONRows"
    template = "%(function)s(%(distinct)sJSON_ARRAY(%(expressions)s))"

    def __init__(self, *expressions: Any, **extra: Any) -> None:
        super().__init__(*expressions, output_field=TextField(), **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="(%(function)s(%(distinct)sJSON_BUILD_ARRAY(%(expressions)s)))::text",
            **extra_context,
        )
