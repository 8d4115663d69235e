"""The scenario runner: a fixed JSON contract so any tool can drive the engine.

``python -m questions.engine.scenario FILE`` (or ``-`` for standard input) prints one JSON line per
step; a malformed scenario prints ``{"step": N, "error": "..."}`` and exits with status 2.

Input keys: ``profile`` ("rfc9293" default, or "linux"), ``options`` (profile options), ``endpoints``
(two names, default ["client", "server"]), ``isn`` ({name: int}), ``wire`` ("auto" default or
"hold"), ``seed`` (int, default 0: draws the ISNs not given), ``steps``, and ``note``/``title``
(ignored). Every step may carry ``note`` and ``expect`` (ignored: tests keep expected results there).

Application steps: ``{"at": NAME, "do": CALL}`` with CALL one of listen connect accept send recv
shutdown close abort; ``connect`` may carry ``isn``, ``send`` carries ``bytes`` (default 1), ``recv``
may carry ``bytes`` (default: all). ``accept`` with no completed connection is a normal step whose
error is EAGAIN (a non-blocking accept). Wire and clock steps: ``{"do": "wire", "mode": "auto"|"hold"}``,
``{"do": "deliver"|"drop", "from": NAME}``, ``{"do": "deliver_all"}``, ``{"do": "inject", "to": NAME,
"flags": [...], "seq": N, "ack": N|null, "len": N}``, ``{"do": "advance", "seconds": X}``.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from questions.engine.core import FLAGS, Event
from questions.engine.profiles import PROFILES, profile
from questions.engine.simulation import Segment, Simulation, WireError, segment_dict

TOP_KEYS = frozenset({"profile", "options", "endpoints", "isn", "wire", "seed", "steps", "note", "title"})
COMMON_STEP_KEYS = frozenset({"do", "note", "expect"})
APP_CALLS: dict[str, Event] = {
    "listen": Event.LISTEN,
    "connect": Event.CONNECT,
    "accept": Event.ACCEPT,
    "send": Event.SEND,
    "recv": Event.RECV,
    "shutdown": Event.SHUTDOWN,
    "close": Event.CLOSE,
    "abort": Event.ABORT,
}
STEP_KEYS: dict[str, frozenset[str]] = {
    **{call: frozenset({"at"}) for call in APP_CALLS},
    "connect": frozenset({"at", "isn"}),
    "send": frozenset({"at", "bytes"}),
    "recv": frozenset({"at", "bytes"}),
    "wire": frozenset({"mode"}),
    "deliver": frozenset({"from"}),
    "drop": frozenset({"from"}),
    "deliver_all": frozenset(),
    "inject": frozenset({"to", "flags", "seq", "ack", "len"}),
    "advance": frozenset({"seconds"}),
}
REQUIRED_KEYS: dict[str, frozenset[str]] = {
    **{call: frozenset({"at"}) for call in APP_CALLS},
    "wire": frozenset({"mode"}),
    "deliver": frozenset({"from"}),
    "drop": frozenset({"from"}),
    "deliver_all": frozenset(),
    "inject": frozenset({"to", "flags", "seq"}),
    "advance": frozenset({"seconds"}),
}
# A segment's fate after each kind of trace entry that names it.
FATES: dict[str, str] = {"send": "held", "deliver": "delivered", "drop": "dropped"}
ALLOWED_KEYS: dict[str, frozenset[str]] = {do: COMMON_STEP_KEYS | keys for do, keys in STEP_KEYS.items()}
MAX_SEQ = (1 << 32) - 1


class ScenarioError(ValueError):
    """A malformed scenario: ``step`` (0 for the top level) and what is wrong."""

    def __init__(self, step: int, message: str, lines: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(f"step {step}: {message}")
        self.step = step
        self.message = message
        self.lines = list(lines)

    def as_line(self) -> dict[str, Any]:
        """The error as the runner prints it."""
        return {"step": self.step, "error": self.message}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _seq_number(step: int, key: str, value: Any, prefix: str = "") -> int:
    if not _is_int(value) or not 0 <= value <= MAX_SEQ:
        raise ScenarioError(step, f"{prefix + key!r} must be an integer from 0 to 2**32-1, not {value!r}")
    return int(value)


def build_simulation(spec: Any) -> Simulation:
    """Check the top level of a scenario and build its simulation; raises ScenarioError(0, ...)."""
    if not isinstance(spec, Mapping):
        raise ScenarioError(0, "a scenario is a JSON object")
    if not spec.keys() <= TOP_KEYS:
        unknown = sorted(spec.keys() - TOP_KEYS)
        raise ScenarioError(0, f"unknown top-level field(s): {', '.join(unknown)}")
    name = spec.get("profile", "rfc9293")
    options = spec.get("options", {})
    if not isinstance(options, Mapping):
        raise ScenarioError(0, "'options' must be an object")
    if not isinstance(name, str):
        raise ScenarioError(0, "'profile' must be a string")
    try:
        # The stock profiles are built once; only options need a new one.
        prof = PROFILES[name] if not options and name in PROFILES else profile(name, **dict(options))
    except ValueError as exc:
        raise ScenarioError(0, str(exc)) from None
    names = spec.get("endpoints", ["client", "server"])
    if (
        not isinstance(names, list)
        or len(names) != 2
        or not all(isinstance(n, str) and n for n in names)
        or names[0] == names[1]
    ):
        raise ScenarioError(0, "'endpoints' must be a list of two different names")
    isn = spec.get("isn", {})
    if not isinstance(isn, Mapping):
        raise ScenarioError(0, "'isn' must be an object mapping endpoint names to numbers")
    for key, value in isn.items():
        if key not in names:
            raise ScenarioError(0, f"'isn' names an unknown endpoint {key!r}")
        _seq_number(0, key, value, prefix="isn.")
    wire = spec.get("wire", "auto")
    if wire not in ("auto", "hold"):
        raise ScenarioError(0, f'\'wire\' must be "auto" or "hold", not {wire!r}')
    seed = spec.get("seed", 0)
    if not _is_int(seed):
        raise ScenarioError(0, f"'seed' must be an integer, not {seed!r}")
    steps = spec.get("steps")
    if not isinstance(steps, list):
        raise ScenarioError(0, "'steps' must be a list")
    # The seed only draws the ISNs not given (``isn`` names only endpoints): with both given, no
    # generator is needed.
    rng = None if len(isn) == 2 else random.Random(seed)
    return Simulation(prof, names, isn=isn, rng=rng, wire=wire)


def iter_scenario(spec: Any) -> Iterator[dict[str, Any]]:
    """Run a scenario, yielding one output line per step; raises ScenarioError when malformed."""
    sim = build_simulation(spec)
    for number, step in enumerate(spec["steps"], start=1):
        mark = len(sim.trace)
        _run_step(sim, number, step)
        yield step_line(sim, number, mark)


def simulate(spec: Any) -> tuple[list[dict[str, Any]], Simulation]:
    """Run a scenario; return its output lines and the simulation (for its trace and endpoints)."""
    sim = build_simulation(spec)
    lines: list[dict[str, Any]] = []
    try:
        for number, step in enumerate(spec["steps"], start=1):
            mark = len(sim.trace)
            _run_step(sim, number, step)
            lines.append(step_line(sim, number, mark))
    except ScenarioError as exc:
        exc.lines = lines
        raise
    return lines, sim


def run_scenario(spec: Any) -> list[dict[str, Any]]:
    """Run a scenario and return its output lines; a malformed one raises ScenarioError.

    The error carries ``lines`` (the output of the steps before it) and ``as_line()``.
    """
    return simulate(spec)[0]


def _endpoint(sim: Simulation, number: int, step: Mapping[str, Any], key: str) -> str:
    name = step[key]
    if name not in sim.names:
        raise ScenarioError(
            number, f"unknown endpoint {name!r} in {key!r}; expected one of: {', '.join(sim.names)}"
        )
    return str(name)


def _run_step(sim: Simulation, number: int, step: Any) -> None:
    if not isinstance(step, Mapping):
        raise ScenarioError(number, "a step is a JSON object")
    do = step.get("do")
    if do not in STEP_KEYS:
        raise ScenarioError(number, f"unknown step {do!r}; expected one of: {', '.join(STEP_KEYS)}")
    keys = step.keys()
    if not keys <= ALLOWED_KEYS[do]:
        unknown = sorted(keys - ALLOWED_KEYS[do])
        raise ScenarioError(number, f"unknown field(s) for {do!r}: {', '.join(unknown)}")
    if not keys >= REQUIRED_KEYS[do]:
        missing = sorted(REQUIRED_KEYS[do] - keys)
        raise ScenarioError(number, f"{do!r} needs field(s): {', '.join(missing)}")
    event = APP_CALLS.get(do)
    if event is not None:
        at = _endpoint(sim, number, step, "at")
        arg: Any = None
        if do == "connect" and step.get("isn") is not None:
            arg = _seq_number(number, "isn", step["isn"])
        elif do == "send":
            arg = step.get("bytes", 1)
            if not _is_int(arg) or arg < 1:
                raise ScenarioError(number, f"'bytes' must be a positive integer, not {arg!r}")
        elif do == "recv" and step.get("bytes") is not None:
            arg = step["bytes"]
            if not _is_int(arg) or arg < 0:
                raise ScenarioError(number, f"'bytes' must be a non-negative integer, not {arg!r}")
        sim.call(at, event, arg)
    elif do == "wire":
        if step["mode"] not in ("auto", "hold"):
            raise ScenarioError(number, f'\'mode\' must be "auto" or "hold", not {step["mode"]!r}')
        sim.set_wire(step["mode"])
    elif do in ("deliver", "drop"):
        sender = _endpoint(sim, number, step, "from")
        try:
            if do == "deliver":
                sim.deliver(sender)
            else:
                sim.drop(sender)
        except WireError as exc:
            raise ScenarioError(number, f"{do}: {exc}") from None
    elif do == "deliver_all":
        sim.deliver_all()
    elif do == "inject":
        to = _endpoint(sim, number, step, "to")
        flags = step["flags"]
        if not isinstance(flags, list) or not all(f in FLAGS for f in flags) or len(set(flags)) != len(flags):
            raise ScenarioError(
                number, f"'flags' must be a list drawn from {', '.join(FLAGS)}, not {flags!r}"
            )
        seq = _seq_number(number, "seq", step["seq"])
        ack_value = step.get("ack")
        if "ACK" in flags:
            if ack_value is None:
                raise ScenarioError(number, "'ack' is required when ACK is set")
            ack: int | None = _seq_number(number, "ack", ack_value)
        else:
            if ack_value is not None:
                raise ScenarioError(number, "'ack' must be null when ACK is not set")
            ack = None
        length = step.get("len", 0)
        if not _is_int(length) or length < 0:
            raise ScenarioError(number, f"'len' must be a non-negative integer, not {length!r}")
        sim.inject(to, flags, seq, ack, length)
    else:  # advance
        seconds = step["seconds"]
        if not _is_number(seconds) or seconds < 0:
            raise ScenarioError(number, f"'seconds' must be a non-negative number, not {seconds!r}")
        sim.advance(float(seconds))


def step_line(sim: Simulation, number: int, mark: int) -> dict[str, Any]:
    """The output line for step ``number``, from the trace entries after ``mark``."""
    names = sim.names
    segments: dict[Segment, dict[str, Any]] = {}
    errors: dict[str, str | None] = {names[0]: None, names[1]: None}
    for entry in sim.trace[mark:]:
        kind = entry[0]
        if kind == "step" or kind == "call":  # most entries: nothing for the line
            continue
        fate = FATES.get(kind)
        if fate is not None:
            seg = entry[2]
            out = segments.get(seg)
            if out is None:
                segments[seg] = segment_dict(seg, names, fate)
            else:
                out["fate"] = fate
        elif kind == "error":
            name = names[entry[2]]
            if errors[name] is None:
                errors[name] = entry[3]
    a, b = sim.endpoints
    return {
        "step": number,
        "states": {names[0]: a.state.value, names[1]: b.state.value},
        "segments": list(segments.values()),
        "errors": errors,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the scenario in FILE (or ``-`` for standard input)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(json.dumps({"step": 0, "error": "usage: python -m questions.engine.scenario FILE|-"}))
        return 2
    try:
        if args[0] == "-":
            text = sys.stdin.read()
        else:
            with open(args[0], encoding="utf-8") as handle:
                text = handle.read()
        spec = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(json.dumps({"step": 0, "error": f"cannot read the scenario: {exc}"}))
        return 2
    step = 0
    try:
        for line in iter_scenario(spec):
            step = line["step"]
            print(json.dumps(line))
    except ScenarioError as exc:
        print(json.dumps(exc.as_line()))
        return 2
    except Exception as exc:  # an engine bug must still not print a traceback
        print(json.dumps({"step": step + 1, "error": f"internal error: {type(exc).__name__}: {exc}"}))
        return 1
    return 0


__all__ = [
    "ScenarioError",
    "build_simulation",
    "iter_scenario",
    "main",
    "run_scenario",
    "simulate",
    "step_line",
]
