from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from lti import services
from lti.models import CourseLink, GradeTarget, ScorePublication


@admin.register(CourseLink)
class CourseLinkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["context", "course", "created_at"]
    raw_id_fields = ["context", "course"]


@admin.register(GradeTarget)
class GradeTargetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["lti_user", "quiz", "lineitem_url", "created_at"]
    raw_id_fields = ["lti_user", "quiz", "context"]


@admin.register(ScorePublication)
class ScorePublicationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["attempt", "target", "status", "score", "tries", "sent_at"]
    list_filter = ["status"]
    raw_id_fields = ["attempt", "target"]
    actions = ["retry"]

    @admin.action(description="Send again")
    def retry(self, request: HttpRequest, queryset: QuerySet[ScorePublication]) -> None:
        services.score_publications_retry(publication_ids=list(queryset.values_list("pk", flat=True)))
