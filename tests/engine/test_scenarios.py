"""Scenario tests: JSON files in the runner's contract, with the expected result of every step.

Each step of a file under scenarios/ carries ``expect``: ``states`` (both endpoints, always),
and optionally ``errors`` (both endpoints; otherwise both must be null) and ``flags`` (the flags of
every segment listed for the step, in order). ``NAME.both.json`` runs under both profiles,
``NAME.rfc9293.json`` / ``NAME.linux.json`` under the one named.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from questions.engine import ScenarioError, run_scenario

SCENARIOS = Path(__file__).parent / "scenarios"
ROOT = Path(__file__).resolve().parents[2]


def _cases() -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for path in sorted(SCENARIOS.glob("*.json")):
        kind = path.name.split(".")[-2]
        profiles = ["rfc9293", "linux"] if kind == "both" else [kind]
        cases.extend((path.name, p) for p in profiles)
    return cases


@pytest.mark.parametrize(("filename", "profile_name"), _cases(), ids=[f"{f}:{p}" for f, p in _cases()])
def test_scenario_file_matches_every_step(filename: str, profile_name: str) -> None:
    """Both endpoints' states (and the errors and flags given) match after every step."""
    spec = json.loads((SCENARIOS / filename).read_text(encoding="utf-8"))
    spec["profile"] = profile_name
    lines = run_scenario(spec)
    assert len(lines) == len(spec["steps"])
    for number, (step, line) in enumerate(zip(spec["steps"], lines, strict=True), start=1):
        expect = step["expect"]
        where = f"{filename} ({profile_name}) step {number} {step.get('do')}"
        assert line["step"] == number
        assert line["states"] == expect["states"], where
        assert line["errors"] == expect.get("errors", {"client": None, "server": None}), where
        if "flags" in expect:
            assert [seg["flags"] for seg in line["segments"]] == expect["flags"], where


def test_scenario_files_cover_every_case_of_tcp_md() -> None:
    """There is a scenario for each case TCP.md names."""
    names = {path.name.split(".")[0] for path in SCENARIOS.glob("*.json")}
    assert {
        "handshake",
        "active_close_client",
        "active_close_server",
        "three_segment_close",
        "half_close",
        "abort",
        "close_unread_data",
        "connect_refused",
        "close_in_syn_sent",
        "simultaneous_open",
        "simultaneous_close",
        "lost_syn",
        "lost_syn_ack",
        "lost_fin",
        "lost_final_ack",
        "fin_wait_2_timeout",
        "rst_in_time_wait",
        "rst_in_time_wait_rfc1337",
        "new_syn_reopens_time_wait",
        "time_wait_expiry",
    } <= names


def test_run_scenario_output_line_shape() -> None:
    """A line has step, states, segments (from, to, flags, seq, ack, len, fate) and errors."""
    lines = run_scenario(
        {
            "profile": "linux",
            "isn": {"client": 0, "server": 0},
            "wire": "hold",
            "steps": [{"at": "server", "do": "listen"}, {"at": "client", "do": "connect", "isn": 1000}],
        }
    )
    assert lines[1] == {
        "step": 2,
        "states": {"client": "SYN_SENT", "server": "LISTEN"},
        "segments": [
            {
                "from": "client",
                "to": "server",
                "flags": ["SYN"],
                "seq": 1000,
                "ack": None,
                "len": 0,
                "fate": "held",
            }
        ],
        "errors": {"client": None, "server": None},
    }


def test_held_segment_is_listed_again_with_its_new_fate() -> None:
    """A held segment appears when sent (held) and again when delivered or dropped."""
    lines = run_scenario(
        {
            "wire": "hold",
            "steps": [
                {"at": "server", "do": "listen"},
                {"at": "client", "do": "connect"},
                {"do": "deliver", "from": "client"},
                {"do": "drop", "from": "server"},
            ],
        }
    )
    assert [s["fate"] for s in lines[2]["segments"]] == ["delivered", "held"]
    assert [s["fate"] for s in lines[3]["segments"]] == ["dropped"]
    assert lines[3]["segments"][0]["flags"] == ["SYN", "ACK"]


def test_injected_segment_is_marked() -> None:
    """An injected segment carries "injected": true."""
    lines = run_scenario(
        {"steps": [{"do": "inject", "to": "client", "flags": ["ACK"], "seq": 2, "ack": 2, "len": 0}]}
    )
    seg = lines[0]["segments"][0]
    assert seg["injected"] is True
    assert seg["from"] == "server"
    assert seg["fate"] == "delivered"


def test_segments_survive_their_senders_close() -> None:
    """Segments held on the wire are still delivered after their sender aborted."""
    lines = run_scenario(
        {
            "steps": [
                {"at": "server", "do": "listen"},
                {"at": "client", "do": "connect"},
                {"do": "wire", "mode": "hold"},
                {"at": "client", "do": "send", "bytes": 5},
                {"at": "client", "do": "abort"},
                {"do": "deliver_all"},
            ]
        }
    )
    segments = lines[5]["segments"]
    assert [(s["flags"], s["fate"]) for s in segments] == [
        (["ACK", "PSH"], "delivered"),
        (["ACK"], "held"),  # the server's ACK of the data: held, as the wire is on hold
        (["RST"], "delivered"),
    ]
    assert lines[5]["states"] == {"client": "CLOSED", "server": "CLOSED"}
    assert lines[5]["errors"] == {"client": None, "server": "ECONNRESET"}


