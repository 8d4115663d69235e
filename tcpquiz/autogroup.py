"""Make a niced process's niceness count against the processes of other sessions (Linux autogroup).

With autogroup on (``kernel.sched_autogroup_enabled = 1``, the default of most distributions), the
scheduler first shares the CPU fairly between sessions, and a nice value ranks a process only
against the other processes of its own session. honcho (``make run``), systemd and ``bench.storm``
start each process in a session of its own, so ``nice -n 10 celery worker`` alone leaves the worker
an equal share against the whole of gunicorn. Measured on this project's 2-core machines: a busy
loop at nice 10 in a session of its own took 0.99 of a core while two busy loops at nice 0 in another
session shared the other core (0.48 each).

``autogroup_follow_niceness()`` gives the process's autogroup the process's niceness, so the nice
value means what it says. It changes the autogroup only when the session holds nothing but this
process, its ancestors (a wrapping shell, ``nice``) and its descendants (Celery's pool): an autogroup
shared with unrelated processes (a terminal where gunicorn was started too) is left alone, since
its niceness would slow them as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROC = Path("/proc")
AUTOGROUP = PROC / "self/autogroup"
ENABLED = PROC / "sys/kernel/sched_autogroup_enabled"

# pid -> (parent pid, session id)
ProcessTable = Mapping[int, tuple[int, int]]


def process_table() -> dict[int, tuple[int, int]]:
    """Every process /proc shows: its parent and its session (those that vanish meanwhile skipped)."""
    table: dict[int, tuple[int, int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_bytes()
        except OSError:
            continue
        # After the command name (in parentheses, which may hold spaces): state, ppid, pgrp, session.
        fields = raw.rpartition(b")")[2].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[3]))
    return table


def _lineage(pid: int, table: ProcessTable) -> list[int]:
    """``pid`` and its ancestors, nearest first, as far as the table knows them."""
    chain: list[int] = []
    while pid in table and pid not in chain:
        chain.append(pid)
        pid = table[pid][0]
    return chain


def session_is_own(pid: int, table: ProcessTable) -> bool:
    """Does ``pid``'s session hold only ``pid``, its ancestors and its descendants?"""
    if pid not in table:
        return False
    session = table[pid][1]
    ancestors = set(_lineage(pid, table))
    for other, (_parent, other_session) in table.items():
        if other_session != session or other in ancestors:
            continue
        if pid not in _lineage(other, table):
            return False  # an unrelated process shares the session, hence the autogroup
    return True


def autogroup_follow_niceness() -> tuple[bool, str]:
    """Set this process's autogroup niceness to the process's own, when that is safe. Returns whether
    the niceness now ranks the process against other sessions' processes, and what was done."""
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness <= 0:
        return True, f"niceness {niceness}: autogroup left alone"
    if not AUTOGROUP.exists():
        return True, "no autogroup here (not Linux, or a kernel without it): the niceness applies as it is"
    if ENABLED.exists() and ENABLED.read_text().strip() == "0":
        return True, "autogroup is off: the niceness applies as it is"
    if not session_is_own(os.getpid(), process_table()):
        return False, (
            f"niceness {niceness} ranks this process only within its session, which it shares with "
            "other processes: start it in a session of its own (as honcho and systemd do) for it to "
            "yield to them"
        )
    try:
        AUTOGROUP.write_text(str(niceness))
    except OSError as error:
        return False, f"could not set the autogroup's niceness to {niceness}: {error}"
    return True, f"autogroup niceness set to {niceness}, as the process's: it yields to other sessions too"
