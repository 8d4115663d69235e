"""REST API v1 for instructors: the question families and a preview of their variants.

Only instructors (of at least one course) may call these; anyone else signed in gets 403.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from questions import selectors
from questions.api import request_lang
from questions.errors import NotAnInstructor
from questions.serializers import (
    ErrorSerializer,
    FamilyPreviewQuerySerializer,
    FamilyPreviewSerializer,
    FamilySerializer,
)

_SEED_MAX = (1 << 62) - 1


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description="An error.") for code in codes}


class IsInstructor(BasePermission):
    """Signed in and an instructor of at least one course."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not selectors.user_is_instructor(user=request.user):
            raise NotAnInstructor(
                _("Only instructors (of at least one course) may use this endpoint."),
                details={"required_role": "instructor"},
            )
        return True


class FamilyListApi(APIView):
    permission_classes = [IsAuthenticated, IsInstructor]

    @extend_schema(
        operation_id="families_list",
        parameters=[
            OpenApiParameter("lang", str, OpenApiParameter.QUERY, required=False, enum=["en", "zh-hans"])
        ],
        responses={200: FamilySerializer(many=True), **_errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        """Every question family: name, title, how students answer it, difficulty levels."""
        families = selectors.family_list(lang=request_lang(request))
        return Response(FamilySerializer(families, many=True).data)


class FamilyPreviewApi(APIView):
    permission_classes = [IsAuthenticated, IsInstructor]

    @extend_schema(
        operation_id="family_preview",
        parameters=[FamilyPreviewQuerySerializer],
        responses={200: FamilyPreviewSerializer, **_errors(400, 401, 403, 404)},
    )
    def get(self, request: Request, name: str) -> Response:
        """``n`` variants of one family with their keys, explanations, misconceptions and skills."""
        family = selectors.family_get(name=name)
        query = FamilyPreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        seed = params.get("seed")
        if seed is None:
            seed = secrets.randbelow(_SEED_MAX)
        lang = params.get("lang") or request_lang(request)
        variants = selectors.family_preview(
            name=name, n=params["n"], difficulty=params["difficulty"], seed=seed
        )
        body = {
            "family": family.name,
            "title": family.title[lang],
            "difficulty": params["difficulty"],
            "seed": seed,
            "lang": lang,
            "variants": [selectors.variant_for_instructor(variant=v, lang=lang) for v in variants],
        }
        return Response(FamilyPreviewSerializer(body).data)
