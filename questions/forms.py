"""HTML forms: they validate what a person typed before a service is called."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from questions.models import Course
from questions.services import join_code_normalize


def _join_code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Course join code"),
        max_length=32,
        help_text=_("Your instructor gives you this code, e.g. DEMO-TCP1."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def _clean_join_code(value: str) -> str:
    code = join_code_normalize(value)
    if not Course.objects.filter(join_code=code).exists():
        raise forms.ValidationError(_("No course has this join code. Check it with your instructor."))
    return code


class SignupForm(UserCreationForm):  # type: ignore[type-arg]
    join_code = _join_code_field()
    email = forms.EmailField(
        label=_("Email (optional, for password resets)"), required=False, widget=forms.EmailInput()
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def clean_join_code(self) -> str:
        return _clean_join_code(self.cleaned_data["join_code"])


class JoinCourseForm(forms.Form):
    join_code = _join_code_field()

    def clean_join_code(self) -> str:
        return _clean_join_code(self.cleaned_data["join_code"])


# --- Answers of every input kind (see questions.generators.base.InputKind) ---------------------------

MAX_TEXT = 64
LADDER_FLAGS = ("SYN", "ACK", "FIN", "RST", "PSH")


def response_from_post(
    public: dict[str, Any], data: Any, *, complete: bool
) -> tuple[dict[str, Any] | None, str | None]:
    """The response a question's form posted, in the kind's answer shape, or an error message.

    ``complete`` (checking or submitting an answer) requires every part to be filled in and readable;
    otherwise (a draft being autosaved) blanks are kept as they are. Nothing here grades.
    """
    kind = public.get("kind")
    widget = public.get("widget") or {}
    choice_ids = [c["id"] for c in public.get("choices", [])]
    if kind == "single":
        choice = data.get("choice")
        if choice in choice_ids:
            return {"choice": choice}, None
        return (None, str(_("Choose one of the answers first."))) if complete or choice else ({}, None)
    if kind == "multiple":
        chosen = [c for c in data.getlist("choices") if c in choice_ids]
        if len(set(chosen)) != len(data.getlist("choices")):
            return None, str(_("Choose among the offered statements."))
        if complete and not chosen:
            return None, str(_("Select at least one statement."))
        return {"choices": chosen}, None
    if kind == "order":
        items = [item["id"] for item in widget.get("items", [])]
        order = data.getlist("order")
        if sorted(order) != sorted(items):
            return None, str(_("Put every state in the list once."))
        return {"order": order}, None
    if kind == "numeric":
        values: dict[str, str] = {}
        for field in widget.get("fields", []):
            values[field["id"]] = str(data.get(f"v-{field['id']}", "")).strip()[:MAX_TEXT]
        if complete:
            blank = [v for v in values.values() if v == ""]
            if blank:
                return None, str(
                    ngettext(
                        "Fill in every number: %(count)d field is still blank.",
                        "Fill in every number: %(count)d fields are still blank.",
                        len(blank),
                    )
                    % {"count": len(blank)}
                )
            if not all(v.lstrip("+-").isdigit() for v in values.values()):
                return None, str(_("Enter whole numbers only (digits, no spaces or dots)."))
        return {"values": values}, None
    if kind == "ladder":
        cells = {cell: _cell_value(data, cell) for cell in widget.get("blanks", [])}
        if complete:
            blank = [v for v in cells.values() if v == ""]
            if blank:
                return None, str(
                    ngettext(
                        "Fill in every blank cell: %(count)d is still empty.",
                        "Fill in every blank cell: %(count)d are still empty.",
                        len(blank),
                    )
                    % {"count": len(blank)}
                )
        return {"cells": cells}, None
    if kind == "trace_step":
        step = data.get("step")
        if step == "valid":
            return {"step": None}, None
        steps = [str(s["n"]) for s in widget.get("steps", [])]
        if step in steps:
            return {"step": int(step)}, None
        return (
            (None, str(_("Choose the first impossible step, or “the trace is valid”.")))
            if (complete or step)
            else ({}, None)
        )
    return None, str(_("This question cannot be answered here."))


def response_moved(public: dict[str, Any], order: list[str], move: str) -> list[str]:
    """``order`` with one item moved one place (``"<item id>:up"`` or ``"<item id>:down"``): the
    ordering widget's buttons without JavaScript."""
    item, _sep, direction = move.rpartition(":")
    if item not in order or direction not in ("up", "down"):
        return order
    at = order.index(item)
    to = at - 1 if direction == "up" else at + 1
    if not 0 <= to < len(order):
        return order
    moved = list(order)
    moved[at], moved[to] = moved[to], moved[at]
    return moved


def _cell_value(data: Any, cell: str) -> str:
    """A ladder cell as posted: flags come as checkboxes (joined "SYN+ACK"), other cells as text."""
    values = [str(v).strip() for v in data.getlist(f"c-{cell}") if str(v).strip()]
    if cell.endswith(".flags") and all(v.upper() in LADDER_FLAGS for v in values):
        return "+".join(f for f in LADDER_FLAGS if f in {v.upper() for v in values})
    return values[-1][:MAX_TEXT] if values else ""
