"""Generator benchmark: ``python -m bench.generate`` prints complete variants/s per family.

A complete variant has its key, distractors, explanation (both languages) and diagram. Everything
runs in this one process (one core). Targets: 5,000 variants/s for a single-endpoint family, 1,000/s
for a two-endpoint one (``Family.two_endpoint``), and a 10,000-variant mixed bank in under 10 s.
"""

from __future__ import annotations

import argparse
import time

from questions.engine import ENGINE_VERSION
from questions.generators.base import Difficulty
from questions.generators.registry import families, make_variant

SINGLE_TARGET = 5_000
TWO_ENDPOINT_TARGET = 1_000
BANK_SIZE = 10_000
BANK_SECONDS = 10.0
LEVELS = tuple(Difficulty)


def family_rate(name: str, count: int, first_seed: int) -> float:
    """Variants of ``name`` per second over ``count`` fresh seeds, levels in turn."""
    start = time.perf_counter()
    for i in range(count):
        make_variant(name, first_seed + i, LEVELS[i % 3])
    return count / (time.perf_counter() - start)


def bank_seconds(size: int, first_seed: int) -> float:
    """Seconds to make a ``size``-variant bank spread evenly over every family and level."""
    names = list(families())
    start = time.perf_counter()
    for i in range(size):
        make_variant(names[i % len(names)], first_seed + i, LEVELS[(i // len(names)) % 3])
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3_000, help="variants per family")
    parser.add_argument(
        "--seed", type=int, default=1_000_000, help="first seed (fresh seeds avoid warm caches)"
    )
    args = parser.parse_args(argv)
    print(f"engine {ENGINE_VERSION}; {args.count} variants per family, levels easy/medium/hard in turn")
    failed = False
    for name, family in families().items():
        family_rate(name, 30, 7)  # warm-up: imports and per-profile tables
        rate = family_rate(name, args.count, args.seed)
        target = TWO_ENDPOINT_TARGET if family.two_endpoint else SINGLE_TARGET
        ok = rate >= target
        failed |= not ok
        kind = "two-endpoint" if family.two_endpoint else "single"
        print(f"{name:16s} {kind:12s} {rate:10,.0f} variants/s  (target {target:,}) {'ok' if ok else 'SLOW'}")
    seconds = bank_seconds(BANK_SIZE, args.seed + 10 * args.count)
    ok = seconds < BANK_SECONDS
    failed |= not ok
    print(
        f"bank of {BANK_SIZE:,} mixed variants: {seconds:.2f} s  "
        f"(target < {BANK_SECONDS:.0f} s) {'ok' if ok else 'SLOW'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
