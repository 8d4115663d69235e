"""DRF's token authentication, with its one read compiled once per database connection.

Every API request looks its token up. Through the ORM that read is built and compiled anew each time
(a ``select_related`` join whose compilation asks each column for its database type): py-spy put it
at about a sixth of an exam start's Python. ``CompiledRead`` keeps the SQL per connection and binds
the key; the rows, the errors and their messages are DRF's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from questions.compiled import CompiledRead

_TOKEN = CompiledRead("auth-token", lambda key: Token.objects.select_related("user").filter(key=key))


class CompiledTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` whose token read is a ``CompiledRead``."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Any]:
        token = _TOKEN.first(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
