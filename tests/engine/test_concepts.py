"""Bilingual names: every concept of docs/contracts.md, every state, every event."""

from __future__ import annotations

import re
from pathlib import Path

from questions.engine import CONCEPTS, EVENT_NAMES, STATE_NAMES, Event, State, state_label

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"


def _contract_concepts() -> set[str]:
    text = CONTRACTS.read_text(encoding="utf-8")
    section = text.split("## Concept ids", 1)[1].split("##", 1)[0]
    body = section.split("\n", 1)[1]
    return {f"c:{name}" for name in re.findall(r"[a-z0-9_]+", body)}


def test_concepts_match_the_contract() -> None:
    """CONCEPTS has exactly the concept ids of docs/contracts.md, with the c: prefix."""
    assert set(CONCEPTS) == _contract_concepts()


def test_every_name_is_bilingual() -> None:
    """Concepts, states and events all have a non-empty English and Chinese text."""
    for table in (CONCEPTS, STATE_NAMES, EVENT_NAMES):
        for names in table.values():
            assert set(names) == {"en", "zh-hans"}
            assert all(text.strip() for text in names.values())
    assert set(STATE_NAMES) == set(State)
    assert set(EVENT_NAMES) == set(Event)


def test_state_label_keeps_the_english_name() -> None:
    """In Chinese a state reads "TIME_WAIT 时间等待"."""
    assert state_label(State.TIME_WAIT, "zh-hans") == "TIME_WAIT 时间等待"
    assert state_label(State.TIME_WAIT) == "TIME_WAIT"
