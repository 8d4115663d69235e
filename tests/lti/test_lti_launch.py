"""LTI 1.3 end to end: a real platform (its own RSA key, JWKS and token endpoint on 127.0.0.1) launches
tcpquiz; the launch maps the LMS user, course and role; deep linking places a quiz; AGS gets the score.
"""

from __future__ import annotations

import re
from html import unescape

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client
from jwcrypto.jwk import JWK
from lti_tool.models import Key, LtiDeployment

from lti import services as lti_services
from lti.models import CourseLink, GradeTarget, ScorePublication
from lti.tasks import scores_publish_due
from questions import services
from questions.models import Attempt, Course, Enrollment, Quiz
from questions.tasks import grade_answer
from tests.conftest import key_choice
from tests.lti.conftest import launch, oidc_login
from tests.lti.platform import AGS_SCOPES, CLIENT_ID, INSTRUCTOR, ISSUER, LEARNER, Platform

pytestmark = pytest.mark.django_db


def _linked_course() -> Course:
    return CourseLink.objects.select_related("course").get().course


def _quiz_in_linked_course() -> Quiz:
    return services.quiz_create(
        course=_linked_course(),
        title="Handshake check",
        slots=[("next_state", "easy"), ("next_state", "easy")],
    )


def test_lti_jwks_publishes_the_tool_key(client: Client, platform: Platform) -> None:
    """The JWKS URL lists the tool's public key for RS256 signatures."""
    keys = client.get("/lti/jwks/").json()["keys"]
    assert keys
    assert {(k["kty"], k["alg"], k["use"]) for k in keys} == {("RSA", "RS256", "sig")}
    assert all("d" not in k for k in keys)  # public halves only


def test_lti_login_initiation_redirects_to_the_platform(client: Client, platform: Platform) -> None:
    """OIDC login initiation answers with the platform's auth URL, a state and a nonce."""
    auth = oidc_login(client, platform, sub="u1")
    assert auth["client_id"] == CLIENT_ID
    assert auth["redirect_uri"] == "http://testserver/lti/launch/"
    assert auth["state"]
    assert auth["nonce"]


def test_lti_login_initiation_checks_cookies_first(client: Client, platform: Platform) -> None:
    """Without the new-window flag the tool first answers a page that checks cookies are allowed."""
    response = client.get(
        f"/lti/login/{platform.registration_uuid}/",
        {
            "iss": ISSUER,
            "login_hint": "u1",
            "target_link_uri": "http://testserver/lti/launch/",
            "client_id": CLIENT_ID,
        },
    )
    assert response.status_code == 200
    assert b"lti1p3_new_window" in response.content


def test_lti_login_from_unknown_platform_is_400(client: Client, platform: Platform) -> None:
    """An issuer that is not registered gets a 400 page, not a crash."""
    response = client.get(
        f"/lti/login/{platform.registration_uuid}/",
        {
            "iss": "https://evil.example",
            "login_hint": "u1",
            "target_link_uri": "http://testserver/lti/launch/",
            "lti1p3_new_window": "1",
        },
    )
    assert response.status_code == 400


def test_lti_instructor_launch_creates_course_and_instructor(client: Client, platform: Platform) -> None:
    """An Instructor's first launch makes a tcpquiz course for the LMS course and signs them in as its
    instructor, on the course's instructor page."""
    response = launch(client, platform, sub="teacher-1", roles=[INSTRUCTOR])
    course = _linked_course()
    assert response.status_code == 302
    assert response["Location"] == f"/instructor/courses/{course.pk}/"
    assert course.title == "TCP 101 in the LMS"
    enrollment = Enrollment.objects.get(course=course)
    assert enrollment.role == Enrollment.Role.INSTRUCTOR
    assert enrollment.user.email == "teacher-1@lms.example.edu"
    assert client.get(response["Location"]).status_code == 200


