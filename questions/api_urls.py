"""/api/v1/ routes."""

from django.urls import path

from questions import api

app_name = "api"

urlpatterns = [
    path("auth/token/", api.TokenObtainApi.as_view(), name="token_obtain"),
    path("courses/", api.CourseListApi.as_view(), name="course_list"),
    path("courses/<int:course_id>/quizzes/", api.CourseQuizListApi.as_view(), name="course_quiz_list"),
    path("quizzes/<int:quiz_id>/", api.QuizDetailApi.as_view(), name="quiz_detail"),
    path("quizzes/<int:quiz_id>/attempts/", api.AttemptStartApi.as_view(), name="attempt_start"),
    path("attempts/<int:attempt_id>/", api.AttemptDetailApi.as_view(), name="attempt_detail"),
    path(
        "attempts/<int:attempt_id>/questions/", api.AttemptQuestionListApi.as_view(), name="attempt_questions"
    ),
    path("attempts/<int:attempt_id>/answers/", api.AnswerSubmitApi.as_view(), name="answer_submit"),
    path("attempts/<int:attempt_id>/submit/", api.AttemptSubmitApi.as_view(), name="attempt_submit"),
    path("answers/<int:answer_id>/", api.AnswerDetailApi.as_view(), name="answer_detail"),
]
