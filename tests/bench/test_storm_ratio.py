"""bench.storm measures each ratio in alternating blocks (ping, endpoint, ping, ..., ping) and divides
the endpoint's rate over all its blocks by the ping's over all of theirs."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from bench import storm

Job = Callable[[], Awaitable[storm.Result]]


def _bench(rounds: int = 3) -> storm.Bench:
    args = argparse.Namespace(db="sqlite", ratio_seconds=2.0, ratio_rounds=rounds, students=4)
    return storm.Bench(args)


def _fake_loop(calls: list[str], rates: dict[str, list[float]]) -> Any:
    """A closed_loop that runs nothing: a ping block gives its next rate for 1 s (or for its limit),
    an endpoint block its next rate for 2 s; each block's kind is recorded in ``calls``."""

    async def closed_loop(connections: int, jobs: Iterator[Job], seconds: float | None = None) -> Any:
        assert connections == storm.RATIO_CONNECTIONS
        kind = "ping" if getattr(jobs, "is_ping", False) else "endpoint"
        calls.append(kind)
        length = seconds if seconds is not None else 2.0
        count = round(rates[kind].pop(0) * length)
        return [storm.Result(200, 0.01, b"")] * count, length

    return closed_loop


class _PingJobs:
    is_ping = True

    def __iter__(self) -> _PingJobs:
        return self

    def __next__(self) -> Job:
        raise StopIteration


def test_blocks_alternate_and_the_ratio_is_of_the_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    # The machine slows down as it goes: pings 1000, 800, 600, 400 req/s; starts 250, 200, 150 req/s.
    rates = {"ping": [1000.0, 800.0, 600.0, 400.0], "endpoint": [250.0, 200.0, 150.0]}
    monkeypatch.setattr(storm, "closed_loop", _fake_loop(calls, rates))
    bench = _bench()
    monkeypatch.setattr(bench, "ping_jobs", _PingJobs)
    blocks: list[tuple[Iterator[Job], float | None]] = [(iter([]), None)] * 3
    ratio, spread = asyncio.run(bench.ratio("start", blocks))
    assert calls == ["ping", "endpoint", "ping", "endpoint", "ping", "endpoint", "ping"]
    # Ping blocks last half --ratio-seconds (1 s): 2,800 in 4 s; the starts 1,200 in 6 s.
    assert ratio == pytest.approx((1200 / 6) / (2800 / 4))
    # Each round against the two pings beside it: 250/900, 200/700, 150/500.
    assert spread == "3 rounds 0.278-0.300"
    figures = {row.figure: row.value for row in bench.rows}
    assert figures["ping (beside start) @16"].split()[0] == "700"
    assert figures["start @16"].split()[0] == "200"


def test_starts_split_into_the_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every student's start at each quiz, once, spread over --ratio-rounds blocks."""
    bench = _bench(rounds=3)
    bench.students = [storm.Student(i, f"t{i}") for i in range(4)]
    bench.quizzes = {"burst": 1, "backlog": 2}
    seen: list[list[int]] = []

    async def ratio(name: str, blocks: list[tuple[Iterator[Job], float | None]]) -> tuple[float, str]:
        for jobs, limit in blocks:
            assert limit is None
            seen.append([id(job) for job in jobs])
        return 0.3, "3 rounds"

    monkeypatch.setattr(bench, "ratio", ratio)
    assert asyncio.run(bench.starts(["burst", "backlog"])) == (0.3, "3 rounds")
    assert [len(block) for block in seen] == [3, 3, 2]
    assert len({job for block in seen for job in block}) == 8
