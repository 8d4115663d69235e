"""The admin: instructors edit lessons and glossary entries; ``load_lessons`` then keeps their edits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lessons.content import lesson_problems
from lessons.models import GlossaryEntry, Lesson, LessonProgress


class LessonAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Lesson
        fields = [
            "slug",
            "lang",
            "order",
            "title",
            "summary",
            "body_markdown",
            "skills",
            "topics",
            "corrects",
            "scenarios",
        ]
        widgets = {"body_markdown": forms.Textarea(attrs={"rows": 30, "cols": 100})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = lesson_problems(
            body_markdown=data.get("body_markdown") or "",
            skills=data.get("skills") if data.get("skills") is not None else [],
            scenarios=data.get("scenarios") if data.get("scenarios") is not None else [],
        )
        if problems:
            raise forms.ValidationError([forms.ValidationError(p) for p in problems])
        return data


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = LessonAdminForm
    list_display = ["order", "slug", "lang", "title", "edited", "updated_at"]
    list_display_links = ["slug", "title"]
    list_filter = ["lang"]
    search_fields = ["slug", "title", "summary", "body_markdown"]
    ordering = ["order", "slug", "lang"]
    readonly_fields = ["source_path", "source_hash", "loaded_hash", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", "lang", "order", "title", "summary", "body_markdown"]}),
        (_("Skills and scenarios"), {"fields": ["skills", "topics", "corrects", "scenarios"]}),
        (_("Loading"), {"fields": ["source_path", "source_hash", "loaded_hash", "updated_at"]}),
    ]

    @admin.display(boolean=True, description=_("edited in the admin"))
    def edited(self, obj: Lesson) -> bool:
        return obj.is_edited


@admin.register(GlossaryEntry)
class GlossaryEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["order", "key", "lang", "term", "edited", "updated_at"]
    list_display_links = ["key", "term"]
    list_filter = ["lang"]
    search_fields = ["key", "term", "definition", "aliases"]
    ordering = ["order", "key", "lang"]
    readonly_fields = ["source_hash", "loaded_hash", "updated_at"]

    @admin.display(boolean=True, description=_("edited in the admin"))
    def edited(self, obj: GlossaryEntry) -> bool:
        return obj.is_edited


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "lesson_slug", "viewed_at", "completed_at"]
    list_filter = ["lesson_slug"]
    search_fields = ["user__username", "lesson_slug"]
    raw_id_fields = ["user"]
