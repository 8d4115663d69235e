"""Lessons and glossary entries (loaded from files, editable in the admin) and students' progress.

A row remembers the hash of its editable fields as last loaded (``loaded_hash``): when the fields no
longer hash to it, an instructor edited the row and ``load_lessons`` leaves it alone unless forced.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lessons.content import content_hash


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class Lesson(models.Model):
    slug = models.SlugField(_("slug"), max_length=100)
    lang = models.CharField(_("language"), max_length=16, choices=Language.choices)
    order = models.PositiveIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    body_markdown = models.TextField(_("body (Markdown)"))
    # Skill ids (docs/contracts.md): c:<concept> and t:<STATE>:<event>.
    skills = models.JSONField(_("skills"), default=list, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    corrects = models.JSONField(_("corrects"), default=list, blank=True)
    # [{"id": ..., "title": {"en": ..., "zh-hans": ...}, "spec": <engine scenario>}]
    scenarios = models.JSONField(_("scenarios"), default=list, blank=True)
    source_path = models.CharField(_("source file"), max_length=300, blank=True)
    source_hash = models.CharField(_("hash of the source file at the last load"), max_length=64, blank=True)
    loaded_hash = models.CharField(_("hash of the fields at the last load"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["lang", "order", "slug"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(fields=["slug", "lang"], name="lesson_one_per_slug_lang"),
            models.CheckConstraint(condition=Q(lang__in=["en", "zh-hans"]), name="lesson_lang_valid"),
        ]
        indexes = [models.Index(fields=["lang", "order"], name="lesson_lang_order")]

    def __str__(self) -> str:
        return f"{self.slug} ({self.lang})"

    def editable_fields(self) -> dict[str, object]:
        return {
            "order": self.order,
            "title": self.title,
            "summary": self.summary,
            "body_markdown": self.body_markdown,
            "skills": self.skills,
            "topics": self.topics,
            "corrects": self.corrects,
            "scenarios": self.scenarios,
        }

    @property
    def is_edited(self) -> bool:
        """True when the row differs from what ``load_lessons`` last wrote (or was written in the admin)."""
        return content_hash(self.editable_fields()) != self.loaded_hash


class GlossaryEntry(models.Model):
    key = models.SlugField(_("key"), max_length=100)
    lang = models.CharField(_("language"), max_length=16, choices=Language.choices)
    order = models.PositiveIntegerField(_("order"), default=0)
    term = models.CharField(_("term"), max_length=200)
    definition = models.TextField(_("definition"))
    aliases = models.TextField(_("aliases (one per line)"), blank=True)
    # Slugs of the lessons that teach the term.
    lessons = models.JSONField(_("lessons"), default=list, blank=True)
    source_hash = models.CharField(_("hash of the source entry at the last load"), max_length=64, blank=True)
    loaded_hash = models.CharField(_("hash of the fields at the last load"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["lang", "order", "key"]
        verbose_name = _("glossary entry")
        verbose_name_plural = _("glossary entries")
        constraints = [
            models.UniqueConstraint(fields=["key", "lang"], name="glossary_one_per_key_lang"),
            models.CheckConstraint(condition=Q(lang__in=["en", "zh-hans"]), name="glossary_lang_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.lang})"

    def editable_fields(self) -> dict[str, object]:
        return {
            "order": self.order,
            "term": self.term,
            "definition": self.definition,
            "aliases": self.aliases,
            "lessons": self.lessons,
        }

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.splitlines() if a.strip()]

    @property
    def is_edited(self) -> bool:
        """True when the row differs from what ``load_lessons`` last wrote (or was written in the admin)."""
        return content_hash(self.editable_fields()) != self.loaded_hash


class LessonProgress(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="lesson_progress",
        verbose_name=_("user"),
    )
    # By slug, not by row: progress holds for the lesson in every language.
    lesson_slug = models.SlugField(_("lesson"), max_length=100)
    viewed_at = models.DateTimeField(_("first viewed at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["user", "lesson_slug"]
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson_slug"], name="lesson_progress_one_per_user_lesson"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.lesson_slug}"
