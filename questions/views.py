"""HTML pages and htmx fragments. Each view validates its input, calls one service and renders.

A domain refusal (closed attempt, bad join code, ...) is shown to the person as a message, never a 500.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questions import selectors, services
from questions.errors import QuizNotFound, UnknownFamily
from questions.forms import JoinCourseForm, SignupForm, response_from_post, response_moved
from questions.generators.base import InputKind
from questions.models import Answer, Attempt, AttemptQuestion, Draft
from questions.tasks import grading_enqueue_on_commit, variant_pools_refill_on_commit
from questions.variant_store import shared_diagram_svg
from questions.widgets import widget_context
from tcpquiz.errors import DomainError, NotFoundError
from tcpquiz.ratelimits import request_is_limited

logger = logging.getLogger(__name__)


def _lang() -> str:
    return selectors.question_lang(get_language())


def _not_found_as_404(error: DomainError) -> None:
    if isinstance(error, NotFoundError):
        raise Http404(error.message) from error


# --- Public pages ---------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "questions/home.html")


class RateLimitedLoginView(LoginView):
    """Django's login page, with at most 10 POSTs a minute per address."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request_is_limited(request, group="login", key="ip", rate="10/m"):
            form = self.get_form()
            form.add_error(None, _("Too many sign-in attempts. Wait a minute and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("questions:course_list")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if request_is_limited(request, group="signup", key="ip", rate="10/m"):
            form.add_error(None, _("Too many sign-ups from here. Wait a minute and try again."))
            return render(request, "registration/signup.html", {"form": form}, status=429)
        if form.is_valid():
            try:
                user = services.user_signup(
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data.get("email") or "",
                    password=form.cleaned_data["password1"],
                    join_code=form.cleaned_data["join_code"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("Welcome! You are enrolled; pick a quiz to start."))
                return redirect("questions:course_list")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


# --- Courses and quizzes --------------------------------------------------------------------------


def _courses_with_quizzes(request: HttpRequest) -> list[Any]:
    courses = list(selectors.course_list_for_user(user=request.user))
    quizzes = list(selectors.quiz_list_for_user(user=request.user))
    for course in courses:
        course.quiz_list = [q for q in quizzes if q.course_id == course.pk]  # type: ignore[attr-defined]
    return courses


@login_required
@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    context = {"courses": _courses_with_quizzes(request), "join_form": JoinCourseForm()}
    return render(request, "questions/course_list.html", context)


@login_required
@require_POST
def course_join(request: HttpRequest) -> HttpResponse:
    form = JoinCourseForm(request.POST)
    if form.is_valid():
        enrollment = services.course_join(user=request.user, join_code=form.cleaned_data["join_code"])  # type: ignore[arg-type]
        messages.success(request, _("You joined %(course)s.") % {"course": enrollment.course.title})
        return redirect("questions:course_list")
    context = {"courses": _courses_with_quizzes(request), "join_form": form}
    return render(request, "questions/course_list.html", context, status=400)


@login_required
@require_GET
def quiz_detail(request: HttpRequest, quiz_id: int) -> HttpResponse:
    try:
        quiz = selectors.quiz_get_for_user(user=request.user, quiz_id=quiz_id)
    except QuizNotFound as error:
        raise Http404(error.message) from error
    _close_overdue(request)
    attempts = list(selectors.attempt_list_for_user(user=request.user, quiz=quiz))
    open_attempt = selectors.attempt_open_get(user=request.user, quiz=quiz)
    attempts_left = None if quiz.max_attempts is None else max(0, quiz.max_attempts - len(attempts))
    context = {
        "quiz": quiz,
        "attempts": attempts,
        "open_attempt": open_attempt,
        "attempts_left": attempts_left,
        "is_open": selectors.quiz_is_open(quiz=quiz),
    }
    return render(request, "questions/quiz_detail.html", context)


@login_required
@require_POST
def attempt_start(request: HttpRequest, quiz_id: int) -> HttpResponse:
    try:
        quiz = selectors.quiz_get_for_user(user=request.user, quiz_id=quiz_id)
        attempt, created = services.attempt_start(user=request.user, quiz=quiz)
    except DomainError as error:
        _not_found_as_404(error)
        messages.error(request, error.message)
        return redirect("questions:quiz_detail", quiz_id=quiz_id)
    if created:
        variant_pools_refill_on_commit(quiz.pk)
    return redirect("questions:attempt_detail", attempt_id=attempt.pk)


# --- The student's dashboard ----------------------------------------------------------------------


def _close_overdue(request: HttpRequest) -> None:
    """Attempts past their deadline are closed before a page lists them (their drafts get graded)."""
    if services.attempts_close_overdue_for_user(user=request.user):
        grading_enqueue_on_commit()


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _close_overdue(request)
    board = selectors.student_dashboard(user=request.user, lang=_lang())
    return render(request, "questions/dashboard.html", {"board": board, "join_form": JoinCourseForm()})


# --- Attempts -------------------------------------------------------------------------------------


def _attempt_for(request: HttpRequest, attempt_id: int) -> Attempt:
    try:
        return selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
    except DomainError as error:
        raise Http404(error.message) from error


def _attempt_current(request: HttpRequest, attempt_id: int) -> Attempt:
    """The attempt, closed on the spot if its deadline has passed (its saved drafts go to grading)."""
    attempt = _attempt_for(request, attempt_id)
    if attempt.status == Attempt.Status.IN_PROGRESS and not selectors.attempt_is_open(attempt=attempt):
        attempt, to_grade = services.attempt_expire_if_overdue(user=request.user, attempt=attempt)
        if to_grade:
            grading_enqueue_on_commit()
    return attempt


def _question_at(overview: selectors.AttemptOverview, position: int) -> AttemptQuestion:
    question = next((q for q in overview.questions if q.position == position), None)
    if question is None:
        raise Http404(_("This attempt has no question number %(position)s.") % {"position": position})
    return question


def _answer_context(question: AttemptQuestion, review: bool) -> dict[str, Any]:
    """The answer block of a question (comparison with the key and the result, when allowed)."""
    return {
        "qr": selectors.question_review(question=question, lang=_lang(), review=review),
        "question": question,
    }


def _question_context(
    overview: selectors.AttemptOverview,
    question: AttemptQuestion,
    *,
    response: Any = None,
    error_message: str | None = None,
) -> dict[str, Any]:
    lang = _lang()
    public = question.public[lang]
    answer: Answer | None = getattr(question, "answer_or_none", None)
    draft: Draft | None = getattr(question, "draft_or_none", None)
    answered = answer is not None and not answer.format_error
    if response is None:
        if draft is not None:
            response = draft.response
        elif answer is not None and answer.format_error:
            response = answer.response
    context = {
        "attempt": overview.attempt,
        "overview": overview,
        "question": question,
        "current": question.position,
        "p": f"q{question.position}",
        "public": public,
        "answer": answer,
        "answered": answered,
        "w": widget_context(public, response, lang),
        "error_message": error_message,
        "saved_at": draft.saved_at if draft is not None else None,
        "previous": question.position - 1 if question.position > 1 else None,
        "next": question.position + 1 if question.position < overview.total else None,
        "can_draw_another": overview.is_open and not overview.is_exam and question.slot_id is not None,
    }
    if answered:
        context |= _answer_context(question, overview.review)
    return context


@login_required
@require_GET
def attempt_detail(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """An open attempt continues at its first question still to do; a closed one shows its review."""
    attempt = _attempt_current(request, attempt_id)
    overview = selectors.attempt_overview(attempt=attempt)
    if overview.is_open:
        return redirect(
            "questions:attempt_question", attempt_id=attempt.pk, position=overview.first_open_position()
        )
    lang = _lang()
    reviews = [
        selectors.question_review(question=q, lang=lang, review=overview.review) for q in overview.questions
    ]
    context = {
        "attempt": attempt,
        "overview": overview,
        "reviews": reviews,
        "skills": selectors.attempt_skill_breakdown(questions=overview.questions, lang=lang)
        if overview.review
        else [],
    }
    return render(request, "questions/attempt_review.html", context)


@login_required
@require_GET
def attempt_question(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    attempt = _attempt_current(request, attempt_id)
    overview = selectors.attempt_overview(attempt=attempt)
    if not overview.is_open:
        return redirect(reverse("questions:attempt_detail", args=[attempt.pk]) + f"#q-{position}")
    question = _question_at(overview, position)
    return render(request, "questions/attempt_question.html", _question_context(overview, question))


def _posted_response(
    request: HttpRequest, question: AttemptQuestion, *, complete: bool
) -> tuple[dict[str, Any] | None, str | None]:
    public = question.public[_lang()]
    response, error = response_from_post(public, request.POST, complete=complete)
    move = request.POST.get("move")
    if response is not None and move and public["kind"] == InputKind.ORDER:
        response = {"order": response_moved(public, response["order"], move)}
    return response, error


@login_required
@require_POST
def answer_submit(request: HttpRequest, attempt_id: int, position: int) -> HttpResponseBase:
    """Check one answer now (practice); the result is graded in the background and pushed to the page."""
    attempt = _attempt_for(request, attempt_id)
    try:
        question = selectors.attempt_question_get(attempt=attempt, position=position)
    except DomainError as error:
        raise Http404(error.message) from error
    response, error_message = _posted_response(request, question, complete=True)
    if request_is_limited(request, group="answer_submit", key="user", rate="60/m"):
        error_message = _("You are answering very fast. Wait a moment and try again.")
    elif response is not None:
        try:
            _answer, created = services.answer_submit(
                user=request.user, attempt=attempt, position=position, response=response
            )
        except DomainError as error:
            error_message = error.message
        else:
            if created:
                grading_enqueue_on_commit()
    if not request.htmx:  # type: ignore[attr-defined]
        if error_message:
            messages.error(request, error_message)
        return redirect("questions:attempt_question", attempt_id=attempt.pk, position=position)
    # htmx: swap the question card in place; the navigator and progress bar follow out of band.
    attempt.refresh_from_db()
    overview = selectors.attempt_overview(attempt=attempt)
    question = _question_at(overview, position)
    context = _question_context(
        overview, question, response=response if error_message else None, error_message=error_message
    )
    return render(request, "questions/_question_card.html", context | {"oob": True})


@login_required
@require_POST
def draft_save(request: HttpRequest, attempt_id: int, position: int) -> HttpResponseBase:
    """Autosave the answer being composed; without JavaScript, save and go to another question."""
    attempt = _attempt_for(request, attempt_id)
    try:
        question = selectors.attempt_question_get(attempt=attempt, position=position)
    except DomainError as error:
        raise Http404(error.message) from error
    response, error_message = _posted_response(request, question, complete=False)
    saved = None
    if response is not None:
        try:
            saved = services.draft_save(
                user=request.user, attempt=attempt, position=position, response=response
            )
        except DomainError as error:
            error_message = error.message
    go = request.POST.get("go", "")
    if not request.htmx:  # type: ignore[attr-defined]
        if error_message:
            messages.error(request, error_message)
        if go == "finish":
            return redirect("questions:attempt_finish", attempt_id=attempt.pk)
        target = int(go) if go.isdigit() else position
        return redirect("questions:attempt_question", attempt_id=attempt.pk, position=target)
    overview = selectors.attempt_overview(attempt=attempt, with_variant=False)
    context = {
        "overview": overview,
        "attempt": attempt,
        "current": position,
        "saved": saved,
        "error_message": error_message,
        "oob": True,
    }
    return render(request, "questions/_save_status.html", context)


@login_required
@require_POST
def question_another(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    """Practice: a fresh variant like question ``position``, appended to the attempt."""
    attempt = _attempt_for(request, attempt_id)
    try:
        question = services.attempt_question_add_like(user=request.user, attempt=attempt, position=position)
    except DomainError as error:
        _not_found_as_404(error)
        messages.error(request, error.message)
        return redirect("questions:attempt_question", attempt_id=attempt.pk, position=position)
    return redirect("questions:attempt_question", attempt_id=attempt.pk, position=question.position)


@login_required
@require_GET
def attempt_finish(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Confirm submitting the attempt, listing the questions left unanswered or incomplete."""
    attempt = _attempt_current(request, attempt_id)
    overview = selectors.attempt_overview(attempt=attempt, with_variant=False)
    if not overview.is_open:
        return redirect("questions:attempt_detail", attempt_id=attempt.pk)
    return render(request, "questions/attempt_finish.html", {"attempt": attempt, "overview": overview})


@login_required
@require_POST
def attempt_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt_for(request, attempt_id)
    was_open = selectors.attempt_is_open(attempt=attempt)
    attempt, to_grade = services.attempt_submit_all(user=request.user, attempt=attempt)
    if to_grade:
        grading_enqueue_on_commit()
    if was_open:
        messages.success(request, _("Attempt submitted."))
    elif attempt.status == Attempt.Status.EXPIRED:
        messages.info(request, _("Time was up: the answers saved before the deadline were submitted."))
    return redirect("questions:attempt_detail", attempt_id=attempt.pk)


@login_required
@require_GET
def answer_status(request: HttpRequest, answer_id: int) -> HttpResponse:
    """The answer block of one question (htmx polls it while grading)."""
    try:
        answer = selectors.answer_get_for_user(user=request.user, answer_id=answer_id)
    except DomainError as error:
        raise Http404(error.message) from error
    attempt = answer.attempt
    question = answer.question
    question.answer_or_none = answer  # type: ignore[attr-defined]
    question.draft_or_none = None  # type: ignore[attr-defined]
    review = selectors.attempt_review_allowed(attempt=attempt)
    context = _answer_context(question, review)
    if answer.status != Answer.Status.PENDING:
        overview = selectors.attempt_overview(attempt=attempt, with_variant=False)
        context |= {"overview": overview, "attempt": attempt, "current": question.position, "oob": True}
    return render(request, "questions/_answer.html", context)


# --- The practice page ----------------------------------------------------------------------------

PRACTICE_SKILLS_MAX = 40


def _practice_params(request: HttpRequest) -> tuple[list[str], str | None, int | None]:
    raw = request.GET.get("skills", "")
    skills = [s for s in (part.strip() for part in raw.split(",")) if s]
    if len(skills) > PRACTICE_SKILLS_MAX or not all(selectors.skill_is_valid(s) for s in skills):
        raise BadRequest(_("The skills to practise are not valid skill ids."))
    family = request.GET.get("family") or None
    seed_text = request.GET.get("seed", "")
    if seed_text and not (seed_text.isdigit() and len(seed_text) <= 18):
        raise BadRequest(_("The seed must be a whole number."))
    return sorted(set(skills)), family, int(seed_text) if seed_text else None


def _practice_url(skills: list[str], family: str | None, seed: int) -> str:
    query = {"skills": ",".join(skills)} if skills else {}
    if family:
        query["family"] = family
    query["seed"] = str(seed)
    return reverse("questions:practice") + "?" + urlencode(query, safe=":,")


@login_required
@require_http_methods(["GET", "POST"])
def practice(request: HttpRequest) -> HttpResponseBase:
    """Fresh questions on the skills asked for (``?skills=a,b``), each graded as it is answered."""
    skills, family, seed = _practice_params(request)
    if seed is None:
        return redirect(_practice_url(skills, family, secrets.randbelow(1 << 40)))
    lang = _lang()
    context: dict[str, Any] = {
        "skills": [(s, selectors.skill_label(s, lang)) for s in skills],
        "family": family,
        "next_url": _practice_url(skills, None, secrets.randbelow(1 << 40)),
    }
    try:
        variant = selectors.practice_draw(skills=skills, seed=seed, family=family)
    except UnknownFamily as error:
        raise Http404(error.message) from error
    except DomainError as error:
        context["draw_error"] = error.message
        return render(request, "questions/practice.html", context)
    error_message = None
    response: Any = None
    if request.method == "POST":
        public = variant.public(lang)
        move = request.POST.get("move")
        response, error_message = response_from_post(public, request.POST, complete=not move)
        if move and response is not None and public["kind"] == InputKind.ORDER:
            # The ordering buttons without JavaScript: move, show again, grade nothing.
            response = {"order": response_moved(public, response["order"], move)}
        elif response is not None:
            try:
                services.practice_answer_record(
                    user=request.user,  # type: ignore[arg-type]
                    variant=variant,
                    response=response,
                    requested_skills=skills,
                )
            except DomainError as error:
                error_message = error.message
            else:
                if not request.htmx:  # type: ignore[attr-defined]
                    return redirect(_practice_url(skills, family, seed))
    done = selectors.practice_answer_get(user=request.user, variant=variant)
    qr = selectors.practice_review(variant=variant, practice_answer=done, lang=lang)
    context |= {
        "variant": variant,
        "public": qr.public,
        "qr": qr,
        "answered": done is not None,
        "w": widget_context(qr.public, response, lang),
        "error_message": error_message,
        "family_title": selectors.family_get(name=variant.family).title[lang],
        "another_url": _practice_url(skills, variant.family, secrets.randbelow(1 << 40)),
        "action_url": _practice_url(skills, family, seed),
    }
    template = "questions/_practice_card.html" if request.htmx else "questions/practice.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400 if error_message and not request.htmx else 200)  # type: ignore[attr-defined]


@require_GET
@cache_control(public=True, max_age=7 * 24 * 3600)
def diagram_shared(request: HttpRequest, name: str, lang: str) -> HttpResponse:
    """A diagram many questions show (the plain TCP state diagram, per language), as an SVG image.

    The API links to it (``diagram_url``) rather than repeating 12 KB in every question; it holds
    nothing private, so anyone may fetch it and caches may keep it (the URL carries the engine version).
    """
    svg = shared_diagram_svg(name, lang)
    if svg is None:
        raise Http404(_("There is no such diagram."))
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Opened on its own, an SVG is a document: it may style itself and do nothing else.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
