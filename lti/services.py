"""Writes for LTI 1.3: map a launch to a tcpquiz account, course and enrolment; send scores back (AGS).

Like every service, these are atomic, take keyword arguments and no request. django-lti has already
verified the launch (signature, nonce, deployment) and stored its user, context and membership.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from lti_tool.models import LtiContext, LtiUser

from lti import ags
from lti.models import CourseLink, GradeTarget, ScorePublication
from questions import services as question_services
from questions.models import Answer, Attempt, Course, Enrollment, Quiz
from questions.selectors import attempt_progress

logger = logging.getLogger(__name__)

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
# After this many failed sends a publication is marked failed (it can be retried from the admin).
PUBLISH_MAX_TRIES = 6
_CLOSED = (Attempt.Status.SUBMITTED, Attempt.Status.EXPIRED)


@dataclass(frozen=True)
class LaunchFacts:
    """What tcpquiz needs from a verified resource-link or deep-linking launch."""

    lti_user: LtiUser
    context: LtiContext
    is_instructor: bool
    # The custom parameter ``quiz`` of the resource link (a quiz id), if any.
    quiz_ref: str | None = None
    # AGS: the line item of this resource link and the scopes granted, if the platform sent them.
    lineitem_url: str | None = None
    ags_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LaunchOutcome:
    user: User
    course: Course
    role: Enrollment.Role
    quiz: Quiz | None
    # The launch named a quiz that is not in this course (e.g. a link copied from another LMS course).
    quiz_missing: bool = False


def _username_for(lti_user: LtiUser) -> str:
    digest = hashlib.sha256(f"{lti_user.registration_id}|{lti_user.sub}".encode()).hexdigest()[:10]
    readable = lti_user.email.split("@")[0] if lti_user.email else lti_user.name or lti_user.given_name
    base = re.sub(r"[^\w.+-]", "", slugify(readable or ""))[:20] or "lms"
    return f"{base}.{digest}"


@transaction.atomic
def lti_user_account(*, lti_user: LtiUser) -> User:
    """The tcpquiz account of an LMS user: made at their first launch, its name kept up to date."""
    locked = LtiUser.objects.select_for_update(of=("self",)).select_related("auth_user").get(pk=lti_user.pk)
    user: User | None = locked.auth_user
    if user is None:
        user = User(username=_username_for(locked))
        user.set_unusable_password()
    user.first_name = (locked.given_name or "")[:150]
    user.last_name = (locked.family_name or "")[:150]
    user.email = locked.email or ""
    user.save()
    if locked.auth_user_id != user.pk:
        locked.auth_user = user
        locked.save(update_fields=["auth_user"])
    return user


@transaction.atomic
def lti_context_course(*, context: LtiContext) -> Course:
    """The tcpquiz course of an LMS course: created and linked at the first launch from it."""
    # The context row is the lock: two first launches at once make one course, not two.
    locked = LtiContext.objects.select_for_update().get(pk=context.pk)
    link = CourseLink.objects.select_related("course").filter(context=locked).first()
    if link is not None:
        return link.course
    code = question_services.join_code_generate()
    while Course.objects.filter(join_code=code).exists():
        code = question_services.join_code_generate()
    title = (locked.title or locked.label or _("Course from the learning platform"))[:200]
    course = question_services.course_create(title=title, join_code=code)
    CourseLink.objects.create(context=locked, course=course)
    return course


def _quiz_in(course: Course, quiz_ref: str | None) -> Quiz | None:
    if not quiz_ref or not quiz_ref.strip().isdigit():
        return None
    return Quiz.objects.filter(pk=int(quiz_ref), course=course).first()


@transaction.atomic
def lti_launch_accept(*, facts: LaunchFacts) -> LaunchOutcome:
    """Map a verified launch to tcpquiz: the account, the course and the role the LMS says.

    Instructor (and administrator, content developer) roles make a course instructor, any other role a
    student. A student's launch of a quiz that the platform grades (AGS line item and score scope)
    records where the score goes.
    """
    user = lti_user_account(lti_user=facts.lti_user)
    course = lti_context_course(context=facts.context)
    role = Enrollment.Role.INSTRUCTOR if facts.is_instructor else Enrollment.Role.STUDENT
    question_services.enrollment_set_role(user=user, course=course, role=role)
    quiz = _quiz_in(course, facts.quiz_ref)
    if (
        quiz is not None
        and role == Enrollment.Role.STUDENT
        and facts.lineitem_url
        and SCORE_SCOPE in facts.ags_scopes
    ):
        GradeTarget.objects.update_or_create(
            lti_user=facts.lti_user,
            quiz=quiz,
            lineitem_url=facts.lineitem_url,
            defaults={"context": facts.context, "scopes": list(facts.ags_scopes)},
        )
    return LaunchOutcome(
        user=user, course=course, role=role, quiz=quiz, quiz_missing=bool(facts.quiz_ref) and quiz is None
    )


# --- Score passback (AGS) -------------------------------------------------------------------------


@transaction.atomic
def score_publications_create(*, limit: int = 500) -> int:
    """Queue a score publication for each closed, fully graded attempt that has a grade target.

    Returns how many were created. An attempt gets one publication per grade target, once.
    """
    pending_answers = Answer.objects.filter(attempt=OuterRef("pk"), status=Answer.Status.PENDING)
    targets = GradeTarget.objects.filter(quiz=OuterRef("quiz"), lti_user__auth_user=OuterRef("user"))
    published = ScorePublication.objects.filter(attempt=OuterRef("pk"))
    attempts = list(
        Attempt.objects.filter(status__in=_CLOSED)
        .filter(Exists(targets))
        .exclude(Exists(pending_answers))
        .exclude(Exists(published))
        .order_by("submitted_at")[:limit]
    )
    created = 0
    for attempt in attempts:
        for target in GradeTarget.objects.filter(
            quiz_id=attempt.quiz_id, lti_user__auth_user=attempt.user_id
        ):
            _publication, made = ScorePublication.objects.get_or_create(attempt=attempt, target=target)
            created += made
    return created


@transaction.atomic
def score_publications_claim(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Claim the publications due to be sent now; returns their ids (the caller sends each).

    Claimed ones are pushed two minutes into the future, so the next sweep does not send them again
    while a worker is still busy with them.
    """
    now = now or timezone.now()
    ids = list(
        ScorePublication.objects.select_for_update(skip_locked=True)
        .filter(status=ScorePublication.Status.PENDING, next_try_at__lte=now)
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:limit]
    )
    ScorePublication.objects.filter(pk__in=ids).update(next_try_at=now + timedelta(minutes=2))
    return ids


