"""The Celery app: ``celery -A tcpquiz worker`` and ``celery -A tcpquiz beat``.

Configuration lives in Django settings under the ``CELERY_`` prefix (see tcpquiz/settings.py).
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any

from celery import Celery, signals
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tcpquiz.settings")

logger = logging.getLogger(__name__)


class Task(DjangoTask[Any, Any]):
    """The base of every tcpquiz task: enqueueing on commit never fails the caller.

    A request that stored its work (an answer, pending) must succeed even when the broker is down; the
    periodic sweep enqueues whatever was left behind.
    """

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        from django.db import transaction

        transaction.on_commit(partial(self.publish_or_log, args, kwargs))

    def publish_or_log(self, args: tuple[Any, ...], kwargs: dict[str, Any], **options: Any) -> bool:
        """Send the task to the broker (``options`` as for ``apply_async``: countdown, ...); on failure
        log it and return False instead of raising."""
        try:
            self.apply_async(args, kwargs, **options)
        except Exception:
            # kombu OperationalError, redis ConnectionError, socket timeouts: all mean "not sent".
            logger.warning(
                "Could not enqueue %s%r: the broker is unreachable; the pending sweep will retry it.",
                self.name,
                args,
                exc_info=True,
            )
            return False
        return True


app = Celery("tcpquiz", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender: Any = None, **kwargs: Any) -> None:
    """A task is treated like a request: reuse the connection within CONN_MAX_AGE, drop a broken one.

    (CELERY_DB_REUSE_MAX stops Celery's own fixup from closing every connection around every task.)
    """
    request = getattr(sender, "request", None)
    if request is None or getattr(request, "is_eager", False):
        return  # an eager task runs inside its caller's transaction: its connection is not ours
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_init.connect
def _niceness_to_autogroup(**kwargs: Any) -> None:
    """The Procfile's ``nice -n 10`` must rank the worker against gunicorn, not only within its own
    session (see tcpquiz.autogroup). Before the pool forks, so its processes share the setting."""
    from tcpquiz.autogroup import autogroup_follow_niceness

    applied, what = autogroup_follow_niceness()
    logger.log(logging.INFO if applied else logging.WARNING, "Worker CPU priority: %s.", what)
