"""API v1 shapes. Output serializers read plain objects; they never see a key before grading."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from questions.models import Answer, Attempt, Quiz
from questions.selectors import FAMILY_PREVIEW_MAX


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="A stable, machine-readable error code.")
    message = serializers.CharField(help_text="A sentence a person understands.")
    details = serializers.DictField(help_text="Structured details (field errors, limits, ids).")


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every API error."""

    error = ErrorDetailSerializer()


class CourseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    role = serializers.CharField(help_text="Your role in the course: student or instructor.")


class QuizSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    course = serializers.IntegerField(source="course_id")
    title = serializers.CharField()
    description = serializers.CharField()
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices)
    review = serializers.ChoiceField(choices=Quiz.Review.choices)
    time_limit_seconds = serializers.SerializerMethodField()
    max_attempts = serializers.IntegerField(allow_null=True)
    question_count = serializers.IntegerField(source="slot_count")
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)

    def get_time_limit_seconds(self, quiz: Quiz) -> int | None:
        return int(quiz.time_limit.total_seconds()) if quiz.time_limit else None


class ProgressSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    answered = serializers.IntegerField()
    graded = serializers.IntegerField()
    pending = serializers.IntegerField()
    points_total = serializers.IntegerField()
    points_scored = serializers.FloatField(
        help_text="Only while review is allowed; else null.", allow_null=True
    )


class AttemptSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField(source="quiz_id")
    number = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices, help_text="practice or exam (the quiz's mode).")
    review_allowed = serializers.BooleanField(
        help_text="May results (scores, keys, explanations) be shown now, by the quiz's review policy?"
    )
    time_remaining_seconds = serializers.IntegerField(
        allow_null=True, help_text="Seconds until the deadline while in progress; null without a deadline."
    )
    status = serializers.ChoiceField(choices=Attempt.Status.choices)
    is_open = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    progress = ProgressSerializer()


class ChoiceSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    text = serializers.CharField()


class AnswerBriefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Answer.Status.choices)


class QuestionSerializer(serializers.Serializer[Any]):
    """A question as the student sees it: prompt and choices, never the key or the explanation."""

    position = serializers.IntegerField()
    family = serializers.CharField()
    kind = serializers.CharField(help_text='How to answer; "single": {"choice": "<choice id>"}.')
    difficulty = serializers.CharField()
    prompt = serializers.CharField()
    choices = ChoiceSerializer(many=True)
    widget = serializers.DictField()
    diagram_svg = serializers.CharField(allow_null=True, help_text="The question's own diagram, inline.")
    diagram_url = serializers.CharField(
        allow_null=True,
        help_text="Or a link (on this server) to a diagram many questions share: the TCP state diagram.",
    )
    answer = AnswerBriefSerializer(allow_null=True)
    draft = serializers.JSONField(allow_null=True, help_text="Your autosaved response, if any.")


class AttemptDetailSerializer(AttemptSerializer):
    questions = QuestionSerializer(many=True)


class AnswerSubmitSerializer(serializers.Serializer[Any]):
    """What a student sends to answer one question."""

    question = serializers.IntegerField(
        min_value=1, help_text="The question's position in the attempt (1, 2, ...)."
    )
    response = serializers.JSONField(
        help_text='The answer, e.g. {"choice": "b"} for a single-choice question.'
    )

    def validate_response(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('The response must be a JSON object, e.g. {"choice": "b"}.'))
        return value


class MisconceptionSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    title = serializers.CharField()
    correction = serializers.CharField(allow_null=True)


class AnswerResultSerializer(serializers.Serializer[Any]):
    score = serializers.FloatField()
    correct = serializers.BooleanField()
    feedback = serializers.CharField()
    format_error = serializers.CharField(allow_null=True)
    misconception = MisconceptionSerializer(allow_null=True)
    explanation = serializers.CharField()
    key = serializers.JSONField(help_text="The correct answer, in the same shape as a response.")


class AnswerSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    attempt = serializers.IntegerField()
    question = serializers.IntegerField(help_text="The question's position in the attempt.")
    status = serializers.ChoiceField(choices=Answer.Status.choices)
    response = serializers.JSONField()
    created_at = serializers.DateTimeField()
    graded_at = serializers.DateTimeField(allow_null=True)
    result = AnswerResultSerializer(
        allow_null=True, help_text="Null while grading, or while the quiz's review policy hides results."
    )


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()


class HealthSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()


# --- Instructors: question families -----------------------------------------------------------------


class FamilySerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    title = serializers.CharField()
    kinds = serializers.ListField(
        child=serializers.CharField(), help_text="How students answer: single, multiple, order, ..."
    )
    two_endpoint = serializers.BooleanField(help_text="The question involves both ends of a connection.")
    difficulties = serializers.ListField(child=serializers.CharField())


class FamilyPreviewQuerySerializer(serializers.Serializer[Any]):
    """The preview's query string (every field optional)."""

    n = serializers.IntegerField(min_value=1, max_value=FAMILY_PREVIEW_MAX, default=5)
    difficulty = serializers.ChoiceField(choices=["easy", "medium", "hard"], default="medium")
    seed = serializers.IntegerField(
        min_value=0, max_value=(1 << 62) - 1, required=False, help_text="Default: a random seed."
    )
    lang = serializers.ChoiceField(choices=["en", "zh-hans"], required=False)


class PreviewMisconceptionSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    title = serializers.CharField()
    correction = serializers.CharField(allow_null=True)


class PreviewChoiceSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    text = serializers.CharField()
    is_key = serializers.BooleanField()
    misconception = PreviewMisconceptionSerializer(allow_null=True)


class PreviewSkillSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    title = serializers.CharField(allow_null=True)


class VariantPreviewSerializer(serializers.Serializer[Any]):
    """A whole variant as an instructor sees it: key, explanation, misconceptions and skills included."""

    family = serializers.CharField()
    seed = serializers.IntegerField()
    difficulty = serializers.CharField()
    engine_version = serializers.CharField()
    kind = serializers.CharField()
    prompt = serializers.CharField()
    choices = PreviewChoiceSerializer(many=True)
    widget = serializers.DictField()
    diagram_svg = serializers.CharField(allow_null=True)
    key = serializers.JSONField()
    explanation = serializers.CharField()
    skills = PreviewSkillSerializer(many=True)
    canonical = serializers.CharField()


class FamilyPreviewSerializer(serializers.Serializer[Any]):
    family = serializers.CharField()
    title = serializers.CharField()
    difficulty = serializers.CharField()
    seed = serializers.IntegerField(help_text="Send it again to get the same variants.")
    lang = serializers.CharField()
    variants = VariantPreviewSerializer(many=True)


# --- Students: drafts and review ---------------------------------------------------------------------


class DraftSubmitSerializer(serializers.Serializer[Any]):
    """The response being composed for one question (it may be incomplete)."""

    response = serializers.JSONField(help_text='Same shape as an answer, e.g. {"cells": {"r2.seq": "1001"}}.')

    def validate_response(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('The response must be a JSON object, e.g. {"choice": "b"}.'))
        if len(json.dumps(value)) > DRAFT_MAX_BYTES:
            raise serializers.ValidationError(_("The response is too large."))
        return value


DRAFT_MAX_BYTES = 16_000


class DraftSerializer(serializers.Serializer[Any]):
    question = serializers.IntegerField(help_text="The question's position in the attempt.")
    response = serializers.JSONField(allow_null=True)
    saved_at = serializers.DateTimeField(allow_null=True)


class ReviewSkillSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    title = serializers.CharField()
    points_scored = serializers.FloatField()
    points_total = serializers.IntegerField()


class ReviewSkillRefSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    title = serializers.CharField()


class ReviewQuestionSerializer(serializers.Serializer[Any]):
    position = serializers.IntegerField()
    family = serializers.CharField()
    kind = serializers.CharField()
    prompt = serializers.CharField()
    points = serializers.IntegerField()
    status = serializers.CharField(
        help_text="none (not answered), pending, failed (being retried) or graded."
    )
    response = serializers.JSONField(allow_null=True)
    result = AnswerResultSerializer(allow_null=True)
    skills = ReviewSkillRefSerializer(many=True)


class ReviewSerializer(AttemptSerializer):
    """A closed attempt's review: only served once the quiz's review policy allows it."""

    points_scored = serializers.FloatField()
    points_total = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Answers still being graded.")
    skills = ReviewSkillSerializer(many=True)
    questions = ReviewQuestionSerializer(many=True)


def represent(serializer_class: type[serializers.Serializer[Any]], payload: Any) -> dict[str, Any]:
    """``serializer_class(payload).data``, from one instance of the serializer per process.

    An output-only serializer does the same work for every payload, but building one deep-copies all
    its declared fields (and its nested serializers' fields) first: for an answer that was about 5% of
    the submit's Python (cProfile). Only for serializers that read no context (no request, no links).
    """
    return dict(_instance(serializer_class).to_representation(payload))


@cache
def _instance(serializer_class: type[serializers.Serializer[Any]]) -> serializers.Serializer[Any]:
    return serializer_class()
