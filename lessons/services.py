"""Writes: loading the course from its files, and students' progress. Atomic, keyword-only, no request."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from lessons.content import CONTENT_DIR, content_hash, read_course
from lessons.errors import LessonNotFound
from lessons.models import GlossaryEntry, Lesson, LessonProgress


@dataclass
class LoadReport:
    """What ``lesson_load_from_files`` did, row by row (``"slug (lang)"`` or ``"key (lang)"``)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Edited in the admin and changed on disk too: left as the instructor wrote it.
    skipped: list[str] = field(default_factory=list)
    # Edited in the admin, file unchanged: nothing to load anyway.
    kept: list[str] = field(default_factory=list)
    # Edited in the admin, replaced by the file because --force was given.
    overwritten: list[str] = field(default_factory=list)
    # In the database but in no file (e.g. written in the admin): left alone.
    orphans: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _load_row(
    *,
    model: type[Lesson] | type[GlossaryEntry],
    lookup: dict[str, str],
    fields: dict[str, object],
    source_hash: str,
    extra: dict[str, object],
    force: bool,
    label: str,
    report: LoadReport,
) -> None:
    row = model.objects.select_for_update().filter(**lookup).first()
    loaded = content_hash(fields)
    values = {**fields, **extra, "source_hash": source_hash, "loaded_hash": loaded}
    if row is None:
        model.objects.create(**lookup, **values)
        report.created.append(label)
        return
    if row.is_edited and not force:
        (report.kept if row.source_hash == source_hash else report.skipped).append(label)
        return
    if not row.is_edited and row.source_hash == source_hash and row.loaded_hash == loaded:
        report.unchanged.append(label)
        return
    (report.overwritten if row.is_edited else report.updated).append(label)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()


@transaction.atomic
def lesson_load_from_files(*, content_dir: Path = CONTENT_DIR, force: bool = False) -> LoadReport:
    """Load every lesson file and the glossary into the database; safe to run again.

    A row an instructor edited in the admin since the last load is never overwritten unless
    ``force``; files that fail their checks are reported in ``problems`` and not loaded.
    """
    course = read_course(content_dir)
    report = LoadReport(problems=list(course.problems))
    seen_lessons: set[tuple[str, str]] = set()
    for lesson in course.lessons:
        seen_lessons.add((lesson.slug, lesson.lang))
        try:
            source_path = str(Path(lesson.path).relative_to(content_dir))
        except ValueError:
            source_path = lesson.path
        _load_row(
            model=Lesson,
            lookup={"slug": lesson.slug, "lang": lesson.lang},
            fields=lesson.fields(),
            source_hash=lesson.source_hash,
            extra={"source_path": source_path},
            force=force,
            label=f"{lesson.slug} ({lesson.lang})",
            report=report,
        )
    seen_terms: set[tuple[str, str]] = set()
    for entry in course.glossary:
        seen_terms.add((entry.key, entry.lang))
        _load_row(
            model=GlossaryEntry,
            lookup={"key": entry.key, "lang": entry.lang},
            fields=entry.fields(),
            source_hash=entry.source_hash,
            extra={},
            force=force,
            label=f"glossary {entry.key} ({entry.lang})",
            report=report,
        )
    for slug, lang in Lesson.objects.values_list("slug", "lang"):
        if (slug, lang) not in seen_lessons:
            report.orphans.append(f"{slug} ({lang})")
    for key, lang in GlossaryEntry.objects.values_list("key", "lang"):
        if (key, lang) not in seen_terms:
            report.orphans.append(f"glossary {key} ({lang})")
    return report


@transaction.atomic
def progress_mark_viewed(*, user: User, slug: str) -> LessonProgress:
    """Record that ``user`` opened lesson ``slug`` (the first time only); LessonNotFound."""
    if not Lesson.objects.filter(slug=slug).exists():
        raise LessonNotFound(slug)
    progress, _created = LessonProgress.objects.get_or_create(user=user, lesson_slug=slug)
    return progress


@transaction.atomic
def progress_mark_done(*, user: User, slug: str) -> LessonProgress:
    """Record that ``user`` finished lesson ``slug``; the first completion time is kept. LessonNotFound."""
    progress = progress_mark_viewed(user=user, slug=slug)
    if progress.completed_at is None:
        LessonProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(
            completed_at=timezone.now()
        )
        progress.refresh_from_db()
    return progress
