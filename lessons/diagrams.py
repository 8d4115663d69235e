"""Diagrams and step-through frames of a lesson, all computed by the engine and cached.

A scenario's frames come from the engine's scenario runner, one frame per thing that happens on the
wire: where the lesson's scenario lets the wire deliver everything at once ("auto"), the same
scenario is replayed on a held wire with one delivery per step, in the order the auto wire would
have used, so the player can show SYN_SENT and SYN_RECEIVED instead of jumping to ESTABLISHED.
Everything here is a pure function of (scenario spec, ENGINE_VERSION, language), so it is cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _

from lessons.content import sha256
from questions.engine import ENGINE_VERSION, Event, State
from questions.engine.concepts import EVENT_NAMES, STATE_NAMES, state_label
from questions.engine.diagrams import ladder_svg, state_diagram_svg
from questions.engine.scenario import APP_CALLS, run_scenario

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60 * 60 * 24


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _cached(kind: str, key_text: str, compute: Any) -> Any:
    """``compute()`` through the shared cache (a diagram is the same for every process)."""
    key = f"lessons:{kind}:{ENGINE_VERSION}:{sha256(key_text)}"
    try:
        found = cache.get(key)
    except Exception:  # a cache outage must not take the lesson pages down
        logger.warning("cache unavailable while reading %s", key, exc_info=True)
        found = None
    if found is not None:
        return found
    value = compute()
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:
        logger.warning("cache unavailable while writing %s", key, exc_info=True)
    return value


# --- Expanding a scenario into one frame per wire event ------------------------------------------


def _expanded_lines(spec: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(step, output line) pairs of ``spec`` replayed on a held wire, one delivery per step.

    Steps of the lesson's spec appear as they are; the deliveries an auto wire would have made are
    added as ``{"do": "deliver", "from": ...}`` steps (oldest segment first, as the auto wire does).
    Clock steps on an auto wire keep the auto wire (a retransmission there is answered at once).
    """
    base = {k: v for k, v in spec.items() if k != "steps"}
    base["wire"] = "hold"
    mode = str(spec.get("wire", "auto"))
    steps: list[dict[str, Any]] = []
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    held: list[str] = []  # senders of the segments on the wire, oldest first

    def run(step: dict[str, Any], *, shown: bool = True, wire_auto: bool = False) -> None:
        steps.append(step)
        line = run_scenario({**base, "steps": steps})[-1]
        if not wire_auto:
            for seg in line["segments"]:
                if seg["fate"] == "held":
                    held.append(seg["from"])
                elif seg["from"] in held:
                    held.remove(seg["from"])
        if shown:
            pairs.append((step, line))

    def flush() -> None:
        while held:
            run({"do": "deliver", "from": held[0]})

    for original in spec.get("steps", []):
        step = dict(original)
        do = step.get("do")
        if do == "wire":
            mode = str(step.get("mode"))
            if mode == "auto":
                flush()
            continue
        if do == "advance" and mode == "auto":
            run({"do": "wire", "mode": "auto"}, shown=False, wire_auto=True)
            run(step, wire_auto=True)
            run({"do": "wire", "mode": "hold"}, shown=False, wire_auto=True)
            continue
        run(step)
        if mode == "auto":
            flush()
    return pairs


def _name(name: str) -> str:
    """An endpoint's name as shown: the usual two are translated, others are shown as written."""
    return {"client": _("client"), "server": _("server")}.get(name, name)


def segment_label(seg: Mapping[str, Any]) -> str:
    """Flags, seq, ack and len of a segment, as the ladder writes them."""
    parts = ["+".join(seg["flags"]) or "-", f"seq={seg['seq']}"]
    if seg.get("ack") is not None:
        parts.append(f"ack={seg['ack']}")
    if seg.get("len"):
        parts.append(f"len={seg['len']}")
    return " ".join(parts)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fate_text(fate: str) -> str:
    return {"held": _("sent, in flight"), "delivered": _("arrives"), "dropped": _("lost")}.get(fate, fate)


def _describe(step: Mapping[str, Any], line: Mapping[str, Any], lang: str) -> str:
    """What happens in one frame, in one sentence."""
    do = step.get("do")
    if do in APP_CALLS:
        who = _name(str(step["at"]))
        what = EVENT_NAMES[Event(do)][lang]
        if do in ("send", "recv") and step.get("bytes"):
            return _("%(who)s %(what)s: %(bytes)s bytes.") % {
                "who": who,
                "what": what,
                "bytes": step["bytes"],
            }
        return _("%(who)s %(what)s.") % {"who": who, "what": what}
    if do in ("deliver", "drop"):
        moved = [s for s in line["segments"] if s["fate"] in ("delivered", "dropped")]
        seg = moved[0] if moved else None
        if seg is None:
            return _("Nothing arrives.")
        values = {"segment": segment_label(seg), "src": _name(seg["from"]), "dst": _name(seg["to"])}
        if do == "drop":
            return _("%(segment)s from %(src)s to %(dst)s is lost.") % values
        return _("%(segment)s from %(src)s arrives at %(dst)s.") % values
    if do == "deliver_all":
        return _("Every segment in flight arrives (they crossed on the wire).")
    if do == "inject":
        return _("A forged segment is sent to %(dst)s.") % {"dst": _name(str(step["to"]))}
    if do == "advance":
        return _("%(seconds)s seconds pass.") % {"seconds": step["seconds"]}
    return str(do)


