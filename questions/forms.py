"""HTML forms: they validate what a person typed before a service is called."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

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


class ChoiceAnswerForm(forms.Form):
    """A single-choice answer: the choice ids come from the question's public payload."""

    choice = forms.ChoiceField(
        label=_("Your answer"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the answers first.")},
    )

    def __init__(self, *args: Any, choices: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = [(c["id"], c["text"]) for c in choices]  # type: ignore[attr-defined]
