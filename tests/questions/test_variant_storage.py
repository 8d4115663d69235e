"""Stored variants keep the shared state diagram as a short token and read back whole."""

from __future__ import annotations

import copy
import json

import pytest
from django.db import connection

from questions.generators.diagrams import state_diagrams
from questions.generators.registry import make_variant
from questions.models import Attempt, StoredVariant
from questions.variant_store import (
    SHARED_DIAGRAM_PREFIX,
    PublicTexts,
    StoredJSON,
    diagrams_compact,
    diagrams_expand,
    json_loads,
    variant_public_all,
    variant_to_json,
)


def test_diagrams_compact_then_expand_is_identity() -> None:
    """Compacting replaces each shared diagram by a token; expanding gives the very same data back."""
    variant = make_variant("which_event", 7, "medium")
    stored = {"variant": variant_to_json(variant), "public": variant_public_all(variant)}
    compact = diagrams_compact(stored)
    assert SHARED_DIAGRAM_PREFIX in str(compact)
    assert len(str(compact)) < len(str(stored)) / 4
    assert diagrams_expand(copy.deepcopy(compact)) == stored


def test_diagrams_compact_keeps_other_long_strings() -> None:
    """Only the shared diagrams are replaced; any other text, however long, is stored as it is."""
    other = "<svg>" + "x" * 20_000 + "</svg>"
    assert diagrams_compact({"a": [other]}) == {"a": [other]}


@pytest.mark.django_db
def test_attempt_question_stores_shared_diagram_as_token(attempt: Attempt) -> None:
    """In the database a stored variant holds tokens; the model reads back the whole diagrams."""
    question = attempt.questions.first()
    assert question is not None
    variant = make_variant("which_event", 11, "easy")
    stored = question.stored
    stored.variant = variant_to_json(variant)
    stored.public = variant_public_all(variant)
    stored.save()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT public, variant FROM {StoredVariant._meta.db_table} WHERE id = %s", [stored.pk]
        )
        public_text, variant_text = (str(v) for v in cursor.fetchone())
    assert "<svg" not in public_text
    assert "<svg" not in variant_text
    fresh = StoredVariant.objects.get(pk=stored.pk)
    assert fresh.public["en"]["diagram_svg"] == state_diagrams()["en"]
    assert fresh.public["zh-hans"]["diagram_svg"] == state_diagrams()["zh-hans"]
    assert fresh.variant["diagram_svg"] == variant.diagram_svg


def test_public_texts_decode_one_language_when_read() -> None:
    """PublicTexts holds each language's stored JSON; a language is decoded when first read, in the
    given choice order, and the whole is the same stored JSON as the payload's own."""
    variant = make_variant("which_event", 5, "medium")
    public = variant_public_all(variant)
    texts = PublicTexts.of(public)
    assert texts.stored() == StoredJSON.of(public)
    assert dict(texts) == public
    order = list(reversed(range(len(variant.choices))))
    shown = texts.ordered(order)
    assert [c["id"] for c in shown["zh-hans"]["choices"]] == [variant.choices[i].id for i in order]
    assert list(shown._decoded) == ["zh-hans"]
    assert shown["zh-hans"]["diagram_svg"] == state_diagrams()["zh-hans"]


@pytest.mark.parametrize(
    "text",
    [
        '{"prompt":"中文 and émoji 🙂","choices":["a","b"],"n":[1,-2,0.5,1e-05],"x":null,"t":true}',
        "[]",
        '"just a string"',
        "[1, 2 , 3]",
    ],
)
def test_json_loads_reads_what_json_reads(text: str) -> None:
    assert json_loads(text) == json.loads(text)
    assert json_loads(text.encode()) == json.loads(text)


def test_json_loads_falls_back_for_what_orjson_refuses() -> None:
    # NaN (json.dumps writes it by default) and an integer beyond 64 bits.
    nan = json_loads('{"x": NaN}')["x"]
    assert nan != nan
    assert json_loads(f"[{2**70}]") == [2**70]
    with pytest.raises(ValueError, match="Expecting"):
        json_loads("{not json")
