"""Student pages."""

from django.urls import path

from questions import views

app_name = "questions"

urlpatterns = [
    path("courses/", views.course_list, name="course_list"),
    path("courses/join/", views.course_join, name="course_join"),
    path("quizzes/<int:quiz_id>/", views.quiz_detail, name="quiz_detail"),
    path("quizzes/<int:quiz_id>/start/", views.attempt_start, name="attempt_start"),
    path("attempts/<int:attempt_id>/", views.attempt_detail, name="attempt_detail"),
    path("attempts/<int:attempt_id>/submit/", views.attempt_submit, name="attempt_submit"),
    path(
        "attempts/<int:attempt_id>/questions/<int:position>/answer/",
        views.answer_submit,
        name="answer_submit",
    ),
    path("answers/<int:answer_id>/", views.answer_status, name="answer_status"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("practice/", views.practice, name="practice"),
    path(
        "attempts/<int:attempt_id>/questions/<int:position>/",
        views.attempt_question,
        name="attempt_question",
    ),
    path(
        "attempts/<int:attempt_id>/questions/<int:position>/draft/",
        views.draft_save,
        name="draft_save",
    ),
    path(
        "attempts/<int:attempt_id>/questions/<int:position>/another/",
        views.question_another,
        name="question_another",
    ),
    path("attempts/<int:attempt_id>/finish/", views.attempt_finish, name="attempt_finish"),
    path("diagrams/<slug:name>/<slug:lang>.svg", views.diagram_shared, name="diagram_shared"),
]