def test_lti_learner_launch_opens_the_linked_quiz(platform: Platform) -> None:
    """A Learner launching a link whose custom parameter names a quiz lands on that quiz as a student."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    student = Client()
    response = launch(student, platform, sub="learner-1", roles=[LEARNER], custom={"quiz": str(quiz.pk)})
    assert response.status_code == 302
    assert response["Location"] == f"/quizzes/{quiz.pk}/"
    assert student.get(response["Location"]).status_code == 200
    user = User.objects.get(email="learner-1@lms.example.edu")
    assert Enrollment.objects.get(user=user).role == Enrollment.Role.STUDENT
    target = GradeTarget.objects.get()
    assert (target.quiz, target.lineitem_url) == (quiz, platform.lineitem_url())


def test_lti_second_launch_reuses_the_account(platform: Platform) -> None:
    """The same LMS user launching twice is the same tcpquiz user, enrolled once."""
    launch(Client(), platform, sub="learner-1", roles=[LEARNER])
    launch(Client(), platform, sub="learner-1", roles=[LEARNER])
    assert User.objects.filter(email="learner-1@lms.example.edu").count() == 1
    assert Enrollment.objects.count() == 1


def test_lti_quiz_of_another_course_is_not_opened(platform: Platform, quiz: Quiz) -> None:
    """A custom quiz id from another tcpquiz course is ignored: the student lands on their courses."""
    response = launch(Client(), platform, sub="learner-1", roles=[LEARNER], custom={"quiz": str(quiz.pk)})
    assert response["Location"] == "/courses/"
    assert not GradeTarget.objects.exists()


def test_lti_launch_signed_by_another_key_is_refused(platform: Platform) -> None:
    """An id_token not signed by the platform's key is refused with 400; nobody is signed in or created."""
    client = Client()
    forged = JWK.generate(kty="RSA", size=2048, kid="platform-key-1")
    response = launch(client, platform, sub="mallory", roles=[INSTRUCTOR], key=forged)
    assert response.status_code == 400
    assert not User.objects.exists()
    assert not Course.objects.exists()


def test_lti_launch_replayed_nonce_is_refused(platform: Platform) -> None:
    """Posting the same id_token and state a second time is refused."""
    client = Client()
    auth = oidc_login(client, platform, sub="learner-1")
    token = platform.sign(platform.id_token_claims(nonce=auth["nonce"], sub="learner-1", roles=[LEARNER]))
    assert client.post("/lti/launch/", {"id_token": token, "state": auth["state"]}).status_code == 302
    assert client.post("/lti/launch/", {"id_token": token, "state": auth["state"]}).status_code == 400


def test_lti_launch_without_state_cookie_is_refused(platform: Platform) -> None:
    """An id_token posted from a browser that did not start the login (no state cookie) is refused."""
    auth = oidc_login(Client(), platform, sub="learner-1")
    token = platform.sign(platform.id_token_claims(nonce=auth["nonce"], sub="learner-1", roles=[LEARNER]))
    assert Client().post("/lti/launch/", {"id_token": token, "state": auth["state"]}).status_code == 400


def test_lti_inactive_deployment_is_refused(platform: Platform) -> None:
    """A deployment the administrator has not activated gets 403."""
    LtiDeployment.objects.update(is_active=False)
    response = launch(Client(), platform, sub="learner-1", roles=[LEARNER])
    assert response.status_code == 403


def test_lti_deep_linking_returns_the_picked_quiz(platform: Platform) -> None:
    """An instructor's deep-linking launch shows the course's quizzes; picking one answers the platform
    with a signed LtiDeepLinkingResponse holding a resource link (custom quiz id, line item of 100)."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    client = Client()
    response = launch(
        client, platform, sub="teacher-1", roles=[INSTRUCTOR], message_type="LtiDeepLinkingRequest"
    )
    assert response.status_code == 302
    picker = client.get(response["Location"])
    assert quiz.title in picker.content.decode()
    answer = client.post(response["Location"], {"quiz": str(quiz.pk)})
    html = answer.content.decode()
    assert f'action="{platform.url}/deep-link-return"' in html
    token = unescape(re.search(r'name="JWT" value="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    keys = {k["kid"]: k for k in client.get("/lti/jwks/").json()["keys"]}
    tool_key = keys[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, jwt.PyJWK(tool_key).key, algorithms=["RS256"], audience=ISSUER)
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == "http://testserver/lti/launch/"
    assert item["custom"] == {"quiz": str(quiz.pk)}
    assert item["lineItem"]["scoreMaximum"] == 100


def test_lti_deep_linking_is_for_instructors_only(platform: Platform) -> None:
    """A Learner cannot start deep linking."""
    response = launch(
        Client(), platform, sub="learner-1", roles=[LEARNER], message_type="LtiDeepLinkingRequest"
    )
    assert response.status_code == 403


def test_lti_deep_link_picker_with_unknown_launch_is_400(client: Client, platform: Platform) -> None:
    """The picker refuses a launch id it does not know."""
    assert client.get("/lti/deep-link/not-a-launch/").status_code == 400


def _finish_attempt(student: Client, quiz: Quiz) -> Attempt:
    user = User.objects.get(email="learner-1@lms.example.edu")
    attempt, _created = services.attempt_start(user=user, quiz=quiz)
    for position in (1, 2):
        answer, _ = services.answer_submit(
            user=user, attempt=attempt, position=position, response={"choice": key_choice(attempt, position)}
        )
        grade_answer.delay(answer.pk)
    return services.attempt_submit(user=user, attempt=attempt)


def test_lti_score_is_sent_back_with_ags(platform: Platform) -> None:
    """A submitted, graded attempt's score reaches the platform's line item: the tool gets a token with a
    signed client assertion, then posts a completed, fully graded score of 100 for the LMS user."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    student = Client()
    launch(student, platform, sub="learner-1", roles=[LEARNER], custom={"quiz": str(quiz.pk)})
    _finish_attempt(student, quiz)

    assert scores_publish_due.delay().get() == 1
    (score,) = platform.scores
    assert score["url"] == "/lineitems/7/lineitem/scores"
    assert score["content_type"] == "application/vnd.ims.lis.v1.score+json"
    body = score["body"]
    assert (body["userId"], body["scoreGiven"], body["scoreMaximum"]) == ("learner-1", 100, 100)
    assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
    assert set(platform.token_requests[0]["scope"].split()) == set(AGS_SCOPES)
    publication = ScorePublication.objects.get()
    assert (publication.status, publication.score) == (ScorePublication.Status.SENT, 100.0)


