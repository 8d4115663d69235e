"""Courses, quizzes, attempts and answers.

Invariants that concurrency could break are database constraints: one enrollment per user and course,
one open attempt per user and quiz, one answer per attempt question, one idempotency key per attempt.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from questions.variant_store import VariantJSONField, choices_in_order


class Course(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Students sign up or join with this code; stored upper-case.
    join_code = models.CharField(_("join code"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(condition=~Q(join_code=""), name="course_join_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", _("student")
        INSTRUCTOR = "instructor", _("instructor")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("user")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("course")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STUDENT)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrollment_one_per_user_course"),
            models.CheckConstraint(
                condition=Q(role__in=["student", "instructor"]), name="enrollment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} ({self.role})"


class Quiz(models.Model):
    class Mode(models.TextChoices):
        PRACTICE = "practice", _("practice")
        EXAM = "exam", _("exam")

    class Review(models.TextChoices):
        AFTER_SUBMIT = "after_submit", _("after each answer (practice) or after submitting (exam)")
        AFTER_CLOSE = "after_close", _("after the quiz closes")
        NEVER = "never", _("never")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="quizzes", verbose_name=_("course")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.PRACTICE)
    # None = no time limit.
    time_limit = models.DurationField(_("time limit"), null=True, blank=True)
    # None = unlimited attempts.
    max_attempts = models.PositiveIntegerField(_("maximum attempts"), null=True, blank=True)
    shuffle = models.BooleanField(_("shuffle questions"), default=False)
    review = models.CharField(_("review"), max_length=16, choices=Review.choices, default=Review.AFTER_SUBMIT)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["course_id", "id"]
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=["practice", "exam"]), name="quiz_mode_valid"),
            models.CheckConstraint(
                condition=Q(review__in=["after_submit", "after_close", "never"]), name="quiz_review_valid"
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True) | Q(max_attempts__gte=1),
                name="quiz_max_attempts_positive",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="quiz_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class QuizSlot(models.Model):
    """One question position of a quiz: each attempt draws a fresh variant of ``family``."""

    class Difficulty(models.TextChoices):
        EASY = "easy", _("easy")
        MEDIUM = "medium", _("medium")
        HARD = "hard", _("hard")

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="slots", verbose_name=_("quiz"))
    position = models.PositiveIntegerField(_("position"))
    family = models.CharField(_("question family"), max_length=64)
    difficulty = models.CharField(
        _("difficulty"), max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    points = models.PositiveIntegerField(_("points"), default=1)
    # Set: each attempt draws a random item (family, difficulty) of this bank; ``family`` and
    # ``difficulty`` above are then the fallback, used only if the bank has no item left.
    bank = models.ForeignKey(
        "QuestionBank",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
        verbose_name=_("question bank"),
    )

    class Meta:
        ordering = ["quiz_id", "position"]
        verbose_name = _("quiz slot")
        verbose_name_plural = _("quiz slots")
        constraints = [
            models.UniqueConstraint(fields=["quiz", "position"], name="quizslot_one_per_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="quizslot_position_positive"),
            models.CheckConstraint(
                condition=Q(difficulty__in=["easy", "medium", "hard"]), name="quizslot_difficulty_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quiz} #{self.position}: {self.family} ({self.difficulty})"


class QuestionBank(models.Model):
    """A course's named set of (family, difficulty) items; a quiz slot can draw one at random."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="question_banks", verbose_name=_("course")
    )
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["course_id", "title", "id"]
        verbose_name = _("question bank")
        verbose_name_plural = _("question banks")

    def __str__(self) -> str:
        return self.title


class BankItem(models.Model):
    bank = models.ForeignKey(
        QuestionBank, on_delete=models.CASCADE, related_name="items", verbose_name=_("question bank")
    )
    family = models.CharField(_("question family"), max_length=64)
    difficulty = models.CharField(
        _("difficulty"), max_length=8, choices=QuizSlot.Difficulty.choices, default=QuizSlot.Difficulty.MEDIUM
    )

    class Meta:
        ordering = ["bank_id", "id"]
        verbose_name = _("question bank item")
        verbose_name_plural = _("question bank items")
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "family", "difficulty"], name="bankitem_one_per_family_level"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__in=["easy", "medium", "hard"]), name="bankitem_difficulty_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank}: {self.family} ({self.difficulty})"


