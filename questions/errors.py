"""The domain's refusals: raised by selectors and services, shown by views and the API as they are."""

from __future__ import annotations

from tcpquiz.errors import ConflictError, DomainError, NotFoundError


class CourseNotFound(NotFoundError):
    code = "course_not_found"


class QuizNotFound(NotFoundError):
    code = "quiz_not_found"


class AttemptNotFound(NotFoundError):
    code = "attempt_not_found"


class AnswerNotFound(NotFoundError):
    code = "answer_not_found"


class UnknownQuestion(DomainError):
    code = "unknown_question"


class InvalidJoinCode(DomainError):
    code = "invalid_join_code"


class InvalidResponse(DomainError):
    """The answer does not fit the question (no such choice, wrong shape)."""

    code = "invalid_response"


class QuizNotOpen(ConflictError):
    code = "quiz_not_open"


class NoAttemptsLeft(ConflictError):
    code = "no_attempts_left"


class AttemptClosed(ConflictError):
    code = "attempt_closed"


class AlreadyAnswered(ConflictError):
    code = "already_answered"


class IdempotencyKeyReused(ConflictError):
    code = "idempotency_key_reused"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


# --- Instructors ----------------------------------------------------------------------------------


class NotAnInstructor(DomainError):
    """The page or endpoint is for instructors (of at least one course) only."""

    code = "not_an_instructor"
    status = 403


class QuizSlotNotFound(NotFoundError):
    code = "quiz_slot_not_found"


class QuestionBankNotFound(NotFoundError):
    code = "question_bank_not_found"


class UnknownFamily(NotFoundError):
    code = "unknown_family"


# --- Students: exam and practice modes -------------------------------------------------------------


class DeadlinePassed(AttemptClosed):
    """The attempt's time is up: the answer arrived after its deadline."""

    code = "deadline_passed"


class NotInPractice(ConflictError):
    """Only a practice quiz draws another variant on request."""

    code = "not_in_practice"


class ReviewNotAllowed(ConflictError):
    """The quiz's review policy hides results of this attempt (now, or for good)."""

    code = "review_not_allowed"


class NoMatchingQuestion(NotFoundError):
    """No question family exercises the requested skills."""

    code = "no_matching_question"