def test_connect_isn_comes_from_the_step_then_the_top_level_then_the_seed() -> None:
    """connect uses its own isn, else the scenario's, else one drawn from the seed."""

    def first_seq(spec: dict[str, Any]) -> int:
        return int(run_scenario(spec)[0]["segments"][0]["seq"])

    steps: list[dict[str, Any]] = [{"at": "client", "do": "connect"}]
    assert first_seq({"isn": {"client": 7}, "steps": [{**steps[0], "isn": 9}]}) == 9
    assert first_seq({"isn": {"client": 7}, "steps": steps}) == 7
    assert first_seq({"seed": 3, "steps": steps}) == first_seq({"seed": 3, "steps": steps})
    assert first_seq({"seed": 3, "steps": steps}) != first_seq({"seed": 4, "steps": steps})


def test_accept_without_a_completed_connection_is_eagain() -> None:
    """accept with nothing to accept is a normal step whose error is EAGAIN (non-blocking)."""
    lines = run_scenario({"steps": [{"at": "server", "do": "listen"}, {"at": "server", "do": "accept"}]})
    assert lines[1]["errors"] == {"client": None, "server": "EAGAIN"}


@pytest.mark.parametrize(
    ("spec", "step", "message"),
    [
        ([], 0, "a scenario is a JSON object"),
        ({"steps": [], "colour": 1}, 0, "unknown top-level field(s): colour"),
        ({"profile": "bsd", "steps": []}, 0, "unknown profile 'bsd'"),
        ({"options": {"nope": 1}, "steps": []}, 0, "unknown option 'nope'"),
        ({"endpoints": ["a", "a"], "steps": []}, 0, "'endpoints' must be a list of two different names"),
        ({"steps": [{"do": "dance"}]}, 1, "unknown step 'dance'"),
        ({"steps": [{"do": "listen", "at": "bob"}]}, 1, "unknown endpoint 'bob'"),
        (
            {"steps": [{"do": "listen", "at": "server", "colour": 1}]},
            1,
            "unknown field(s) for 'listen': colour",
        ),
        ({"steps": [{"do": "listen"}]}, 1, "'listen' needs field(s): at"),
        ({"steps": [{"do": "deliver", "from": "client"}]}, 1, "nothing is held from 'client'"),
        ({"steps": [{"do": "send", "at": "client", "bytes": 0}]}, 1, "'bytes' must be a positive integer"),
        ({"steps": [{"do": "advance", "seconds": -1}]}, 1, "'seconds' must be a non-negative number"),
        (
            {"steps": [{"do": "inject", "to": "client", "flags": ["URG"], "seq": 1}]},
            1,
            "'flags' must be a list",
        ),
        ({"steps": [{"do": "inject", "to": "client", "flags": ["ACK"], "seq": 1}]}, 1, "'ack' is required"),
        ({"steps": [{"do": "wire", "mode": "fast"}]}, 1, "'mode' must be"),
        ({"steps": [{"do": "connect", "at": "client", "isn": 2**32}]}, 1, "'isn' must be an integer"),
    ],
)
def test_malformed_scenario_raises_with_the_step(spec: Any, step: int, message: str) -> None:
    """A malformed scenario raises ScenarioError naming the step and what is wrong."""
    with pytest.raises(ScenarioError) as caught:
        run_scenario(spec)
    assert caught.value.step == step
    assert message in caught.value.message
    assert caught.value.as_line() == {"step": step, "error": caught.value.message}


def _run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "questions.engine.scenario", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_cli_prints_one_json_line_per_step() -> None:
    """`python -m questions.engine.scenario FILE` prints one line per step, exit status 0."""
    path = SCENARIOS / "handshake.both.json"
    result = _run_cli(str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    spec = json.loads(path.read_text(encoding="utf-8"))
    assert lines == run_scenario(spec)
    assert result.stderr == ""


def test_cli_reads_standard_input() -> None:
    """`-` reads the scenario from standard input."""
    result = _run_cli("-", stdin='{"steps": [{"at": "server", "do": "listen"}]}')
    assert result.returncode == 0
    assert json.loads(result.stdout)["states"] == {"client": "CLOSED", "server": "LISTEN"}


@pytest.mark.parametrize(
    ("stdin", "step"),
    [
        ('{"steps": [{"at": "server", "do": "listen"}, {"do": "deliver", "from": "server"}]}', 2),
        ("{not json", 0),
        ('{"steps": [{"do": "jump"}]}', 1),
    ],
)
def test_cli_malformed_scenario_exits_2_without_traceback(stdin: str, step: int) -> None:
    """A malformed scenario prints {"step": N, "error": ...} last and exits with status 2."""
    result = _run_cli("-", stdin=stdin)
    assert result.returncode == 2
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["step"] == step
    assert "error" in last
    assert "Traceback" not in result.stderr
