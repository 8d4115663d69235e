"""What tcpquiz adds to django-lti's records (``lti_tool``): which course an LMS course lands in, and
where a student's quiz score goes back to (LTI Assignment and Grade Services).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from lti_tool.models import LtiContext, LtiUser

from questions.models import Attempt, Course, Quiz


class CourseLink(models.Model):
    """An LMS course (LTI context) and the tcpquiz course its launches land in."""

    context = models.OneToOneField(
        LtiContext, on_delete=models.CASCADE, related_name="tcpquiz_link", verbose_name=_("LTI context")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="lti_links", verbose_name=_("course")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("LMS course link")
        verbose_name_plural = _("LMS course links")

    def __str__(self) -> str:
        return f"{self.context} → {self.course}"


class GradeTarget(models.Model):
    """The LMS grade column (AGS line item) a student's score at a quiz is sent to."""

    lti_user = models.ForeignKey(
        LtiUser, on_delete=models.CASCADE, related_name="grade_targets", verbose_name=_("LTI user")
    )
    quiz = models.ForeignKey(
        Quiz, on_delete=models.CASCADE, related_name="grade_targets", verbose_name=_("quiz")
    )
    context = models.ForeignKey(
        LtiContext, on_delete=models.CASCADE, related_name="grade_targets", verbose_name=_("LTI context")
    )
    lineitem_url = models.URLField(_("line item URL"), max_length=1024)
    # The AGS scopes the platform granted at the launch.
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("grade target")
        verbose_name_plural = _("grade targets")
        constraints = [
            models.UniqueConstraint(
                fields=["lti_user", "quiz", "lineitem_url"], name="gradetarget_one_per_user_quiz_lineitem"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lti_user} / {self.quiz} → {self.lineitem_url}"


class ScorePublication(models.Model):
    """One closed attempt's score, to be sent (or sent) to one grade target."""

    class Status(models.TextChoices):
        PENDING = "pending", _("to send")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, related_name="score_publications", verbose_name=_("attempt")
    )
    target = models.ForeignKey(
        GradeTarget, on_delete=models.CASCADE, related_name="publications", verbose_name=_("grade target")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # The percentage sent (score given out of 100), once sent.
    score = models.FloatField(_("score sent"), null=True, blank=True)
    tries = models.PositiveIntegerField(_("tries"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_try_at = models.DateTimeField(_("next try at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("score publication")
        verbose_name_plural = _("score publications")
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "target"], name="scorepublication_one_per_attempt_target"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sent", "failed"]), name="scorepublication_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="scorepublication_sent_has_time"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_try_at"], name="scorepublication_due")]

    def __str__(self) -> str:
        return f"{self.attempt} → {self.target.lineitem_url} ({self.status})"
