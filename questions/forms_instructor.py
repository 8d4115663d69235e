"""Instructor forms: a quiz's settings, one question slot, and the family preview's parameters."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from questions.models import QuestionBank, Quiz, QuizSlot
from questions.selectors import FAMILY_PREVIEW_MAX, FamilyInfo

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SEED_MAX = (1 << 62) - 1
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_field(label: StrOrPromise) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[_DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_FORMAT),
        help_text=_("Date and time in UTC. Leave empty for no limit."),
    )


class QuizForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to students. Markdown: **bold**, *italic*, lists and links."),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=Quiz.Mode.choices,
        help_text=_("Practice shows each result as it is graded; an exam waits until it is submitted."),
    )
    review = forms.ChoiceField(label=_("Students see results and explanations"), choices=Quiz.Review.choices)
    time_limit_minutes = forms.IntegerField(
        label=_("Time limit (minutes)"),
        required=False,
        min_value=1,
        max_value=7 * 24 * 60,
        help_text=_("Leave empty for no time limit."),
    )
    max_attempts = forms.IntegerField(
        label=_("Maximum attempts"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_("Leave empty for unlimited attempts."),
    )
    shuffle = forms.BooleanField(label=_("Shuffle the questions for each attempt"), required=False)
    opens_at = _datetime_field(_("Opens at"))
    closes_at = _datetime_field(_("Closes at"))
    is_published = forms.BooleanField(
        label=_("Published (students can see it)"), required=False, initial=True
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The quiz must close after it opens."))
        return data

    @staticmethod
    def initial_for(quiz: Quiz) -> dict[str, Any]:
        return {
            "title": quiz.title,
            "description": quiz.description,
            "mode": quiz.mode,
            "review": quiz.review,
            "time_limit_minutes": int(quiz.time_limit.total_seconds() // 60) if quiz.time_limit else None,
            "max_attempts": quiz.max_attempts,
            "shuffle": quiz.shuffle,
            "opens_at": quiz.opens_at,
            "closes_at": quiz.closes_at,
            "is_published": quiz.is_published,
        }

    def settings(self) -> dict[str, Any]:
        """The cleaned data as the quiz services take it."""
        data = self.cleaned_data
        minutes = data.get("time_limit_minutes")
        return {
            "title": data["title"],
            "description": data.get("description") or "",
            "mode": data["mode"],
            "review": data["review"],
            "time_limit": timedelta(minutes=minutes) if minutes else None,
            "max_attempts": data.get("max_attempts"),
            "shuffle": bool(data.get("shuffle")),
            "opens_at": data.get("opens_at"),
            "closes_at": data.get("closes_at"),
            "is_published": bool(data.get("is_published")),
        }


class SlotForm(forms.Form):
    """One question slot: which family, how hard, how many points."""

    family = forms.ChoiceField(label=_("Question family"))
    difficulty = forms.ChoiceField(
        label=_("Difficulty"), choices=QuizSlot.Difficulty.choices, initial=QuizSlot.Difficulty.MEDIUM
    )
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args: Any, families: list[FamilyInfo], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = [(f.name, f.title) for f in families]  # type: ignore[attr-defined]


class PreviewForm(forms.Form):
    """The family preview's query string: how many variants, how hard, which seed, which language."""

    n = forms.IntegerField(
        label=_("Variants"), min_value=1, max_value=FAMILY_PREVIEW_MAX, initial=5, required=False
    )
    difficulty = forms.ChoiceField(label=_("Difficulty"), choices=QuizSlot.Difficulty.choices, required=False)
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=SEED_MAX,
        required=False,
        help_text=_("The same seed shows the same variants. Leave empty for a random one."),
    )
    lang = forms.ChoiceField(
        label=_("Question language"),
        choices=[("", _("As the page")), ("en", _("English")), ("zh-hans", _("Simplified Chinese"))],
        required=False,
    )


class BankForm(forms.Form):
    title = forms.CharField(label=_("Bank title"), max_length=200)


class BankItemForm(forms.Form):
    """One item of a question bank: a family at a difficulty."""

    family = forms.ChoiceField(label=_("Question family"))
    difficulty = forms.ChoiceField(
        label=_("Difficulty"), choices=QuizSlot.Difficulty.choices, initial=QuizSlot.Difficulty.MEDIUM
    )

    def __init__(self, *args: Any, families: list[FamilyInfo], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = [(f.name, f.title) for f in families]  # type: ignore[attr-defined]


class BankSlotForm(forms.Form):
    """A slot that draws from one of the course's question banks."""

    bank = forms.ChoiceField(label=_("Question bank"))
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args: Any, banks: list[QuestionBank], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank"].choices = [(str(b.pk), b.title) for b in banks]  # type: ignore[attr-defined]
