"""Engine benchmark: ``python -m bench.engine`` prints steps/s, scenarios/s and sampled scenarios/s.

Everything runs in this one process (one core). Targets: 2,000,000 table steps/s through
``transition()`` and 20,000 complete handshake-plus-close scenarios/s.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from questions.engine import (
    ENGINE_VERSION,
    LINUX,
    RFC9293,
    Profile,
    Simulation,
    State,
    legal_events,
    run_scenario,
    sample_scenario,
    transition,
)

STEP_TARGET = 2_000_000
SCENARIO_TARGET = 20_000


def _best_rate(run: Callable[[], int], repeat: int) -> float:
    """The best of ``repeat`` timings, as operations per second."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        best = max(best, count / (time.perf_counter() - start))
    return best


def table_steps(prof: Profile, n: int) -> Callable[[], int]:
    """n calls of transition() over every legal (state, event) pair of the profile."""
    pairs = [(state, event) for state in State for event in legal_events(state, prof)]
    work = (pairs * (n // len(pairs) + 1))[:n]

    def run() -> int:
        step = transition
        for state, event in work:
            step(state, event, prof)
        return n

    return run


def handshake_and_close(prof: Profile, n: int) -> Callable[[], int]:
    """n complete scenarios: listen, connect, accept, both close, TIME_WAIT expiry (7 segments)."""
    isn = {"client": 1000, "server": 5000}
    wait = prof.time_wait_s

    def run() -> int:
        for _ in range(n):
            sim = Simulation(prof, isn=isn)
            sim.listen("server")
            sim.connect("client")
            sim.accept("server")
            sim.close("client")
            sim.close("server")
            sim.advance(wait)
        return n

    return run


def json_scenarios(prof: Profile, n: int) -> Callable[[], int]:
    """n handshake-plus-close scenarios through run_scenario (validation and JSON lines included)."""
    spec = {
        "profile": prof.name,
        "isn": {"client": 1000, "server": 5000},
        "steps": [
            {"at": "server", "do": "listen"},
            {"at": "client", "do": "connect"},
            {"at": "server", "do": "accept"},
            {"at": "client", "do": "close"},
            {"at": "server", "do": "close"},
            {"do": "advance", "seconds": prof.time_wait_s},
        ],
    }

    def run() -> int:
        for _ in range(n):
            run_scenario(spec)
        return n

    return run


def sampled_scenarios(prof: Profile, n: int) -> Callable[[], int]:
    """n scenarios drawn by sample_scenario (with loss and duplication) and run."""

    def run() -> int:
        for seed in range(n):
            run_scenario(sample_scenario(random.Random(seed), profile=prof, loss=True, duplication=True))
        return n

    return run


def main() -> None:
    """Print the figures, one per line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    repeat = 2 if args.quick else 5
    print(f"engine {ENGINE_VERSION}, one process")
    for prof in (RFC9293, LINUX):
        steps = _best_rate(table_steps(prof, 1_000_000 // scale), repeat)
        scenarios = _best_rate(handshake_and_close(prof, 20_000 // scale), repeat)
        json_rate = _best_rate(json_scenarios(prof, 5_000 // scale), repeat)
        sampled = _best_rate(sampled_scenarios(prof, 1_000 // scale), max(1, repeat // 2))
        rows = [
            ("table steps/s (transition())", steps, STEP_TARGET),
            ("handshake+close scenarios/s (Simulation)", scenarios, SCENARIO_TARGET),
            ("handshake+close scenarios/s (run_scenario)", json_rate, None),
            ("sampled scenarios/s (sample_scenario + run)", sampled, None),
        ]
        for label, rate, target in rows:
            goal = f"  target {target:,}" if target else ""
            print(f"[{prof.name}] {label:<45} {rate:>12,.0f}{goal}")


if __name__ == "__main__":
    main()
