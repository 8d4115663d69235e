"""The admin: read-mostly views of courses, quizzes and what students did."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from questions.models import Answer, Attempt, AttemptQuestion, Course, Enrollment, Quiz, QuizSlot
from questions.tasks import grade_answer


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


@admin.action(description=_("Enqueue grading again for the selected pending answers"))
def answers_regrade_pending(
    modeladmin: AnswerAdmin, request: HttpRequest, queryset: QuerySet[Answer]
) -> None:
    for answer_id in queryset.filter(status=Answer.Status.PENDING).values_list("id", flat=True):
        grade_answer.delay_on_commit(answer_id)


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
    actions = [answers_regrade_pending]
