"""LTI fixtures: a registered, running platform (see platform.py) and a helper that launches from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from jwcrypto.jwk import JWK
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from tests.lti.platform import CLIENT_ID, DEPLOYMENT_ID, ISSUER, Platform, PlatformServer


@pytest.fixture
def platform(db: None) -> Iterator[Platform]:
    """A platform registered with tcpquiz (active deployment) whose endpoints answer on 127.0.0.1."""
    tool_key = Key.objects.generate()
    with PlatformServer(Platform(tool_public_pem=tool_key.public_key.encode())) as running:
        registration = LtiRegistration.objects.create(
            name="Test LMS",
            issuer=ISSUER,
            client_id=CLIENT_ID,
            auth_url=f"{running.url}/auth",
            token_url=f"{running.url}/token",
            keyset_url=f"{running.url}/jwks",
        )
        LtiDeployment.objects.create(registration=registration, deployment_id=DEPLOYMENT_ID, is_active=True)
        running.registration_uuid = str(registration.uuid)
        yield running


def oidc_login(client: Client, platform: Platform, *, sub: str) -> dict[str, str]:
    """Step 1: the platform initiates the login; returns the tool's auth request (state, nonce, ...)."""
    response = client.get(
        f"/lti/login/{platform.registration_uuid}/",
        {
            "iss": ISSUER,
            "login_hint": sub,
            "target_link_uri": "http://testserver/lti/launch/",
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
            "lti1p3_new_window": "1",
        },
    )
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{platform.url}/auth"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def launch(
    client: Client, platform: Platform, *, sub: str, roles: list[str], key: JWK | None = None, **claims: Any
) -> Any:
    """A whole launch: OIDC login initiation, then the signed id_token posted to the tool."""
    auth = oidc_login(client, platform, sub=sub)
    token = platform.sign(platform.id_token_claims(nonce=auth["nonce"], sub=sub, roles=roles, **claims), key)
    return client.post(urlsplit(auth["redirect_uri"]).path, {"id_token": token, "state": auth["state"]})
