"""``manage.py seed_demo``: the demo course, its two users and a practice quiz. Safe to run again."""

from __future__ import annotations

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


class Command(BaseCommand):
    help = "Create the demo course (join code DEMO-TCP1), demo instructor and student, and a demo quiz."

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
        if options["verbosity"] < 1:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo course: {course.title} (join code {course.join_code})"))
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10}  username: {username:<10}  password: {password}")
