"""bench.storm's load generator times requests with its own garbage collector paused (see
``collector_paused``): a full collection of the students' questions stalled every request in flight."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from bench import storm


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    gc.enable()
    with storm.collector_paused():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()


def test_it_comes_back_on_when_the_timed_part_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), storm.collector_paused():
        raise RuntimeError("a phase failed")
    assert gc.isenabled()


def test_a_nested_use_leaves_it_to_the_outer_one() -> None:
    gc.enable()
    with storm.collector_paused():
        with storm.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_closed_loop_runs_its_jobs_with_the_collector_off() -> None:
    gc.enable()
    seen: list[bool] = []

    async def job() -> storm.Result:
        seen.append(gc.isenabled())
        return storm.Result(200, 0.0, b"")

    results, _seconds = asyncio.run(storm.closed_loop(3, iter([job] * 7)))
    assert [r.status for r in results] == [200] * 7
    assert seen == [False] * 7
    assert gc.isenabled()


def test_the_load_generator_runs_on_uvloop() -> None:
    """Its loop is uvloop's (less of the shared CPU per request than asyncio's own; see run_loop)."""
    import uvloop

    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert storm.run_loop(loop_type()) is uvloop.Loop
