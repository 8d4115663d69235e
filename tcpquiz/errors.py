"""One error shape for the whole API, and the Django error pages.

Every API error body is ``{"error": {"code": "...", "message": "...", "details": {...}}}``: DRF's
exceptions go through ``api_exception_handler``, domain errors raised by services carry their own code
and status, and Django's 400/403/404/500 handlers answer the same JSON under /api/ (HTML elsewhere).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain said no. Services raise these; the API and the pages show ``message``."""

    code: str = "domain_error"
    status: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFoundError(DomainError):
    code = "not_found"
    status = status.HTTP_404_NOT_FOUND


class ConflictError(DomainError):
    code = "conflict"
    status = status.HTTP_409_CONFLICT


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "details": details or {}}}


def _drf_error(exc: exceptions.APIException) -> tuple[str, str, dict[str, Any]]:
    """(code, message, details) for one of DRF's exceptions."""
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return "invalid", _("The request is not valid; see details for each field."), details
    if isinstance(exc, exceptions.ParseError):
        return "malformed_request", _("The request body is not valid JSON."), {"reason": str(exc.detail)}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = (
            "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
        )
        return code, str(exc.detail), {}
    if isinstance(exc, exceptions.PermissionDenied):
        return "permission_denied", _("You are not allowed to do this."), {}
    if isinstance(exc, exceptions.NotFound):
        return "not_found", _("There is nothing here, or it is not yours to see."), {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return "method_not_allowed", str(exc.detail), {}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return "unsupported_media_type", _("Send the request body as application/json."), {}
    if isinstance(exc, exceptions.NotAcceptable):
        return "not_acceptable", str(exc.detail), {}
    if isinstance(exc, exceptions.Throttled):
        return (
            "throttled",
            _("Too many requests; wait a moment and try again."),
            {"retry_after_seconds": getattr(exc, "wait", None)},
        )
    return exc.default_code, str(exc.detail), {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error as ``{"error": {...}}``; unexpected ones become a 500 body."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        code, message, details = _drf_error(exc)
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
        return Response(error_body(code, message, details), status=exc.status_code, headers=headers)
    return None  # Django's handler500 answers (in JSON under /api/).


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _page(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(code, message), status=status_code)
    return render(
        request, "tcpquiz/error.html", {"status": status_code, "message": message}, status=status_code
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, "permission_denied", _("You are not allowed to do this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "not_found", _("There is nothing here, or it is not yours to see."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request, 500, "server_error", _("Something went wrong on our side. It has been logged; please retry.")
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(
        request,
        403,
        "csrf_failed",
        _("Your session's security token was missing or stale. Reload the page and try again."),
    )
