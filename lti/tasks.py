"""LTI tasks: thin wrappers around lti.services (each takes ids and is safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from lti import services


@shared_task(name="lti.tasks.score_publish")
def score_publish(publication_id: int) -> str:
    """Send one attempt's score to the LMS (the service records failures and retries with backoff)."""
    return str(services.score_publish(publication_id=publication_id).status)


@shared_task(name="lti.tasks.scores_publish_due")
def scores_publish_due() -> int:
    """Every minute (beat): queue the scores of newly closed attempts and send those that are due."""
    services.score_publications_create()
    ids = services.score_publications_claim()
    for publication_id in ids:
        score_publish.delay(publication_id)
    return len(ids)
