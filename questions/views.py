"""HTML pages and htmx fragments. Each view validates its input, calls one service and renders.

A domain refusal (closed attempt, bad join code, ...) is shown to the person as a message, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questions import selectors, services
from questions.errors import QuizNotFound
from questions.forms import ChoiceAnswerForm, JoinCourseForm, SignupForm
from questions.models import Answer, Attempt, AttemptQuestion
from questions.tasks import grade_answer
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
        attempt, _created = services.attempt_start(user=request.user, quiz=quiz)
    except DomainError as error:
        _not_found_as_404(error)
        messages.error(request, error.message)
        return redirect("questions:quiz_detail", quiz_id=quiz_id)
    return redirect("questions:attempt_detail", attempt_id=attempt.pk)


# --- Attempts -------------------------------------------------------------------------------------


def _attempt_for(request: HttpRequest, attempt_id: int) -> Attempt:
    try:
        return selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
    except DomainError as error:
        raise Http404(error.message) from error


def _question_context(
    attempt: Attempt,
    question: AttemptQuestion,
    *,
    is_open: bool,
    review: bool,
    form: ChoiceAnswerForm | None = None,
) -> dict[str, Any]:
    lang = _lang()
    public = question.public[lang]
    answer: Answer | None = getattr(question, "answer_or_none", None)
    if answer is None and is_open and form is None:
        form = ChoiceAnswerForm(choices=public["choices"], auto_id=f"q{question.position}-%s")
    return {
        "attempt": attempt,
        "question": question,
        "public": public,
        "answer": answer,
        "form": form if (answer is None or answer.format_error) and is_open else None,
        "result": selectors.answer_result(answer=answer, lang=lang) if (answer and review) else None,
        "review": review,
        "is_open": is_open,
    }


def _progress_context(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempt": attempt,
        "progress": selectors.attempt_progress(attempt=attempt),
        "review": selectors.attempt_review_allowed(attempt=attempt),
    }


@login_required
@require_GET
def attempt_detail(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt_for(request, attempt_id)
    is_open = selectors.attempt_is_open(attempt=attempt)
    review = selectors.attempt_review_allowed(attempt=attempt)
    questions = [
        _question_context(attempt, q, is_open=is_open, review=review)
        for q in selectors.attempt_questions(attempt=attempt)
    ]
    context = {"questions": questions, "is_open": is_open, **_progress_context(attempt)}
    return render(request, "questions/attempt_detail.html", context)


@login_required
@require_POST
def answer_submit(request: HttpRequest, attempt_id: int, position: int) -> HttpResponseBase:
    attempt = _attempt_for(request, attempt_id)
    try:
        question = selectors.attempt_question_get(attempt=attempt, position=position)
    except DomainError as error:
        raise Http404(error.message) from error
    form = ChoiceAnswerForm(
        request.POST, choices=question.public[_lang()]["choices"], auto_id=f"q{position}-%s"
    )
    error_message = None
    if request_is_limited(request, group="answer_submit", key="user", rate="60/m"):
        error_message = _("You are answering very fast. Wait a moment and try again.")
    elif form.is_valid():
        try:
            answer, created = services.answer_submit(
                user=request.user,
                attempt=attempt,
                position=position,
                response={"choice": form.cleaned_data["choice"]},
            )
        except DomainError as error:
            error_message = error.message
        else:
            if created:
                grade_answer.delay_on_commit(answer.pk)
    if not request.htmx:  # type: ignore[attr-defined]
        if error_message:
            messages.error(request, error_message)
        elif form.errors:
            messages.error(request, str(form.errors["choice"][0]))
        return redirect(reverse("questions:attempt_detail", args=[attempt.pk]) + f"#q-{position}")
    # htmx: swap this question in place and refresh the progress bar out of band.
    attempt.refresh_from_db()
    question = next(q for q in selectors.attempt_questions(attempt=attempt) if q.position == position)
    is_open = selectors.attempt_is_open(attempt=attempt)
    review = selectors.attempt_review_allowed(attempt=attempt)
    context = _question_context(
        attempt, question, is_open=is_open, review=review, form=form if form.errors else None
    )
    context |= {"error_message": error_message, "oob_progress": True, **_progress_context(attempt)}
    return render(request, "questions/_question.html", context)


@login_required
@require_GET
def answer_status(request: HttpRequest, answer_id: int) -> HttpResponse:
    """The answer block of one question (htmx polls it every second while grading)."""
    try:
        answer = selectors.answer_get_for_user(user=request.user, answer_id=answer_id)
    except DomainError as error:
        raise Http404(error.message) from error
    attempt = answer.attempt
    review = selectors.attempt_review_allowed(attempt=attempt)
    question = answer.question
    question.answer_or_none = answer  # type: ignore[attr-defined]
    context = _question_context(
        attempt, question, is_open=selectors.attempt_is_open(attempt=attempt), review=review
    )
    context |= {"oob_progress": answer.status != Answer.Status.PENDING, **_progress_context(attempt)}
    return render(request, "questions/_answer.html", context)


@login_required
@require_POST
def attempt_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt_for(request, attempt_id)
    attempt = services.attempt_submit(user=request.user, attempt=attempt)
    messages.success(request, _("Attempt submitted."))
    return redirect("questions:attempt_detail", attempt_id=attempt.pk)
