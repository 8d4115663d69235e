"""The admin: read-mostly views of courses, quizzes and what students did."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from questions import services
from questions.models import (
    Answer,
    Attempt,
    AttemptQuestion,
    Course,
    Draft,
    Enrollment,
    GradingIssue,
    PracticeAnswer,
    Quiz,
    QuizSlot,
    RegradeRecord,
)
from questions.tasks import grade_answer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# An answer pending this long is stuck: the sweep (every 30 s, after 20 s) should have had it graded.
STUCK_AFTER = timedelta(minutes=2)


class EnrollmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Enrollment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "join_code", "created_at"]
    search_fields = ["title", "join_code"]
    inlines = [EnrollmentInline]


class QuizSlotInline(admin.TabularInline):  # type: ignore[type-arg]
    model = QuizSlot
    extra = 0


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "title",
        "course",
        "mode",
        "review",
        "max_attempts",
        "opens_at",
        "closes_at",
        "is_published",
    ]
    list_filter = ["mode", "review", "is_published", "course"]
    search_fields = ["title"]
    inlines = [QuizSlotInline]


class AttemptQuestionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AttemptQuestion
    extra = 0
    fields = ("position", "family", "difficulty", "seed", "engine_version")
    readonly_fields = ("position", "family", "difficulty", "seed", "engine_version")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "user", "quiz", "number", "status", "started_at", "submitted_at"]
    list_filter = ["status", "quiz"]
    raw_id_fields = ["user"]
    inlines = [AttemptQuestionInline]


@admin.action(description=_("Re-enqueue grading of the selected answers (pending or failed)"))
def answers_reenqueue(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Answer]) -> None:  # type: ignore[type-arg]
    """Failed and stuck answers start afresh (no run counted) on the careful, one-by-one path."""
    ids = services.answers_grading_reset(answer_ids=queryset.values_list("id", flat=True))
    for answer_id in ids:
        grade_answer.delay_on_commit(answer_id)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d answer sent for grading again.", "%(count)d answers sent for grading again.", len(ids)
        )
        % {"count": len(ids)},
        messages.SUCCESS,
    )


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "id",
        "attempt",
        "question",
        "status",
        "score",
        "misconception",
        "grading_attempts",
        "created_at",
    ]
    list_filter = ["status"]
    raw_id_fields = ["attempt", "question"]
    readonly_fields = ["created_at", "graded_at", "swept_at", "grading_attempts"]
    actions = [answers_reenqueue]


class GradingIssueStateFilter(admin.SimpleListFilter):
    title = _("grading state")
    parameter_name = "state"

    def lookups(
        self,
        request: HttpRequest,
        model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    ) -> list[tuple[str, StrOrPromise]]:
        return [("stuck", _("stuck (pending too long)")), ("failed", _("failed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Answer]) -> QuerySet[Answer]:
        if self.value() == "stuck":
            return queryset.filter(status=Answer.Status.PENDING)
        if self.value() == "failed":
            return queryset.filter(status=Answer.Status.FAILED)
        return queryset


@admin.register(GradingIssue)
class GradingIssueAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Answers that grading failed, or that are still pending after STUCK_AFTER: select, re-enqueue."""

    list_display = [
        "id",
        "status",
        "student",
        "attempt",
        "position",
        "family",
        "grading_attempts",
        "created_at",
        "swept_at",
    ]
    list_filter = [GradingIssueStateFilter]
    list_select_related = ["attempt__user", "question"]
    ordering = ["created_at", "id"]
    actions = [answers_reenqueue]
    readonly_fields = [f.name for f in Answer._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        stuck_before = timezone.now() - STUCK_AFTER
        return (
            super()
            .get_queryset(request)
            .filter(
                Q(status=Answer.Status.FAILED) | Q(status=Answer.Status.PENDING, created_at__lte=stuck_before)
            )
        )

    @admin.display(description=_("student"))
    def student(self, answer: Answer) -> str:
        return answer.attempt.user.get_username()

    @admin.display(description=_("question"), ordering="question__position")
    def position(self, answer: Answer) -> int:
        return answer.question.position

    @admin.display(description=_("question family"), ordering="question__family")
    def family(self, answer: Answer) -> str:
        return answer.question.family

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Answer | None = None) -> bool:
        return False


@admin.register(RegradeRecord)
class RegradeRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "id",
        "answer",
        "old_score",
        "new_score",
        "old_engine_version",
        "new_engine_version",
        "created_at",
    ]
    list_filter = ["new_engine_version"]
    raw_id_fields = ["answer"]
    readonly_fields = [f.name for f in RegradeRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records the app writes (never added or edited by hand here)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    """Autosaved responses of attempts in progress (they become answers when the attempt closes)."""

    list_display = ["id", "attempt", "question", "saved_at"]
    raw_id_fields = ["attempt", "question"]
    readonly_fields = [f.name for f in Draft._meta.fields]
    date_hierarchy = "saved_at"


@admin.register(PracticeAnswer)
class PracticeAnswerAdmin(ReadOnlyAdmin):
    """Practice answers, graded at once: what the dashboard's per-skill mastery is counted from."""

    list_display = ["id", "user", "family", "difficulty", "score", "misconception", "created_at"]
    list_filter = ["family", "difficulty"]
    search_fields = ["user__username", "family", "misconception"]
    raw_id_fields = ["user"]
    readonly_fields = [f.name for f in PracticeAnswer._meta.fields]
    date_hierarchy = "created_at"
