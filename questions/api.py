"""REST API v1: the student's path from course to graded answer.

Views validate input, call one selector or service, and serialize. Errors are raised and become
``{"error": {"code", "message", "details"}}`` in tcpquiz.errors.api_exception_handler.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import authenticate
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from questions import selectors, services
from questions.engine import ENGINE_VERSION
from questions.errors import InvalidCredentials, ReviewNotAllowed
from questions.models import Answer, Attempt, AttemptQuestion, Draft
from questions.serializers import (
    AnswerSerializer,
    AnswerSubmitSerializer,
    AttemptDetailSerializer,
    AttemptSerializer,
    CourseSerializer,
    DraftSerializer,
    DraftSubmitSerializer,
    ErrorSerializer,
    QuestionSerializer,
    QuizSerializer,
    ReviewSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    represent,
)
from questions.tasks import grading_enqueue_on_commit, variant_pools_refill_on_commit
from questions.variant_store import shared_diagram_name

IDEMPOTENCY_KEY_MAX = 64

LANG_PARAMETER = OpenApiParameter(
    "lang",
    str,
    OpenApiParameter.QUERY,
    required=False,
    enum=["en", "zh-hans"],
    description="Language of question texts (default: from Accept-Language).",
)


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description="An error.") for code in codes}


def request_lang(request: Request) -> str:
    requested = request.query_params.get("lang")
    return selectors.question_lang(requested or getattr(request, "LANGUAGE_CODE", None))


def attempt_payload(attempt: Attempt, questions: list[AttemptQuestion] | None = None) -> dict[str, Any]:
    """The attempt's summary; ``questions`` (with ``answer_or_none``), if the caller has them, saves
    counting the progress with a query."""
    if questions is None:
        progress = selectors.attempt_progress(attempt=attempt)
    else:
        progress = selectors.attempt_progress_of(questions)
    review = selectors.attempt_review_allowed(attempt=attempt)
    return {
        "id": attempt.pk,
        "quiz_id": attempt.quiz_id,
        "number": attempt.number,
        "mode": attempt.quiz.mode,
        "review_allowed": review,
        "time_remaining_seconds": selectors.attempt_seconds_left(attempt=attempt),
        "status": attempt.status,
        "is_open": selectors.attempt_is_open(attempt=attempt),
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "submitted_at": attempt.submitted_at,
        "progress": {
            "total": progress.total,
            "answered": progress.answered,
            "graded": progress.graded,
            "pending": progress.pending,
            "points_total": progress.points_total,
            "points_scored": progress.points_scored if review else None,
        },
    }


@cache
def shared_diagram_url(name: str, lang: str) -> str:
    path = reverse("questions:diagram_shared", kwargs={"name": name, "lang": lang})
    return f"{path}?v={ENGINE_VERSION}"


def diagram_fields(svg: str | None) -> dict[str, str | None]:
    """A question's diagram: inline when it is its own, a link when it is a shared one (the plain state
    diagram, the same on most questions: 12 KB each time otherwise)."""
    shared = shared_diagram_name(svg)
    if shared is not None:
        return {"diagram_svg": None, "diagram_url": shared_diagram_url(*shared)}
    return {"diagram_svg": svg, "diagram_url": None}


def question_payload(question: AttemptQuestion, lang: str) -> dict[str, Any]:
    """Only the cached public payload: the stored variant (key, explanation) is never read here."""
    public = question.public[lang]
    answer: Answer | None = getattr(question, "answer_or_none", None)
    draft: Draft | None = getattr(question, "draft_or_none", None)
    return {
        "position": question.position,
        "family": public["family"],
        "kind": public["kind"],
        "difficulty": public["difficulty"],
        "prompt": public["prompt"],
        "choices": public["choices"],
        "widget": public.get("widget") or {},
        **diagram_fields(public.get("diagram_svg")),
        "answer": {"id": answer.pk, "status": answer.status} if answer else None,
        "draft": draft.response if draft else None,
    }


def attempt_detail_data(attempt: Attempt, questions: list[AttemptQuestion], lang: str) -> dict[str, Any]:
    """``AttemptDetailSerializer``'s output: the attempt through ``AttemptSerializer``, the questions as
    ``question_payload`` builds them. Those are plain JSON values already in ``QuestionSerializer``'s
    shape (a test holds them to it), so they skip its per-field walk: a 20-question attempt has about
    1,400 fields, and a whole class starts one within seconds."""
    return represent(AttemptSerializer, attempt_payload(attempt, questions)) | {
        "questions": [question_payload(q, lang) for q in questions]
    }


def answer_payload(answer: Answer, lang: str) -> dict[str, Any]:
    result = None
    if selectors.attempt_review_allowed(attempt=answer.attempt):
        graded = selectors.answer_result(answer=answer, lang=lang)
        if graded is not None:
            result = {
                "score": graded.score,
                "correct": graded.correct,
                "feedback": graded.feedback,
                "format_error": graded.format_error,
                "misconception": (
                    {
                        "id": graded.misconception,
                        "title": graded.misconception_title or graded.misconception,
                        "correction": graded.misconception_correction,
                    }
                    if graded.misconception
                    else None
                ),
                "explanation": graded.explanation,
                "key": graded.key,
            }
    return {
        "id": answer.pk,
        "attempt": answer.attempt_id,
        "question": answer.question.position,
        "status": answer.status,
        "response": answer.response,
        "created_at": answer.created_at,
        "graded_at": answer.graded_at,
        "result": result,
    }


class CourseListApi(APIView):
    @extend_schema(operation_id="courses_list", responses={200: CourseSerializer(many=True), **_errors(401)})
    def get(self, request: Request) -> Response:
        """The courses you are enrolled in, with your role."""
        courses = selectors.course_list_for_user(user=request.user)
        return Response(CourseSerializer(courses, many=True).data)


class CourseQuizListApi(APIView):
    @extend_schema(
        operation_id="course_quizzes_list", responses={200: QuizSerializer(many=True), **_errors(401, 404)}
    )
    def get(self, request: Request, course_id: int) -> Response:
        """The quizzes of one of your courses."""
        course = selectors.course_get_for_user(user=request.user, course_id=course_id)
        quizzes = selectors.quiz_list_for_user(user=request.user, course_id=course.pk)
        return Response(QuizSerializer(quizzes, many=True).data)


class QuizDetailApi(APIView):
    @extend_schema(operation_id="quiz_retrieve", responses={200: QuizSerializer, **_errors(401, 404)})
    def get(self, request: Request, quiz_id: int) -> Response:
        """One quiz of your courses."""
        quiz = selectors.quiz_get_for_user(user=request.user, quiz_id=quiz_id)
        return Response(QuizSerializer(quiz).data)


class AttemptStartApi(APIView):
    @extend_schema(
        operation_id="attempt_start",
        request=None,
        parameters=[LANG_PARAMETER],
        responses={
            201: AttemptDetailSerializer,
            200: OpenApiResponse(AttemptDetailSerializer, description="Your attempt that was already open."),
            **_errors(401, 404, 409),
        },
    )
    def post(self, request: Request, quiz_id: int) -> Response:
        """Start an attempt at a quiz (or get back the one you have open)."""
        attempt, created = services.attempt_start(user=request.user, quiz=quiz_id)
        if created:
            variant_pools_refill_on_commit(quiz_id)
            # A new attempt: its questions are in hand, none answered yet.
            questions: list[AttemptQuestion] = attempt.new_questions  # type: ignore[attr-defined]
        else:
            questions = selectors.attempt_questions_full(attempt=attempt, with_variant=False)
        return Response(
            attempt_detail_data(attempt, questions, request_lang(request)),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AttemptDetailApi(APIView):
    @extend_schema(
        operation_id="attempt_retrieve",
        parameters=[LANG_PARAMETER],
        responses={200: AttemptDetailSerializer, **_errors(401, 404)},
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        """One of your attempts with its questions (never their keys or explanations)."""
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        questions = selectors.attempt_questions_full(attempt=attempt, with_variant=False)
        return Response(attempt_detail_data(attempt, questions, request_lang(request)))


class AttemptQuestionListApi(APIView):
    @extend_schema(
        operation_id="attempt_questions_list",
        parameters=[LANG_PARAMETER],
        responses={200: QuestionSerializer(many=True), **_errors(401, 404)},
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        """The questions of one of your attempts."""
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        lang = request_lang(request)
        questions = [
            question_payload(q, lang)
            for q in selectors.attempt_questions_full(attempt=attempt, with_variant=False)
        ]
        return Response(questions)  # already QuestionSerializer's output (see attempt_detail_data)


class AttemptSubmitApi(APIView):
    @extend_schema(
        operation_id="attempt_submit", request=None, responses={200: AttemptSerializer, **_errors(401, 404)}
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        """Finish an attempt (submit all): every saved draft becomes an answer and is graded; no more
        answers. Submitting twice changes nothing."""
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        attempt, to_grade = services.attempt_submit_all(user=request.user, attempt=attempt)
        if to_grade:
            grading_enqueue_on_commit()
        return Response(AttemptSerializer(attempt_payload(attempt)).data)


class AnswerSubmitApi(APIView):
    throttle_scope = "answer_submit"

    @extend_schema(
        operation_id="answer_submit",
        request=AnswerSubmitSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Retry-safe submission: a repeated key returns the first answer (200).",
            ),
            LANG_PARAMETER,
        ],
        responses={
            201: AnswerSerializer,
            200: OpenApiResponse(AnswerSerializer, description="A retry with the same Idempotency-Key."),
            **_errors(400, 401, 404, 409, 429),
        },
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        """Answer one question of your attempt. It is stored at once (status pending) and graded soon."""
        serializer = AnswerSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        idempotency_key = request.headers.get("Idempotency-Key") or None
        if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
            raise ValidationError({"Idempotency-Key": [_("At most 64 characters.")]})
        answer, created = services.answer_submit(
            user=request.user,
            attempt=attempt_id,
            position=serializer.validated_data["question"],
            response=serializer.validated_data["response"],
            idempotency_key=idempotency_key,
        )
        if created:
            grading_enqueue_on_commit()
        return Response(
            represent(AnswerSerializer, answer_payload(answer, request_lang(request))),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AnswerDetailApi(APIView):
    @extend_schema(
        operation_id="answer_retrieve",
        parameters=[LANG_PARAMETER],
        responses={200: AnswerSerializer, **_errors(401, 404)},
    )
    def get(self, request: Request, answer_id: int) -> Response:
        """One of your answers: its grading status and, once graded and reviewable, its result."""
        answer = selectors.answer_get_for_user(user=request.user, answer_id=answer_id)
        return Response(represent(AnswerSerializer, answer_payload(answer, request_lang(request))))


class TokenObtainApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_scope = "auth"

    @extend_schema(
        operation_id="token_obtain",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **_errors(400, 401, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Exchange a username and password for an API token (send it as ``Authorization: Token <key>``)."""
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise InvalidCredentials(_("The username or password is not correct."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response(TokenSerializer({"token": token.key}).data)


class PingApi(APIView):
    @extend_schema(
        operation_id="ping",
        responses={200: inline_serializer("Ping", {"ok": serializers.BooleanField()}), **_errors(401)},
    )
    def get(self, request: Request) -> Response:
        """A trivial authenticated endpoint (a yardstick for the cost of the real ones; see bench.storm)."""
        return Response({"ok": True})


# --- Students: drafts (autosave) and review -----------------------------------------------------------


class DraftApi(APIView):
    @extend_schema(
        operation_id="draft_retrieve",
        responses={200: DraftSerializer, **_errors(401, 404)},
    )
    def get(self, request: Request, attempt_id: int, position: int) -> Response:
        """The response you saved for one question of your attempt (null when there is none)."""
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        question = selectors.attempt_question_get(attempt=attempt, position=position)
        draft: Draft | None = getattr(question, "draft", None)
        body = {
            "question": position,
            "response": draft.response if draft else None,
            "saved_at": draft.saved_at if draft else None,
        }
        return Response(DraftSerializer(body).data)

    @extend_schema(
        operation_id="draft_save",
        request=DraftSubmitSerializer,
        responses={200: DraftSerializer, **_errors(400, 401, 404, 409)},
    )
    def put(self, request: Request, attempt_id: int, position: int) -> Response:
        """Autosave the answer you are composing (it may be incomplete); the latest save wins. In an
        exam, saved drafts become your answers when you submit or when time is up."""
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        serializer = DraftSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = services.draft_save(
            user=request.user,
            attempt=attempt,
            position=position,
            response=serializer.validated_data["response"],
        )
        body = {"question": position, "response": draft.response, "saved_at": draft.saved_at}
        return Response(DraftSerializer(body).data)


def review_payload(attempt: Attempt, lang: str) -> dict[str, Any]:
    """The whole review of a closed attempt: per question the answer, key, explanation, misconception
    and skills; per attempt the score and a per-skill breakdown. Only call it when review is allowed."""
    overview = selectors.attempt_overview(attempt=attempt)
    questions = []
    for question in overview.questions:
        review = selectors.question_review(question=question, lang=lang, review=True)
        result = review.result
        questions.append(
            {
                "position": question.position,
                "family": review.public["family"],
                "kind": review.public["kind"],
                "prompt": review.public["prompt"],
                "points": question.points,
                "status": review.status,
                "response": review.response,
                "result": {
                    "score": result.score,
                    "correct": result.correct,
                    "feedback": result.feedback,
                    "format_error": result.format_error,
                    "misconception": (
                        {
                            "id": result.misconception,
                            "title": result.misconception_title or result.misconception,
                            "correction": result.misconception_correction,
                        }
                        if result.misconception
                        else None
                    ),
                    "explanation": result.explanation,
                    "key": result.key,
                }
                if result is not None
                else None,
                "skills": [{"id": skill, "title": title} for skill, title in review.skills],
            }
        )
    skills = selectors.attempt_skill_breakdown(questions=overview.questions, lang=lang)
    return attempt_payload(attempt) | {
        "points_scored": overview.points_scored,
        "points_total": overview.points_total,
        "pending": overview.pending,
        "skills": [
            {
                "id": s.skill,
                "title": s.label,
                "points_scored": s.points_scored,
                "points_total": s.points_total,
            }
            for s in skills
        ],
        "questions": questions,
    }


class AttemptReviewApi(APIView):
    @extend_schema(
        operation_id="attempt_review",
        parameters=[LANG_PARAMETER],
        responses={200: ReviewSerializer, **_errors(401, 404, 409)},
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        """The review of your attempt (answers, keys, explanations, score by skill), once the quiz's
        review policy allows it; before that, 409 ``review_not_allowed`` and nothing of the key."""
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        if not selectors.attempt_review_allowed(attempt=attempt) or selectors.attempt_is_open(
            attempt=attempt
        ):
            raise ReviewNotAllowed(
                _("The review of this attempt is not available yet, as the quiz's review rules say."),
                details={"review": attempt.quiz.review},
            )
        return Response(ReviewSerializer(review_payload(attempt, request_lang(request))).data)