def test_lti_score_is_sent_once(platform: Platform) -> None:
    """Running the sweep and the publish task again sends nothing more."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    launch(Client(), platform, sub="learner-1", roles=[LEARNER], custom={"quiz": str(quiz.pk)})
    _finish_attempt(Client(), quiz)
    scores_publish_due.delay()
    scores_publish_due.delay()
    lti_services.score_publish(publication_id=ScorePublication.objects.get().pk)
    assert len(platform.scores) == 1


def test_lti_score_failure_is_retried_later(platform: Platform) -> None:
    """When the platform refuses the score, the publication stays pending with the error and a later
    try time; once the platform answers again, the retry sends it."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    launch(Client(), platform, sub="learner-1", roles=[LEARNER], custom={"quiz": str(quiz.pk)})
    _finish_attempt(Client(), quiz)
    platform.score_status = 503
    scores_publish_due.delay()
    publication = ScorePublication.objects.get()
    assert publication.status == ScorePublication.Status.PENDING
    assert (publication.tries, "503" in publication.last_error) == (1, True)
    assert lti_services.score_publications_claim() == []  # not due yet
    platform.score_status = 200
    lti_services.score_publish(publication_id=publication.pk)
    publication.refresh_from_db()
    assert publication.status == ScorePublication.Status.SENT
    assert len(platform.scores) == 1


def test_lti_no_score_while_an_answer_is_being_graded(platform: Platform) -> None:
    """An attempt with an answer still pending grading is not published yet."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    launch(Client(), platform, sub="learner-1", roles=[LEARNER], custom={"quiz": str(quiz.pk)})
    user = User.objects.get(email="learner-1@lms.example.edu")
    attempt, _created = services.attempt_start(user=user, quiz=quiz)
    services.answer_submit(
        user=user, attempt=attempt, position=1, response={"choice": key_choice(attempt, 1)}
    )
    services.attempt_submit(user=user, attempt=attempt)
    assert lti_services.score_publications_create() == 0


def test_lti_instructor_launch_of_a_quiz_opens_its_editor(platform: Platform) -> None:
    """An Instructor launching a quiz link lands on that quiz's editor; no grade target is recorded."""
    launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR])
    quiz = _quiz_in_linked_course()
    response = launch(Client(), platform, sub="teacher-1", roles=[INSTRUCTOR], custom={"quiz": str(quiz.pk)})
    assert response["Location"] == f"/instructor/quizzes/{quiz.pk}/"
    assert not GradeTarget.objects.exists()


def test_lti_without_a_tool_key_answers_503(client: Client, platform: Platform) -> None:
    """With no active tool key the login initiation says LTI is not set up (503), not a crash."""
    Key.objects.update(is_active=False)
    response = client.get(
        f"/lti/login/{platform.registration_uuid}/",
        {
            "iss": ISSUER,
            "login_hint": "u1",
            "target_link_uri": "http://testserver/lti/launch/",
            "client_id": CLIENT_ID,
            "lti1p3_new_window": "1",
        },
    )
    assert response.status_code == 503
