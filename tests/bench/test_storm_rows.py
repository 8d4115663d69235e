"""bench.storm's paced exam and its trace: the whole exam is the issue's workload (every student
answers all 20 questions), its start wave is shown beside it without a target, and a trace samples
the disk as well as the CPU."""

from __future__ import annotations

import argparse

import pytest

from bench import storm


def _bench() -> storm.Bench:
    return storm.Bench(argparse.Namespace(db="sqlite", students=4))


def _result(ms: float, status: int = 201) -> storm.Result:
    return storm.Result(status, ms / 1000, b"")


def test_paced_exam_answers_every_question_by_default() -> None:
    """Without --answers each student answers the whole 20-question attempt, as the issue describes;
    the ratio's submits answer a quiz of their own, so the exam leaves none for them."""
    captured: dict[str, argparse.Namespace] = {}

    class Stop(Exception):
        pass

    def fake_bench(args: argparse.Namespace) -> storm.Bench:
        captured["args"] = args
        raise Stop

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storm, "Bench", fake_bench)
        with pytest.raises(Stop):
            storm.main([])
    assert captured["args"].answers == storm.QUESTIONS == 20
    assert "ratio" in storm.QUIZZES
    assert "exam" in storm.QUIZZES
    assert storm.START_WAVE_ANSWERS < storm.QUESTIONS


def test_latency_row_with_and_without_a_target() -> None:
    """A row with a target is judged against it; the start wave's row (no target) is shown only."""
    bench = _bench()
    results = [_result(10.0)] * 99 + [_result(150.0)]
    bench.latency_rows("paced", "submit", results, 100.0)
    bench.latency_rows("paced", "submit, first 5 answers", results, None)
    judged, shown = bench.rows
    assert judged.ok is True  # p99 is the 99th of 100: 10 ms
    assert judged.target == "p99 < 100.0 ms, 0 errors"
    assert "p99   10.0 ms" in judged.value
    assert "max  150.0 ms" in judged.value
    assert shown.ok is None
    assert shown.target == ""
    assert shown.figure == "submit, first 5 answers latency"

    bench.latency_rows("paced", "submit", [*results, _result(5.0, 429)], 100.0)
    assert bench.rows[-1].ok is False  # an error misses the target whatever the latency
    assert "errors 1" in bench.rows[-1].value


def test_disk_sample_reads_the_kernel() -> None:
    """Dirty and under-writeback memory, and the whole disks' writes so far (never decreasing)."""
    first = storm._disk_sample()
    assert set(first) == {"dirty_kib", "writeback_kib", "written_kib", "write_ms", "in_flight"}
    assert all(value >= 0 for value in first.values())
    with open("/proc/meminfo") as meminfo:
        assert any(line.startswith("Dirty:") for line in meminfo)
    second = storm._disk_sample()
    assert second["written_kib"] >= first["written_kib"]
    assert second["write_ms"] >= first["write_ms"]