def _best_percent(user_id: int, quiz_id: int) -> float:
    """The student's best score at the quiz, in percent, over closed attempts."""
    attempts = Attempt.objects.select_related("quiz").filter(
        user_id=user_id, quiz_id=quiz_id, status__in=_CLOSED
    )
    best = 0.0
    for attempt in attempts:
        progress = attempt_progress(attempt=attempt)
        if progress.points_total:
            best = max(best, 100.0 * progress.points_scored / progress.points_total)
    return round(best, 2)


def score_publish(*, publication_id: int, now: datetime | None = None) -> ScorePublication:
    """Send the student's best score at the quiz to the LMS line item. Safe to run twice.

    The HTTP calls happen outside any transaction; a failure is recorded and retried later with
    backoff, and after PUBLISH_MAX_TRIES the publication is marked failed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        publication = (
            ScorePublication.objects.select_for_update(of=("self",))
            .select_related(
                "attempt", "target", "target__lti_user", "target__context__deployment__registration"
            )
            .get(pk=publication_id)
        )
        if publication.status != ScorePublication.Status.PENDING:
            return publication
        publication.tries += 1
        publication.save(update_fields=["tries"])
    target = publication.target
    percent = _best_percent(publication.attempt.user_id, target.quiz_id)
    try:
        ags.score_send(
            registration=target.context.deployment.registration,
            lineitem_url=target.lineitem_url,
            scopes=list(target.scopes),
            user_sub=target.lti_user.sub,
            percent=percent,
            timestamp=now,
        )
    except ags.ScoreNotSent as error:
        logger.warning("Score publication %s failed (try %s): %s", publication.pk, publication.tries, error)
        with transaction.atomic():
            publication = ScorePublication.objects.select_for_update().get(pk=publication_id)
            publication.last_error = str(error)[:2000]
            if publication.tries >= PUBLISH_MAX_TRIES:
                publication.status = ScorePublication.Status.FAILED
            publication.next_try_at = now + timedelta(minutes=2**publication.tries)
            publication.save(update_fields=["last_error", "status", "next_try_at"])
        return publication
    with transaction.atomic():
        publication = ScorePublication.objects.select_for_update().get(pk=publication_id)
        publication.status = ScorePublication.Status.SENT
        publication.score = percent
        publication.sent_at = now
        publication.last_error = ""
        publication.save(update_fields=["status", "score", "sent_at", "last_error"])
    return publication


@transaction.atomic
def score_publications_retry(*, publication_ids: list[int], now: datetime | None = None) -> int:
    """Make failed (or pending) publications due again with a fresh try budget; returns how many."""
    return (
        ScorePublication.objects.filter(pk__in=publication_ids)
        .exclude(status=ScorePublication.Status.SENT)
        .update(status=ScorePublication.Status.PENDING, tries=0, next_try_at=now or timezone.now())
    )