class Attempt(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("in progress")
        SUBMITTED = "submitted", _("submitted")
        EXPIRED = "expired", _("expired")

    # No index of its own: the unique (user, quiz, number) index leads with it (one index fewer to
    # write per start).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("user"),
        db_index=False,
    )
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("quiz"))
    number = models.PositiveIntegerField(_("attempt number"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    # None = no deadline (no time limit and no closing date).
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        constraints = [
            models.UniqueConstraint(fields=["user", "quiz", "number"], name="attempt_number_unique"),
            # Two clicks on "start" can never open two attempts.
            models.UniqueConstraint(
                fields=["user", "quiz"],
                condition=Q(status="in_progress"),
                name="attempt_one_open_per_user_quiz",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["in_progress", "submitted", "expired"]), name="attempt_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(submitted_at__isnull=False),
                name="attempt_closed_has_submitted_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="attempt_status_deadline")]

    def __str__(self) -> str:
        return f"{self.user} / {self.quiz} #{self.number}"


def stored_variant_id() -> int:
    """A random id (62 bits, so it fits a signed 64-bit column everywhere): see ``StoredVariant``."""
    return secrets.randbits(62)


class StoredVariant(models.Model):
    """A generated variant, stored once and used by one attempt question.

    Written ahead of time, in bulk, when a worker fills the variant pools (questions.variant_pool):
    starting an attempt then writes only small rows that point here. Where there is no pool, the start
    writes its variants itself. The id is random, not a sequence, so an id left in a pool names this
    row or none: never another one (after the database was reset, say); the start then makes a new one.
    A row no question uses (its pool was dropped) is deleted by ``stored_variants_prune``.
    """

    id = models.BigIntegerField(primary_key=True, default=stored_variant_id, editable=False)
    family = models.CharField(_("question family"), max_length=64)
    seed = models.BigIntegerField(_("seed"))
    difficulty = models.CharField(_("difficulty"), max_length=8, choices=QuizSlot.Difficulty.choices)
    engine_version = models.CharField(_("engine version"), max_length=32)
    # {"en": {...}, "zh-hans": {...}}: Variant.public(lang) for each language.
    public = VariantJSONField(_("public payload"))
    # The whole variant (questions.variant_store.variant_to_json): key, explanation, misconceptions.
    variant = VariantJSONField(_("stored variant"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("stored variant")
        verbose_name_plural = _("stored variants")
        indexes = [models.Index(fields=["created_at"], name="storedvariant_created")]

    def __str__(self) -> str:
        return f"{self.family} (seed {self.seed}, {self.difficulty})"


class AttemptQuestion(models.Model):
    """The variant an attempt drew for one slot, stored so it is never regenerated per request.

    ``(family, seed, difficulty, engine_version)`` can recompute it; ``stored`` holds what a student
    may see (``public``, per language) and the whole generated question incl. key and explanation
    (``variant``). ``choice_order`` is set when the quiz shuffles choices: the order they are shown in.
    """

    # No index of its own: the unique (attempt, position) index leads with it (a start writes 20 rows,
    # each an entry fewer).
    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, related_name="questions", verbose_name=_("attempt"), db_index=False
    )
    slot = models.ForeignKey(
        QuizSlot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("slot")
    )
    position = models.PositiveIntegerField(_("position"))
    family = models.CharField(_("question family"), max_length=64)
    seed = models.BigIntegerField(_("seed"))
    difficulty = models.CharField(_("difficulty"), max_length=8, choices=QuizSlot.Difficulty.choices)
    engine_version = models.CharField(_("engine version"), max_length=32)
    points = models.PositiveIntegerField(_("points"), default=1)
    stored = models.OneToOneField(
        StoredVariant, on_delete=models.PROTECT, related_name="question", verbose_name=_("stored variant")
    )
    # The choices' indexes in the order shown (a shuffled quiz); None: as generated.
    choice_order = models.JSONField(_("choice order"), null=True, blank=True)

    class Meta:
        ordering = ["attempt_id", "position"]
        verbose_name = _("attempt question")
        verbose_name_plural = _("attempt questions")
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="attemptquestion_one_per_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="attemptquestion_position_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} Q{self.position} ({self.family}, seed {self.seed})"

    @property
    def public(self) -> Mapping[str, Any]:
        """What the student may see, per language, with the choices in the order they are shown."""
        shown = self.__dict__.get("_public")
        if shown is None:
            shown = choices_ordered(self.stored.public, self.choice_order)
            self.__dict__["_public"] = shown
        return shown

    @public.setter
    def public(self, value: Mapping[str, Any]) -> None:
        # Already ordered (a start hands over the payloads it built; nothing is stored by this).
        self.__dict__["_public"] = value

    @property
    def variant(self) -> dict[str, Any]:
        variant: dict[str, Any] = self.stored.variant
        return variant

    @property
    def key(self) -> Any:
        return self.variant["key"]


def choices_ordered(public: dict[str, Any], order: list[int] | None) -> dict[str, Any]:
    """``public`` (every language) with its choices in ``order`` (indexes); as it is if None."""
    return {lang: choices_in_order(shown, order) for lang, shown in public.items()} if order else public


class Answer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("grading")
        GRADED = "graded", _("graded")
        FAILED = "failed", _("grading failed")

    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, related_name="answers", verbose_name=_("attempt")
    )
    question = models.OneToOneField(
        AttemptQuestion, on_delete=models.CASCADE, related_name="answer", verbose_name=_("question")
    )
    response = models.JSONField(_("response"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    score = models.FloatField(_("score"), null=True, blank=True)
    # {"en": "...", "zh-hans": "..."}
    feedback = models.JSONField(_("feedback"), default=dict, blank=True)
    misconception = models.CharField(_("misconception"), max_length=64, blank=True)
    # {"en": ..., "zh-hans": ...} when the answer was malformed: it costs nothing and may be resent.
    format_error = models.JSONField(_("format error"), null=True, blank=True)
    # Empty = the client sent none; else unique within the attempt (a retried submit returns the first).
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True, default="")
    grading_attempts = models.PositiveIntegerField(_("grading runs"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    # When the pending sweep last enqueued it (so a slow worker is not flooded with copies).
    swept_at = models.DateTimeField(_("swept at"), null=True, blank=True)

    class Meta:
        ordering = ["attempt_id", "question__position"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="answer_idempotency_key_unique_per_attempt",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "graded", "failed"]), name="answer_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=1)),
                name="answer_score_in_unit_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="graded") | (Q(score__isnull=False) & Q(graded_at__isnull=False)),
                name="answer_graded_has_score",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="answer_status_created"),
            # The grading queue: pending answers in arrival order (grade_answers_batch claims from it).
            models.Index(fields=["id"], condition=Q(status="pending"), name="answer_pending"),
        ]

    def __str__(self) -> str:
        return f"answer to {self.question} ({self.status})"

    @property
    def is_graded(self) -> bool:
        return self.status == self.Status.GRADED


class Draft(models.Model):
    """The response a student is composing for one question, autosaved until it becomes an answer.

    An exam's drafts become its answers when the attempt is submitted or reaches its deadline; in
    practice a draft only keeps unfinished work across reloads until the student checks the answer.
    """

    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, related_name="drafts", verbose_name=_("attempt")
    )
    question = models.OneToOneField(
        AttemptQuestion, on_delete=models.CASCADE, related_name="draft", verbose_name=_("question")
    )
    response = models.JSONField(_("response"))
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        ordering = ["attempt_id", "question__position"]
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")

    def __str__(self) -> str:
        return f"draft of {self.question}"


class PracticeAnswer(models.Model):
    """An answer given on the free practice page (outside any quiz), graded as it is given.

    The variant is not stored: ``(family, seed, difficulty, engine_version)`` recomputes it. Only the
    first answer to a variant counts, so a resent form never counts twice; a malformed answer is
    refused, never stored.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="practice_answers",
        verbose_name=_("user"),
    )
    family = models.CharField(_("question family"), max_length=64)
    seed = models.BigIntegerField(_("seed"))
    difficulty = models.CharField(_("difficulty"), max_length=8, choices=QuizSlot.Difficulty.choices)
    engine_version = models.CharField(_("engine version"), max_length=32)
    # The variant's skill ids, and the ones the student asked to practise (empty: any).
    skills = models.JSONField(_("skills"), default=list)
    requested_skills = models.JSONField(_("requested skills"), default=list, blank=True)
    response = models.JSONField(_("response"))
    score = models.FloatField(_("score"))
    # {"en": "...", "zh-hans": "..."}
    feedback = models.JSONField(_("feedback"), default=dict, blank=True)
    misconception = models.CharField(_("misconception"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("practice answer")
        verbose_name_plural = _("practice answers")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "family", "seed", "difficulty", "engine_version"],
                name="practiceanswer_one_per_variant",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=1), name="practiceanswer_score_in_unit_range"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__in=["easy", "medium", "hard"]), name="practiceanswer_difficulty_valid"
            ),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="practiceanswer_user_created")]

    def __str__(self) -> str:
        return f"{self.user} practised {self.family} (seed {self.seed})"

    @property
    def correct(self) -> bool:
        return self.score >= 1.0


class GradingIssue(Answer):
    """An answer stuck in grading or failed: the admin's list of them, with "re-enqueue"."""

    class Meta:
        proxy = True
        verbose_name = _("answer stuck or failed in grading")
        verbose_name_plural = _("answers stuck or failed in grading")


class RegradeRecord(models.Model):
    """One answer graded again after its question's key was recomputed (e.g. by a fixed engine)."""

    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="regrades", verbose_name=_("answer")
    )
    # None: the answer had no score (grading had failed).
    old_score = models.FloatField(_("old score"), null=True, blank=True)
    new_score = models.FloatField(_("new score"), null=True, blank=True)
    old_engine_version = models.CharField(_("old engine version"), max_length=32)
    new_engine_version = models.CharField(_("new engine version"), max_length=32)
    old_key = models.JSONField(_("old key"), null=True, blank=True)
    new_key = models.JSONField(_("new key"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("regrade record")
        verbose_name_plural = _("regrade records")
        constraints = [
            models.CheckConstraint(
                condition=Q(new_score__isnull=True) | (Q(new_score__gte=0) & Q(new_score__lte=1)),
                name="regraderecord_new_score_in_unit_range",
            ),
        ]

    def __str__(self) -> str:
        return f"regrade of answer {self.answer_id}: {self.old_score} -> {self.new_score}"

    @property
    def changed(self) -> bool:
        return self.old_score != self.new_score
