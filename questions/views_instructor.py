"""Instructor pages: preview question families, author quizzes and their slots, see rosters and results.

Every page needs a signed-in instructor (of at least one course: else 403), and every object is fetched
through a ``*_for_instructor`` selector, so a course someone does not teach is a 404, never a leak.
Each view validates its input, calls one service, and renders or redirects.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questions import selectors, services
from questions.errors import NotAnInstructor
from questions.forms_instructor import (
    SEED_MAX,
    BankForm,
    BankItemForm,
    BankSlotForm,
    PreviewForm,
    QuizForm,
    SlotForm,
)
from questions.models import BankItem, Course, QuestionBank, Quiz, QuizSlot
from tcpquiz.errors import DomainError, NotFoundError

View = TypeVar("View", bound=Callable[..., HttpResponse])


def instructor_required(view: View) -> View:
    """Signed in (else the login page) and teaching at least one course (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.user_is_instructor(user=request.user):
            message = _("This page is for instructors: you teach no course here.")
            context = {"status": 403, "message": message, "code": NotAnInstructor.code}
            return render(request, "tcpquiz/error.html", context, status=403)
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def _lang() -> str:
    return selectors.question_lang(get_language())


def _course(request: HttpRequest, course_id: int) -> Course:
    try:
        return selectors.course_get_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        raise Http404(error.message) from error


def _quiz(request: HttpRequest, quiz_id: int) -> Quiz:
    try:
        return selectors.quiz_get_for_instructor(user=request.user, quiz_id=quiz_id)
    except NotFoundError as error:
        raise Http404(error.message) from error


def _bank(request: HttpRequest, bank_id: int) -> QuestionBank:
    try:
        return selectors.question_bank_get_for_instructor(user=request.user, bank_id=bank_id)
    except NotFoundError as error:
        raise Http404(error.message) from error


def _bank_item(bank: QuestionBank, item_id: int) -> BankItem:
    try:
        return selectors.bank_item_get(bank=bank, item_id=item_id)
    except NotFoundError as error:
        raise Http404(error.message) from error


def _slot(quiz: Quiz, slot_id: int) -> QuizSlot:
    try:
        return selectors.quiz_slot_get(quiz=quiz, slot_id=slot_id)
    except NotFoundError as error:
        raise Http404(error.message) from error


# --- Home and families ----------------------------------------------------------------------------


@instructor_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    courses = list(selectors.course_list_for_instructor(user=request.user))
    return render(request, "instructor/home.html", {"courses": courses})


@instructor_required
@require_GET
def family_list(request: HttpRequest) -> HttpResponse:
    return render(request, "instructor/family_list.html", {"families": selectors.family_list(lang=_lang())})


@instructor_required
@require_GET
def family_preview(request: HttpRequest, name: str) -> HttpResponse:
    try:
        family = selectors.family_get(name=name)
    except NotFoundError as error:
        raise Http404(error.message) from error
    form = PreviewForm(request.GET)
    variants: list[dict[str, Any]] = []
    status = 200
    seed = None
    lang = _lang()
    if form.is_valid():
        data = form.cleaned_data
        seed = data["seed"] if data["seed"] is not None else secrets.randbelow(SEED_MAX)
        lang = data["lang"] or lang
        found = selectors.family_preview(
            name=name, n=data["n"] or 5, difficulty=data["difficulty"] or "medium", seed=seed
        )
        variants = [selectors.variant_for_instructor(variant=v, lang=lang) for v in found]
        # The form shows the seed actually used, so submitting it again shows the same variants.
        form = PreviewForm(
            initial={**data, "n": data["n"] or 5, "difficulty": data["difficulty"] or "medium", "seed": seed}
        )
    else:
        status = 400
    context = {
        "family": family,
        "family_title": family.title[_lang()],
        "form": form,
        "variants": variants,
        "seed": seed,
        "question_lang": lang,
    }
    return render(request, "instructor/family_preview.html", context, status=status)


# --- Courses ----------------------------------------------------------------------------------------


@instructor_required
@require_GET
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    context = {
        "course": course,
        "quizzes": list(selectors.quiz_list_for_instructor(course=course)),
        "banks": list(selectors.question_bank_list(course=course)),
        "bank_form": BankForm(auto_id="new-bank-%s"),
    }
    return render(request, "instructor/course_detail.html", context)


@instructor_required
@require_GET
def course_roster(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    roster = list(selectors.course_roster(course=course))
    return render(request, "instructor/course_roster.html", {"course": course, "roster": roster})


@instructor_required
@require_POST
def course_join_code_regenerate(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    course = services.course_join_code_regenerate(course=course)
    messages.success(
        request,
        _("The new join code is %(code)s. The old code no longer works.") % {"code": course.join_code},
    )
    return redirect("instructor:course_roster", course_id=course.pk)


# --- Quizzes ----------------------------------------------------------------------------------------


@instructor_required
@require_http_methods(["GET", "POST"])
def quiz_create(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    form = QuizForm(request.POST or None, initial={"is_published": False})
    if request.method == "POST" and form.is_valid():
        try:
            quiz = services.quiz_create(course=course, slots=[], **form.settings())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Quiz created. Now add its questions."))
            return redirect("instructor:quiz_edit", quiz_id=quiz.pk)
    status = 400 if form.errors else 200
    return render(request, "instructor/quiz_create.html", {"course": course, "form": form}, status=status)


def _quiz_edit_context(
    quiz: Quiz,
    *,
    form: QuizForm | None = None,
    slot_form: SlotForm | None = None,
    bank_slot_form: BankSlotForm | None = None,
) -> dict[str, Any]:
    banks = [b for b in selectors.question_bank_list(course=quiz.course) if b.item_count]  # type: ignore[attr-defined]
    families = selectors.family_list(lang=_lang())
    titles = {f.name: f.title for f in families}
    slots = selectors.quiz_slots(quiz=quiz)
    return {
        "course": quiz.course,
        "quiz": quiz,
        "form": form or QuizForm(initial=QuizForm.initial_for(quiz)),
        "slot_form": slot_form or SlotForm(families=families, auto_id="new-slot-%s"),
        "slots": [
            {
                "slot": slot,
                "title": _slot_title(slot, titles),
                "form": SlotForm(
                    families=families,
                    auto_id=f"slot-{slot.pk}-%s",
                    initial={"family": slot.family, "difficulty": slot.difficulty, "points": slot.points},
                ),
            }
            for slot in slots
        ],
        "points_total": sum(slot.points for slot in slots),
        "attempt_count": quiz.attempts.count(),
        "bank_slot_form": bank_slot_form
        or (BankSlotForm(banks=banks, auto_id="bank-slot-%s") if banks else None),
    }


@instructor_required
@require_http_methods(["GET", "POST"])
def quiz_edit(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    form = None
    if request.method == "POST":
        form = QuizForm(request.POST)
        if form.is_valid():
            try:
                services.quiz_update(quiz=quiz, **form.settings())
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Quiz settings saved."))
                return redirect("instructor:quiz_edit", quiz_id=quiz.pk)
    context = _quiz_edit_context(quiz, form=form)
    return render(request, "instructor/quiz_edit.html", context, status=400 if form and form.errors else 200)


def _slots_url(quiz: Quiz) -> str:
    return reverse("instructor:quiz_edit", args=[quiz.pk]) + "#slots"


@instructor_required
@require_POST
def quiz_slot_add(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    form = SlotForm(request.POST, families=selectors.family_list(lang=_lang()), auto_id="new-slot-%s")
    if form.is_valid():
        try:
            slot = services.quiz_slot_add(quiz=quiz, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Question %(n)s added.") % {"n": slot.position})
            return redirect(_slots_url(quiz))
    return render(request, "instructor/quiz_edit.html", _quiz_edit_context(quiz, slot_form=form), status=400)


@instructor_required
@require_POST
def quiz_slot_update(request: HttpRequest, quiz_id: int, slot_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    slot = _slot(quiz, slot_id)
    form = SlotForm(request.POST, families=selectors.family_list(lang=_lang()))
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(
            request, _("Question %(n)s was not changed: %(errors)s") % {"n": slot.position, "errors": errors}
        )
        return redirect(_slots_url(quiz))
    try:
        services.quiz_slot_update(slot=slot, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Question %(n)s saved.") % {"n": slot.position})
    return redirect(_slots_url(quiz))


@instructor_required
@require_POST
def quiz_slot_move(request: HttpRequest, quiz_id: int, slot_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    slot = _slot(quiz, slot_id)
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        messages.error(request, _("Move a question up or down."))
        return redirect(_slots_url(quiz))
    services.quiz_slot_move(slot=slot, offset=-1 if direction == "up" else 1)
    return redirect(_slots_url(quiz))


@instructor_required
@require_POST
def quiz_slot_remove(request: HttpRequest, quiz_id: int, slot_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    slot = _slot(quiz, slot_id)
    services.quiz_slot_remove(slot=slot)
    messages.success(request, _("Question %(n)s removed.") % {"n": slot.position})
    return redirect(_slots_url(quiz))


@instructor_required
@require_POST
def quiz_slot_add_from_bank(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    banks = [b for b in selectors.question_bank_list(course=quiz.course) if b.item_count]  # type: ignore[attr-defined]
    form = BankSlotForm(request.POST, banks=banks, auto_id="bank-slot-%s")
    if form.is_valid():
        bank = next(b for b in banks if str(b.pk) == form.cleaned_data["bank"])
        try:
            slot = services.quiz_slot_add_from_bank(quiz=quiz, bank=bank, points=form.cleaned_data["points"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Question %(n)s added.") % {"n": slot.position})
            return redirect(_slots_url(quiz))
    context = _quiz_edit_context(quiz, bank_slot_form=form)
    return render(request, "instructor/quiz_edit.html", context, status=400)


# --- Question banks ---------------------------------------------------------------------------------


def _bank_context(
    bank: QuestionBank, *, form: BankForm | None = None, item_form: BankItemForm | None = None
) -> dict[str, Any]:
    families = selectors.family_list(lang=_lang())
    titles = {f.name: f.title for f in families}
    return {
        "course": bank.course,
        "bank": bank,
        "form": form or BankForm(initial={"title": bank.title}),
        "item_form": item_form or BankItemForm(families=families, auto_id="new-item-%s"),
        "items": [{"item": item, "title": titles.get(item.family, item.family)} for item in bank.items.all()],
        "slot_count": bank.slots.count(),
    }


@instructor_required
@require_POST
def question_bank_create(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    form = BankForm(request.POST, auto_id="new-bank-%s")
    if form.is_valid():
        bank = services.question_bank_create(course=course, title=form.cleaned_data["title"])
        messages.success(request, _("Question bank created. Now add its items."))
        return redirect("instructor:question_bank", bank_id=bank.pk)
    context = {
        "course": course,
        "quizzes": list(selectors.quiz_list_for_instructor(course=course)),
        "banks": list(selectors.question_bank_list(course=course)),
        "bank_form": form,
    }
    return render(request, "instructor/course_detail.html", context, status=400)


@instructor_required
@require_http_methods(["GET", "POST"])
def question_bank(request: HttpRequest, bank_id: int) -> HttpResponse:
    bank = _bank(request, bank_id)
    form = None
    if request.method == "POST":
        form = BankForm(request.POST)
        if form.is_valid():
            services.question_bank_rename(bank=bank, title=form.cleaned_data["title"])
            messages.success(request, _("Question bank saved."))
            return redirect("instructor:question_bank", bank_id=bank.pk)
    context = _bank_context(bank, form=form)
    return render(
        request, "instructor/question_bank.html", context, status=400 if form and form.errors else 200
    )


@instructor_required
@require_POST
def bank_item_add(request: HttpRequest, bank_id: int) -> HttpResponse:
    bank = _bank(request, bank_id)
    form = BankItemForm(request.POST, families=selectors.family_list(lang=_lang()), auto_id="new-item-%s")
    if form.is_valid():
        try:
            services.bank_item_add(bank=bank, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Item added."))
            return redirect("instructor:question_bank", bank_id=bank.pk)
    return render(request, "instructor/question_bank.html", _bank_context(bank, item_form=form), status=400)


@instructor_required
@require_POST
def bank_item_remove(request: HttpRequest, bank_id: int, item_id: int) -> HttpResponse:
    bank = _bank(request, bank_id)
    services.bank_item_remove(item=_bank_item(bank, item_id))
    messages.success(request, _("Item removed."))
    return redirect("instructor:question_bank", bank_id=bank.pk)


# --- Results ----------------------------------------------------------------------------------------


@instructor_required
@require_GET
def quiz_results(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    results = selectors.quiz_results(quiz=quiz)
    titles = {f.name: f.title for f in selectors.family_list(lang=_lang())}
    rows = [
        {"result": row, "slot_scores": [row.slot_scores.get(s.slot.pk) for s in results.slots]}
        for row in results.attempts
    ]
    slot_rows = [{"summary": s, "title": _slot_title(s.slot, titles)} for s in results.slots]
    context = {"course": quiz.course, "quiz": quiz, "results": results, "rows": rows, "slot_rows": slot_rows}
    return render(request, "instructor/quiz_results.html", context)


def _slot_title(slot: QuizSlot, titles: dict[str, str]) -> str:
    if slot.bank is not None:
        return _("Question bank: %(title)s") % {"title": slot.bank.title}
    return titles.get(slot.family, slot.family)


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


@instructor_required
@require_GET
def quiz_results_csv(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _quiz(request, quiz_id)
    results = selectors.quiz_results(quiz=quiz)
    filename = f"{slugify(quiz.title) or 'quiz'}-{quiz.pk}-results.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8 (Chinese usernames)
    writer = csv.writer(response)
    header = [
        "username",
        "attempt",
        "status",
        "started_at",
        "submitted_at",
        "answered",
        "pending",
        "points_scored",
        "points_total",
        "percent",
    ]
    header += [
        f"q{s.slot.position}_bank{s.slot.bank_id}"
        if s.slot.bank_id
        else f"q{s.slot.position}_{s.slot.family}_{s.slot.difficulty}"
        for s in results.slots
    ]
    writer.writerow(header)
    for row in results.attempts:
        attempt = row.attempt
        scores = [row.slot_scores.get(s.slot.pk) for s in results.slots]
        writer.writerow(
            [
                _csv_cell(row.username),
                attempt.number,
                attempt.status,
                attempt.started_at.isoformat(),
                attempt.submitted_at.isoformat() if attempt.submitted_at else "",
                row.answered,
                row.pending,
                row.points_scored,
                row.points_total,
                row.percent,
                *("" if score is None else round(score, 3) for score in scores),
            ]
        )
    return response