def _frames(spec: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    previous: dict[str, str] = {}
    names = list(spec.get("endpoints", ["client", "server"]))
    with translation.override(lang):
        for number, (step, line) in enumerate(_expanded_lines(spec), start=1):
            endpoints = []
            for name in names:
                state = line["states"][name]
                endpoints.append(
                    {
                        "name": _name(name),
                        "state": state,
                        "label": state_label(State[state], lang),
                        "local": STATE_NAMES[State[state]]["zh-hans"] if lang == "zh-hans" else "",
                        "changed": previous.get(name) not in (None, state),
                        "error": line["errors"].get(name),
                    }
                )
                previous[name] = state
            segments = [
                {
                    "from": _name(seg["from"]),
                    "to": _name(seg["to"]),
                    "rightward": seg["from"] == names[0],
                    "label": segment_label(seg),
                    "fate": seg["fate"],
                    "fate_text": _fate_text(seg["fate"]),
                }
                for seg in line["segments"]
            ]
            frames.append(
                {
                    "number": number,
                    "text": _sentence(_describe(step, line, lang)),
                    "endpoints": endpoints,
                    "segments": segments,
                    "line": line,
                }
            )
        for frame in frames:
            frame["spoken"] = _spoken(frame, len(frames))
    return frames


def _spoken(frame: Mapping[str, Any], total: int) -> str:
    """What a screen reader announces for a frame: position, event, both states, the wire."""
    parts = [
        _("Step %(n)s of %(total)s.") % {"n": frame["number"], "total": total},
        frame["text"],
    ]
    for endpoint in frame["endpoints"]:
        state = endpoint["label"]
        if endpoint["error"]:
            state = _("%(state)s, error %(error)s") % {"state": state, "error": endpoint["error"]}
        parts.append(_sentence(_("%(name)s: %(state)s.") % {"name": endpoint["name"], "state": state}))
    if frame["segments"]:
        said = [
            _("%(src)s → %(dst)s: %(segment)s (%(fate)s)")
            % {"src": s["from"], "dst": s["to"], "segment": s["label"], "fate": s["fate_text"]}
            for s in frame["segments"]
        ]
        parts.append(_("On the wire: %(segments)s.") % {"segments": _("; ").join(said)})
    else:
        parts.append(_("Nothing on the wire."))
    return " ".join(parts)


def _ladder_lines(
    frames: Sequence[Mapping[str, Any]], names: Sequence[str], lang: str
) -> list[dict[str, Any]]:
    """The frames' engine lines, numbered by frame and with the endpoints' names as shown."""
    with translation.override(lang):
        shown = {name: _name(name) for name in names}
    out: list[dict[str, Any]] = []
    for frame in frames:
        line = frame["line"]
        out.append(
            {
                "step": frame["number"],
                "states": {shown[k]: v for k, v in line["states"].items()},
                "errors": {shown[k]: v for k, v in line["errors"].items()},
                "segments": [{**s, "from": shown[s["from"]], "to": shown[s["to"]]} for s in line["segments"]],
            }
        )
    return out


@lru_cache(maxsize=256)
def _scenario_view(spec_json: str, lang: str, id_prefix: str) -> dict[str, Any]:
    spec = json.loads(spec_json)

    def compute() -> dict[str, Any]:
        frames = _frames(spec, lang)
        names = list(spec.get("endpoints", ["client", "server"]))
        lines = _ladder_lines(frames, names, lang)
        with translation.override(lang):
            shown = [_name(n) for n in names]
        svg = ladder_svg(lines, lang=lang, names=shown, id_prefix=id_prefix)
        for frame in frames:
            del frame["line"]
        return {"frames": frames, "ladder_svg": svg, "names": shown}

    value: dict[str, Any] = _cached("scenario", f"{spec_json}|{lang}|{id_prefix}", compute)
    return value


def scenario_view(spec: Mapping[str, Any], lang: str, id_prefix: str) -> dict[str, Any]:
    """A scenario's frames (for the player and the table of steps), its ladder SVG and endpoint names.

    Raises the engine's ScenarioError when the spec is malformed.
    """
    return _scenario_view(_canonical(spec), lang, id_prefix)


@lru_cache(maxsize=128)
def _state_diagram(highlight: tuple[str, ...], lang: str, id_prefix: str) -> str:
    def compute() -> str:
        return state_diagram_svg(highlight=highlight, lang=lang, id_prefix=id_prefix)

    value: str = _cached("state-diagram", f"{_canonical(highlight)}|{lang}|{id_prefix}", compute)
    return value


def state_diagram(highlight: Sequence[str], lang: str, id_prefix: str = "tcp-states") -> str:
    """The engine's state diagram with ``highlight`` (transition skill ids) picked out."""
    return _state_diagram(tuple(highlight), lang, id_prefix)
