"""The LTI Assignment and Grade Services client: post one score to a line item (via PyLTI1p3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests
from lti_tool.models import LtiRegistration
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

# Neither the token endpoint nor the score endpoint may hold a worker for long.
HTTP_TIMEOUT_SECONDS = 10


class ScoreNotSent(Exception):
    """The platform did not accept the score (unreachable, refused the token or the score)."""


class _TimeoutSession(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def score_send(
    *,
    registration: LtiRegistration,
    lineitem_url: str,
    scopes: list[str],
    user_sub: str,
    percent: float,
    timestamp: datetime,
) -> None:
    """POST ``percent`` out of 100 as the user's completed, fully graded score; ScoreNotSent if refused."""
    connector = ServiceConnector(registration.to_registration(), _TimeoutSession())
    service_data: Any = {"scope": scopes, "lineitem": lineitem_url}
    service = AssignmentsGradesService(connector, service_data)
    grade = (
        Grade()
        .set_score_given(percent)
        .set_score_maximum(100)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(timestamp.isoformat())
        .set_user_id(user_sub)
    )
    try:
        service.put_grade(grade)
    except LtiServiceException as error:
        raise ScoreNotSent(f"the platform answered {error}") from error
    except (LtiException, requests.RequestException, ValueError, KeyError) as error:
        raise ScoreNotSent(str(error) or type(error).__name__) from error
