"""tcpquiz.renderers.JSONRenderer (orjson) writes what DRF's JSONRenderer writes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import OrderedDict, namedtuple
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.test import APIClient

from questions.models import Attempt, Quiz
from tcpquiz.renderers import JSONRenderer

Point = namedtuple("Point", "x y")


@dataclass
class Opaque:
    value: int


UTC = dt.UTC
SAMPLES: list[Any] = [
    {"a": 1, "b": [True, False, None], "c": "text", "d": {"nested": [1, 2, {"x": "y"}]}},
    ["中文", "émoji 🙂", 'quote " backslash \\ tab \t newline \n', "\x00\x1f"],
    {"line separators": "a\u2028b\u2029c"},
    {
        "aware": dt.datetime(2026, 11, 21, 9, 30, 5, 123456, tzinfo=UTC),
        "whole second": dt.datetime(2026, 11, 21, 9, 30, 5, tzinfo=UTC),
        "other zone": dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "naive": dt.datetime(2026, 11, 21, 9, 30, 5, 500),
        "date": dt.date(2026, 11, 21),
        "time": dt.time(9, 30, 5, 250000),
        "timedelta": dt.timedelta(minutes=90, seconds=1),
    },
    {"decimal": Decimal("1.50"), "uuid": uuid.UUID(int=12345), "lazy": gettext_lazy("Quiz")},
    {"safe": mark_safe("<b>bold</b>"), "tuple": (1, "two"), "named": Point(1, 2)},
    OrderedDict([("z", 1), ("a", 2)]),
    {1: "int key", "s": 2, None: "none key"},
    {"status": Attempt.Status.IN_PROGRESS, "mode": Quiz.Mode.EXAM},
    {"big": 2**70},  # beyond orjson: DRF's path
    {"floats": [0.1, 1.0, -2.5, 123456789.125, 0.0]},
    [],
    {},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_same_bytes_as_drfs_renderer(data: Any) -> None:
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_floats_in_exponent_form_are_the_same_numbers() -> None:
    data = {"small": 1e-5, "large": 1e20, "tiny": 2.5e-7}
    ours = JSONRenderer().render(data)
    assert json.loads(ours) == json.loads(renderers.JSONRenderer().render(data)) == data


def test_none_renders_empty_and_nan_renders_null() -> None:
    assert JSONRenderer().render(None) == b""
    # DRF's strict encoder raised on NaN (a 500); orjson writes null.
    assert JSONRenderer().render({"x": float("nan")}) == b'{"x":null}'


def test_what_no_encoder_knows_fails_as_it_did() -> None:
    with pytest.raises(TypeError):
        renderers.JSONRenderer().render({"x": Opaque(1)})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": Opaque(1)})


def test_pretty_printing_asked_for_is_drfs() -> None:
    data = {"a": [1, 2]}
    media = "application/json; indent=4"
    assert JSONRenderer().render(data, media) == renderers.JSONRenderer().render(data, media)
    assert b"\n    " in JSONRenderer().render(data, media)


@pytest.mark.django_db
def test_an_attempt_start_renders_as_drf_would(student: User, quiz: Quiz) -> None:
    """A real response of the API (its data re-rendered both ways) is the same bytes."""
    client = APIClient()
    client.force_authenticate(student)
    response = client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
    assert response.status_code == 201
    assert response.content == renderers.JSONRenderer().render(response.data)
    assert response.content == JSONRenderer().render(response.data)
