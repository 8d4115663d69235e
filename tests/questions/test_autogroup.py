"""tcpquiz.autogroup: the Celery worker's ``nice -n 10`` must rank it against gunicorn too, which on
Linux with autogroup it does only once the worker's session (its autogroup) carries the niceness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcpquiz.autogroup import autogroup_follow_niceness, process_table, session_is_own

ROOT = Path(__file__).resolve().parents[2]
HAS_AUTOGROUP = Path("/proc/self/autogroup").exists()
# Run in the child: what the function says, then the child's autogroup line (empty without one).
REPORT = (
    "import os; from tcpquiz.autogroup import autogroup_follow_niceness as follow; "
    "print(*follow(), sep='|'); path = '/proc/self/autogroup'; "
    "print(open(path).read().strip() if os.path.exists(path) else '')"
)


def _niced_in_a_new_session(before: str = "") -> tuple[str, str] | None:
    """Run REPORT under ``nice -n 10`` in a new session (after the shell command ``before``, which may
    start something beside it); returns what the function said and the autogroup line, or None
    (having checked what it said) on a kernel without autogroup."""
    done = subprocess.run(
        ["sh", "-c", f'{before}nice -n 10 {sys.executable} -c "{REPORT}"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=True,
    )
    said, autogroup = done.stdout.strip().splitlines()
    if not HAS_AUTOGROUP:
        assert said.startswith("True|no autogroup here"), said
        return None
    return said, autogroup


# pid: (parent, session). Session 10: a shell (10) running nice'd python (11) with a pool child (12).
TABLE = {1: (0, 1), 10: (1, 10), 11: (10, 10), 12: (11, 10), 13: (12, 10), 20: (1, 20), 21: (20, 20)}


def test_a_session_of_its_ancestors_and_descendants_is_its_own() -> None:
    assert session_is_own(11, TABLE)
    assert session_is_own(12, TABLE)  # its parent and grandparent are ancestors, 13 a descendant
    assert session_is_own(10, TABLE)


def test_an_unrelated_process_in_the_session_makes_it_shared() -> None:
    shared = TABLE | {14: (10, 10)}  # the shell also started something else (a web server, say)
    assert not session_is_own(11, shared)
    assert session_is_own(10, shared)  # for the shell, both are descendants
    assert not session_is_own(99, TABLE)  # a process the table does not know


def test_a_parent_cycle_in_a_racy_table_ends() -> None:
    assert session_is_own(5, {5: (6, 5), 6: (5, 5)})


def test_the_process_table_knows_this_process_its_parent_and_session() -> None:
    table = process_table()
    assert table[os.getpid()] == (os.getppid(), os.getsid(0))


def test_a_process_that_is_not_niced_leaves_its_autogroup_alone() -> None:
    if os.getpriority(os.PRIO_PROCESS, 0) > 0:
        pytest.fail("the test runner itself is niced")
    applied, said = autogroup_follow_niceness()
    assert applied
    assert said.startswith("niceness 0: autogroup left alone")


def test_a_niced_process_in_a_session_of_its_own_gives_its_autogroup_its_niceness() -> None:
    """As honcho starts the Procfile's worker: its own session, ``nice -n 10``."""
    if (reported := _niced_in_a_new_session()) is None:
        return
    said, autogroup = reported
    assert said.startswith("True|autogroup niceness set to 10"), said
    assert autogroup.endswith(" nice 10"), autogroup


def test_a_niced_process_sharing_its_session_leaves_the_autogroup_alone() -> None:
    """A session where something unrelated runs too (a sibling ``sleep``): its niceness is left as it was."""
    if (reported := _niced_in_a_new_session("sleep 20 & trap 'kill $!' EXIT; ")) is None:
        return
    said, autogroup = reported
    assert said.startswith("False|"), said
    assert "shares with other processes" in said
    assert autogroup.endswith(" nice 0"), autogroup
