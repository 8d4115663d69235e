"""Lesson pages: the course overview, a lesson, the glossary and search. Thin: read, call, render."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lessons import rendering, selectors, services
from lessons.errors import LessonNotFound

MAX_QUERY_CHARS = 100


def _lang() -> str:
    return selectors.lesson_lang(translation.get_language())


@require_GET
def lesson_index(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    lessons = list(selectors.lesson_list(lang=lang))
    progress = selectors.progress_by_slug(user=request.user)
    rows = [(lesson, progress.get(lesson.slug)) for lesson in lessons]
    done = sum(1 for _lesson, p in rows if p is not None and p.completed_at is not None)
    return render(
        request,
        "lessons/index.html",
        {"rows": rows, "done": done, "total": len(rows), "signed_in": request.user.is_authenticated},
    )


@require_GET
def lesson_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lang = _lang()
    try:
        lesson = selectors.lesson_get(slug=slug, lang=lang)
    except LessonNotFound as exc:
        raise Http404(exc.message) from None
    progress = None
    if isinstance(request.user, User) and request.user.is_authenticated:
        progress = services.progress_mark_viewed(user=request.user, slug=lesson.slug)
    body = rendering.render_lesson_body(
        body_markdown=lesson.body_markdown, scenarios=lesson.scenarios, skills=lesson.skills, lang=lesson.lang
    )
    return render(
        request,
        "lessons/detail.html",
        {
            "lesson": lesson,
            "body": body,
            "fallback": lesson.lang != lang,
            "neighbours": selectors.lesson_neighbours(lesson=lesson),
            "progress": progress,
            "skills": rendering.skill_views(lesson.skills, lesson.lang),
            "practice_url": selectors.practice_url(skills=list(lesson.skills)),
        },
    )


@require_POST
def lesson_done(request: HttpRequest, slug: str) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        if wants_json:
            return JsonResponse(
                {"error": {"code": "not_authenticated", "message": _("Sign in first.")}}, status=401
            )
        return redirect_to_login(reverse("lessons:detail", args=[slug]))
    try:
        progress = services.progress_mark_done(user=user, slug=slug)
    except LessonNotFound as exc:
        if wants_json:
            return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=404)
        raise Http404(exc.message) from None
    if wants_json:
        return JsonResponse({"slug": slug, "completed_at": progress.completed_at})
    return redirect(reverse("lessons:detail", args=[slug]) + "#lesson-end")


@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    return render(request, "lessons/glossary.html", {"items": selectors.glossary_list(lang=_lang())})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY_CHARS]
    results = selectors.search(query=query, lang=_lang()) if query else None
    return render(request, "lessons/search.html", {"query": query, "results": results})
