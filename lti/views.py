"""LTI 1.3 endpoints: JWKS, OIDC login initiation, launch (resource link and deep linking), quiz picker.

django-lti (``lti_tool``, built on PyLTI1p3) verifies each launch: the OIDC state cookie, the nonce,
the platform's signature from its JWKS, the deployment. These views turn a verified launch into a
signed-in tcpquiz user on the right page, and answer a deep-linking request with the quiz picked.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lti_tool.models import Key, LtiLaunch
from lti_tool.utils import get_launch_from_request
from lti_tool.views import LtiLaunchBaseView, OIDCLoginInitView, jwks
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem

from lti import selectors, services
from questions.models import Enrollment

logger = logging.getLogger(__name__)

__all__ = ["LaunchView", "LoginInitView", "deep_link_pick", "jwks"]

_AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
# Longer than any id_token's lifetime the platforms use (minutes), so a replay is always caught.
NONCE_TTL_SECONDS = 2 * 60 * 60


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "tcpquiz/error.html", {"status": status, "message": message}, status=status)


def _no_key(request: HttpRequest) -> HttpResponse:
    logger.error("LTI launch impossible: no active tool key. Run `manage.py rotate_keys`.")
    return _error(
        request, 503, _("LTI is not set up on this server yet (it has no key). Tell the administrator.")
    )


class LoginInitView(OIDCLoginInitView):  # type: ignore[misc]
    """Step 1 of a launch: the platform names itself; we answer with a redirect to its login."""

    main_msg = gettext_lazy("Your browser blocks cookies inside the learning platform's frame.")
    click_msg = gettext_lazy("Open tcpquiz in a new window.")
    loading_msg = gettext_lazy("Loading…")

    def get_oidc_response(self, request: HttpRequest, registration_uuid: Any, params: Any) -> HttpResponse:
        try:
            return super().get_oidc_response(request, registration_uuid, params)  # type: ignore[no-any-return]
        except (OIDCException, LtiException) as error:
            logger.info("LTI login initiation refused: %s", error)
            return _error(request, 400, _("This learning platform is not registered with tcpquiz."))
        except Key.DoesNotExist:
            return _no_key(request)


def _launch_facts(lti_launch: LtiLaunch) -> services.LaunchFacts:
    membership = lti_launch.membership
    ags_claim = lti_launch.get_claim(_AGS_CLAIM) or {}
    return services.LaunchFacts(
        lti_user=lti_launch.user,
        context=lti_launch.context,
        is_instructor=bool(
            membership.is_instructor or membership.is_administrator or membership.is_content_developer
        ),
        quiz_ref=lti_launch.get_custom_claim("quiz"),
        lineitem_url=ags_claim.get("lineitem") or None,
        ags_scopes=tuple(ags_claim.get("scope") or ()),
    )


class LaunchView(LtiLaunchBaseView):  # type: ignore[misc]
    """Step 2: the platform posts a signed id_token; we sign the person in and send them on."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().post(request, *args, **kwargs)  # type: ignore[no-any-return]
        except Key.DoesNotExist:
            return _no_key(request)
        except LtiException as error:
            logger.info("LTI launch refused: %s", error)
            return _error(
                request, 400, _("This launch could not be verified. Start it again from your course.")
            )

    def launch_setup(self, request: HttpRequest, lti_launch: LtiLaunch) -> None:
        # PyLTI1p3 accepts a verified id_token again while its nonce is cached; a launch is used once.
        nonce = lti_launch.get_claim("nonce")
        if not nonce or not cache.add(f"lti:nonce-used:{nonce}", True, timeout=NONCE_TTL_SECONDS):
            raise LtiException("This launch was already used.")

    def handle_inactive_deployment(self, request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
        return _error(
            request, 403, _("This deployment of tcpquiz is not activated yet: ask the site administrator.")
        )

    def handle_resource_launch(self, request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
        outcome = services.lti_launch_accept(facts=_launch_facts(lti_launch))
        login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
        teaches = outcome.role == Enrollment.Role.INSTRUCTOR
        if outcome.quiz is not None:
            if teaches:
                return redirect("instructor:quiz_edit", quiz_id=outcome.quiz.pk)
            return redirect("questions:quiz_detail", quiz_id=outcome.quiz.pk)
        if teaches:
            return redirect("instructor:course_detail", course_id=outcome.course.pk)
        return redirect("questions:course_list")

    def handle_deep_linking_launch(self, request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
        facts = _launch_facts(lti_launch)
        if not facts.is_instructor:
            return _error(request, 403, _("Only instructors can add tcpquiz quizzes to a course."))
        outcome = services.lti_launch_accept(facts=facts)
        login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("lti:deep_link_pick", launch_id=lti_launch.get_launch_id())


# Deep linking usually runs in the platform's frame, where this site's own (SameSite=Lax) session and
# CSRF cookies are not sent. The picker is therefore keyed by the launch id instead: an unguessable,
# short-lived id of a verified launch, which is also what makes a forged POST impossible.
@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def deep_link_pick(request: HttpRequest, launch_id: str) -> HttpResponse:
    """The instructor picks one of the course's quizzes; the platform gets it as an LTI resource link."""
    try:
        lti_launch = get_launch_from_request(request, launch_id)
    except LtiException:
        lti_launch = None
    if lti_launch is None or not lti_launch.is_deep_link_launch:
        return _error(request, 400, _("This link has expired. Start adding a quiz again from your course."))
    if not _launch_facts(lti_launch).is_instructor:
        return _error(request, 403, _("Only instructors can add tcpquiz quizzes to a course."))
    course = selectors.course_for_context(context=lti_launch.context)
    if course is None:
        return _error(request, 400, _("This link has expired. Start adding a quiz again from your course."))
    quizzes = list(selectors.quizzes_to_link(course=course))
    error = None
    if request.method == "POST":
        chosen = next((q for q in quizzes if str(q.pk) == request.POST.get("quiz")), None)
        if chosen is None:
            error = _("Choose one of the quizzes.")
        else:
            lineitem = LineItem().set_label(chosen.title).set_score_maximum(100)
            resource = (
                DeepLinkResource()
                .set_url(request.build_absolute_uri(reverse("lti:launch")))
                .set_title(chosen.title)
                .set_custom_params({"quiz": str(chosen.pk)})
                .set_lineitem(lineitem.set_tag(f"tcpquiz-quiz-{chosen.pk}"))
            )
            return lti_launch.deep_link_response([resource])  # type: ignore[no-any-return]
    context = {"course": course, "quizzes": quizzes, "error": error, "launch_id": launch_id}
    return render(request, "lti/deep_link_pick.html", context, status=400 if error else 200)
