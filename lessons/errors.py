"""The lessons' refusals, in the site's one error shape (tcpquiz.errors)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tcpquiz.errors import NotFoundError


class LessonNotFound(NotFoundError):
    code = "lesson_not_found"

    def __init__(self, slug: str) -> None:
        super().__init__(_("There is no lesson called “%(slug)s”.") % {"slug": slug}, details={"slug": slug})
