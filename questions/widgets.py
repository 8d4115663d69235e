"""What the answer widgets of each input kind need to render, prepared from a question's public
payload and the response being composed (a draft, or what was just posted).

Presentation only: no database, no grading. See questions.generators.base.InputKind for the shapes.
"""

from __future__ import annotations

from typing import Any

from questions.engine import State
from questions.engine.concepts import state_label

FLAGS: tuple[str, ...] = ("SYN", "ACK", "FIN", "RST", "PSH")


def _state_text(name: str, lang: str) -> str:
    try:
        return state_label(State[name], lang)
    except KeyError:
        return name


def widget_context(public: dict[str, Any], response: Any, lang: str) -> dict[str, Any]:
    """Template data for ``public``'s widget, filled in with ``response`` where it has values."""
    kind = public.get("kind")
    widget: dict[str, Any] = public.get("widget") or {}
    given: dict[str, Any] = response if isinstance(response, dict) else {}
    if kind == "single":
        return {
            "choices": [{**c, "checked": given.get("choice") == c["id"]} for c in public.get("choices", [])]
        }
    if kind == "multiple":
        chosen = set(given.get("choices") or [])
        return {"choices": [{**c, "checked": c["id"] in chosen} for c in public.get("choices", [])]}
    if kind == "order":
        items = {item["id"]: item for item in widget.get("items", [])}
        order = [str(i) for i in given.get("order") or []]
        if sorted(order) != sorted(items):
            order = list(items)
        return {
            "items": [items[i] for i in order],
            "start": widget.get("start"),
            "end": _state_text(widget["end"], lang) if widget.get("end") else None,
        }
    if kind == "numeric":
        values: dict[str, Any] = given["values"] if isinstance(given.get("values"), dict) else {}
        fields = [{**f, "value": values.get(f["id"], "")} for f in widget.get("fields", [])]
        segments = widget.get("segments") or []
        if not segments:
            return {"fields": fields, "segments": []}
        by_segment: dict[int, dict[str, Any]] = {}
        for f in fields:
            by_segment.setdefault(int(f.get("segment") or 0), {})[f["id"].rsplit(".", 1)[-1]] = f
        return {
            "fields": fields,
            "segments": [
                {
                    **s,
                    "seq": by_segment.get(s["n"], {}).get("seq"),
                    "ack": by_segment.get(s["n"], {}).get("ack"),
                }
                for s in segments
            ],
        }
    if kind == "ladder":
        cells: dict[str, Any] = given["cells"] if isinstance(given.get("cells"), dict) else {}
        states = [
            {"value": s, "text": _state_text(s, lang)} for s in (widget.get("options") or {}).get("state", [])
        ]
        names = widget.get("names") or {}
        rows = []
        for row in widget.get("rows", []):
            out = []
            for column in widget.get("columns", []):
                value = row["cells"].get(column)
                cell_id = f"r{row['n']}.{column}"
                if value is not None:
                    shown = _state_text(value, lang) if column.startswith("state") else value
                    out.append({"column": column, "blank": False, "value": shown})
                    continue
                typed = str(cells.get(cell_id, ""))
                out.append(
                    {
                        "column": column,
                        "blank": True,
                        "id": cell_id,
                        "value": typed,
                        "flags": [
                            {"name": f, "checked": f in typed.upper().replace(" ", "").split("+")}
                            for f in FLAGS
                        ]
                        if column == "flags"
                        else None,
                    }
                )
            rows.append({**row, "cells_out": out, "a_to_b": row.get("from") in ("client", "A", "a")})
        return {"rows": rows, "names": names, "states": states}
    if kind == "trace_step":
        has = "step" in given
        return {
            "steps": [{**s, "checked": has and given.get("step") == s["n"]} for s in widget.get("steps", [])],
            "valid_label": widget.get("valid_label"),
            "valid_checked": has and given.get("step") is None,
        }
    return {}
