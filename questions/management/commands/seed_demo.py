"""``manage.py seed_demo``: the demo course, its two users, two practice quizzes and a timed exam.

Safe to run again: what exists (found by join code, username, quiz title) is left as it is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from questions import services
from questions.models import Course, Enrollment, Quiz

DEMO_JOIN_CODE = "DEMO-TCP1"
DEMO_COURSE_TITLE = "TCP connection management"
DEMO_QUIZ_TITLE = "Next state: the TCP state machine"
DEMO_USERS = (
    ("instructor", "instructor-demo-1", Enrollment.Role.INSTRUCTOR),
    ("student", "student-demo-1", Enrollment.Role.STUDENT),
)
DEMO_SLOTS = (
    ("next_state", "easy"),
    ("next_state", "easy"),
    ("next_state", "medium"),
    ("next_state", "medium"),
    ("next_state", "hard"),
)
# A practice quiz over several families, one of each way of answering.
DEMO_PRACTICE_TITLE = "Practice: opening and closing connections"
DEMO_PRACTICE_SLOTS = (
    ("next_state", "easy"),
    ("state_sequence", "easy"),
    ("seq_ack", "easy"),
    ("ladder", "easy"),
    ("trace_validity", "medium"),
    ("concepts", "medium"),
    ("which_side", "medium"),
)
# A timed exam: 15 minutes, 2 attempts, questions and choices shuffled, results after submitting.
DEMO_EXAM_TITLE = "Exam: TCP connection management"
DEMO_EXAM_SLOTS = (
    ("next_state", "medium"),
    ("segment_sent", "medium"),
    ("state_sequence", "medium"),
    ("seq_ack", "medium"),
    ("ladder", "medium"),
    ("trace_validity", "medium"),
    ("concepts", "medium"),
    ("rst", "medium"),
)


class Command(BaseCommand):
    help = "Create the demo course (join code DEMO-TCP1), its two users, two practice quizzes and an exam."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        course = Course.objects.filter(join_code=DEMO_JOIN_CODE).first()
        if course is None:
            course = services.course_create(
                title=DEMO_COURSE_TITLE,
                join_code=DEMO_JOIN_CODE,
                description="How TCP opens and closes connections: handshakes, closes, TIME_WAIT and resets.",
            )
        user_model = get_user_model()
        for username, password, role in DEMO_USERS:
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user = user_model.objects.create_user(username=username, password=password)
            elif not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            services.enrollment_set_role(user=user, course=course, role=role)
        if not Quiz.objects.filter(course=course, title=DEMO_QUIZ_TITLE).exists():
            services.quiz_create(
                course=course,
                title=DEMO_QUIZ_TITLE,
                description=(
                    "Five questions: a socket is in some state and something happens. Which state does it "
                    "move to? Each answer is graded in the background and explained."
                ),
                slots=DEMO_SLOTS,
                mode=Quiz.Mode.PRACTICE,
                review=Quiz.Review.AFTER_SUBMIT,
            )
        if not Quiz.objects.filter(course=course, title=DEMO_PRACTICE_TITLE).exists():
            services.quiz_create(
                course=course,
                title=DEMO_PRACTICE_TITLE,
                description=(
                    "Seven questions, one of each kind: choose, order, fill in numbers, complete a ladder, "
                    "find the impossible step. Each answer is explained at once; ask for another one like "
                    "it as often as you like."
                ),
                slots=DEMO_PRACTICE_SLOTS,
                mode=Quiz.Mode.PRACTICE,
                review=Quiz.Review.AFTER_SUBMIT,
            )
        if not Quiz.objects.filter(course=course, title=DEMO_EXAM_TITLE).exists():
            services.quiz_create(
                course=course,
                title=DEMO_EXAM_TITLE,
                description=(
                    "Eight questions in 15 minutes, two attempts. Answers are saved as you go and can be "
                    "changed until you submit; results and explanations are shown after you submit."
                ),
                slots=DEMO_EXAM_SLOTS,
                mode=Quiz.Mode.EXAM,
                review=Quiz.Review.AFTER_SUBMIT,
                time_limit=timedelta(minutes=15),
                max_attempts=2,
                shuffle=True,
            )
        if options["verbosity"] < 1:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo course: {course.title} (join code {course.join_code})"))
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10}  username: {username:<10}  password: {password}")
