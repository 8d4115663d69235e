"""Reads for LTI 1.3."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from lti_tool.models import LtiContext

from lti.models import CourseLink
from questions.models import Course, Quiz


def course_for_context(*, context: LtiContext) -> Course | None:
    """The tcpquiz course an LMS course is linked to, if it has been launched before."""
    link = CourseLink.objects.select_related("course").filter(context=context).first()
    return link.course if link is not None else None


def quizzes_to_link(*, course: Course) -> QuerySet[Quiz]:
    """The quizzes an instructor may place in the LMS course: all of the course's, with ``slot_count``."""
    return Quiz.objects.filter(course=course).annotate(slot_count=Count("slots")).order_by("title", "id")
