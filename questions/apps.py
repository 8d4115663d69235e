import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("tcpquiz")


class QuestionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "questions"
    verbose_name = "Questions"

    def ready(self) -> None:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            logger.warning(
                "TCPQUIZ_EAGER_TASKS=1: grading runs in-process, inside the web request (no broker, "
                "no worker). Fine for one user on one machine; run Redis and a Celery worker otherwise."
            )
