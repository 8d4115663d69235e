"""Reads: lessons, glossary and progress in the active language, and search across them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse

from lessons.content import LANGS, MARKER_RE
from lessons.errors import LessonNotFound
from lessons.models import GlossaryEntry, Lesson, LessonProgress

UserLike = User | AnonymousUser
SNIPPET_CHARS = 90
# The practice page belongs to another part of the site; these are tried in order.
PRACTICE_URL_NAMES: tuple[str, ...] = ("questions:practice", "practice")
PRACTICE_URL_FALLBACK = "/practice/"


def lesson_lang(language_code: str | None) -> str:
    """The content language for a Django language code: "zh-hans" for any Chinese, else "en"."""
    if language_code and language_code.lower().startswith("zh"):
        return "zh-hans"
    return "en"


def lesson_list(*, lang: str) -> QuerySet[Lesson]:
    """The course's lessons in ``lang``, in course order."""
    return Lesson.objects.filter(lang=lang).order_by("order", "slug")


def lesson_get(*, slug: str, lang: str) -> Lesson:
    """The lesson ``slug`` in ``lang`` (or, failing that, in the other language); LessonNotFound."""
    found = {lesson.lang: lesson for lesson in Lesson.objects.filter(slug=slug)}
    for candidate in (lang, *LANGS):
        if candidate in found:
            return found[candidate]
    raise LessonNotFound(slug)


def lesson_exists(*, slug: str) -> bool:
    return Lesson.objects.filter(slug=slug).exists()


@dataclass(frozen=True)
class Neighbours:
    previous: Lesson | None
    next: Lesson | None


def lesson_neighbours(*, lesson: Lesson) -> Neighbours:
    """The lessons before and after ``lesson`` in course order (same language)."""
    siblings = list(lesson_list(lang=lesson.lang).only("slug", "title", "order", "lang"))
    slugs = [s.slug for s in siblings]
    if lesson.slug not in slugs:
        return Neighbours(None, None)
    at = slugs.index(lesson.slug)
    return Neighbours(
        previous=siblings[at - 1] if at > 0 else None,
        next=siblings[at + 1] if at + 1 < len(siblings) else None,
    )


def progress_by_slug(*, user: UserLike) -> dict[str, LessonProgress]:
    """The signed-in user's progress, by lesson slug (empty for an anonymous visitor)."""
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    return {p.lesson_slug: p for p in LessonProgress.objects.filter(user=user)}


def progress_get(*, user: UserLike, slug: str) -> LessonProgress | None:
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    return LessonProgress.objects.filter(user=user, lesson_slug=slug).first()


def practice_url(*, skills: list[str]) -> str:
    """The practice page drawing fresh variants on exactly ``skills`` (``?skills=a,b,c``)."""
    base = getattr(settings, "LESSONS_PRACTICE_URL", None)
    if not base:
        for name in PRACTICE_URL_NAMES:
            try:
                base = reverse(name)
                break
            except NoReverseMatch:
                continue
        else:
            base = PRACTICE_URL_FALLBACK
    return f"{base}?skills={quote(','.join(skills), safe=':,_')}"


@dataclass(frozen=True)
class GlossaryItem:
    """One glossary entry in the page's language, with its term in the other language."""

    entry: GlossaryEntry
    other_term: str | None
    lessons: list[Lesson]


def glossary_list(*, lang: str) -> list[GlossaryItem]:
    """Every glossary entry in ``lang``, each with its term in the other language and its lessons."""
    other = {e.key: e.term for e in GlossaryEntry.objects.exclude(lang=lang).only("key", "term")}
    lessons = {lesson.slug: lesson for lesson in lesson_list(lang=lang).only("slug", "title", "lang")}
    return [
        GlossaryItem(
            entry=entry,
            other_term=other.get(entry.key),
            lessons=[lessons[s] for s in entry.lessons if s in lessons],
        )
        for entry in GlossaryEntry.objects.filter(lang=lang).order_by("order", "key")
    ]


@dataclass(frozen=True)
class Snippet:
    """Text around the first match: ``before``, the ``match`` itself and ``after`` (plain text)."""

    before: str
    match: str
    after: str


@dataclass(frozen=True)
class SearchResults:
    query: str
    lessons: list[tuple[Lesson, Snippet]]
    glossary: list[tuple[GlossaryEntry, Snippet]]

    @property
    def count(self) -> int:
        return len(self.lessons) + len(self.glossary)


def _plain(markdown_text: str) -> str:
    """Markdown reduced to searchable prose: no markers, tags, emphasis or table rules."""
    text = MARKER_RE.sub(" ", markdown_text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[*`#|>]+", " ", text)
    text = re.sub(r"-{3,}", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def snippet(text: str, term: str, width: int = SNIPPET_CHARS) -> Snippet:
    """The first occurrence of ``term`` in ``text`` with up to ``width`` characters either side."""
    at = text.casefold().find(term.casefold())
    if at < 0:
        return Snippet(before=text[: 2 * width] + ("…" if len(text) > 2 * width else ""), match="", after="")
    start, end = max(0, at - width), min(len(text), at + len(term) + width)
    return Snippet(
        before=("…" if start > 0 else "") + text[start:at],
        match=text[at : at + len(term)],
        after=text[at + len(term) : end] + ("…" if end < len(text) else ""),
    )


def search(*, query: str, lang: str) -> SearchResults:
    """Lessons and glossary entries in ``lang`` containing every word of ``query`` (case-insensitive)."""
    words = [w for w in query.split() if w][:8]
    if not words:
        return SearchResults(query=query, lessons=[], glossary=[])
    lesson_q, glossary_q = Q(), Q()
    for word in words:
        lesson_q &= Q(title__icontains=word) | Q(summary__icontains=word) | Q(body_markdown__icontains=word)
        glossary_q &= Q(term__icontains=word) | Q(definition__icontains=word) | Q(aliases__icontains=word)
    lessons = []
    for lesson in lesson_list(lang=lang).filter(lesson_q):
        plain = _plain(lesson.body_markdown)
        found = next((w for w in words if w.casefold() in plain.casefold()), None)
        lessons.append((lesson, snippet(plain, found) if found else snippet(lesson.summary, words[0])))
    glossary = []
    for entry in GlossaryEntry.objects.filter(lang=lang).filter(glossary_q).order_by("order", "key"):
        text = entry.definition
        found = next((w for w in words if w.casefold() in text.casefold()), None)
        glossary.append((entry, snippet(text, found) if found else snippet(text, "", width=SNIPPET_CHARS)))
    return SearchResults(query=query, lessons=lessons, glossary=glossary)
