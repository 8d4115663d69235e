"""A learning platform for the LTI tests: real keys, a real HTTP server on 127.0.0.1, real JWTs.

It signs id_tokens with its own RSA key, serves its JWKS, issues OAuth2 tokens to the tool after
checking the tool's signed client assertion, and records the AGS scores posted to its line items.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from jwcrypto.jwk import JWK

ISSUER = "https://lms.example.edu"
CLIENT_ID = "tcpquiz-client-1"
DEPLOYMENT_ID = "deployment-1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@dataclass
class Platform:
    """The platform's state: its key, the tool's public key, and what it has received."""

    url: str = ""
    registration_uuid: str = ""
    key: JWK = field(default_factory=lambda: JWK.generate(kty="RSA", size=2048, kid="platform-key-1"))
    tool_public_pem: bytes = b""
    scores: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    score_status: int = 200
    access_token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def jwks(self) -> dict[str, Any]:
        public = json.loads(self.key.export_public())
        return {"keys": [public | {"alg": "RS256", "use": "sig"}]}

    def lineitem_url(self, n: int = 7) -> str:
        return f"{self.url}/lineitems/{n}/lineitem"

    def sign(self, claims: dict[str, Any], key: JWK | None = None) -> str:
        signer = key or self.key
        pem = signer.export_to_pem(private_key=True, password=None)
        return jwt.encode(
            claims, pem, algorithm="RS256", headers={"kid": signer.export_public(as_dict=True)["kid"]}
        )

    def id_token_claims(
        self,
        *,
        nonce: str,
        sub: str,
        roles: list[str],
        message_type: str = "LtiResourceLinkRequest",
        custom: dict[str, str] | None = None,
        context_id: str = "course-42",
        resource_link_id: str = "link-1",
        target_link_uri: str = "http://testserver/lti/launch/",
        ags: bool = True,
        deep_link_return_url: str | None = None,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"User {sub}",
            "given_name": "User",
            "family_name": sub,
            "email": f"{sub}@lms.example.edu",
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "roles": roles,
            LTI + "target_link_uri": target_link_uri,
            LTI + "context": {
                "id": context_id,
                "label": "TCP101",
                "title": "TCP 101 in the LMS",
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
        }
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": resource_link_id, "title": "A tcpquiz quiz"}
            claims[LTI + "custom"] = custom or {}
            if ags:
                claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = {
                    "scope": AGS_SCOPES,
                    "lineitems": f"{self.url}/lineitems",
                    "lineitem": self.lineitem_url(),
                }
        else:
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": deep_link_return_url or f"{self.url}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False,
                "data": "opaque-platform-data",
            }
        return claims


def _handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # silence the test output
            return

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/jwks":
                self._reply(200, platform.jwks)
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if self.path == "/token":
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                platform.token_requests.append(form)
                try:
                    jwt.decode(
                        form["client_assertion"],
                        platform.tool_public_pem,
                        algorithms=["RS256"],
                        audience=f"{platform.url}/token",
                    )
                except (jwt.InvalidTokenError, KeyError):
                    self._reply(401, {"error": "invalid_client"})
                    return
                self._reply(
                    200, {"access_token": platform.access_token, "token_type": "Bearer", "expires_in": 3600}
                )
            elif self.path.endswith("/scores"):
                if self.headers.get("Authorization") != f"Bearer {platform.access_token}":
                    self._reply(401, {"error": "bad token"})
                    return
                if platform.score_status != 200:
                    self._reply(platform.score_status, {"error": "the platform is down"})
                    return
                platform.scores.append(
                    {
                        "url": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(raw),
                    }
                )
                self._reply(200, {})
            else:
                self._reply(404, {"error": "not found"})

    return Handler


class PlatformServer:
    """Runs a Platform's HTTP endpoints on a free port of 127.0.0.1 until stopped."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(platform))
        platform.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Platform:
        self.thread.start()
        return self.platform

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
