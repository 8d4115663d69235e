"""/api/v1/ routes."""

from django.urls import path

from questions import api, api_instructor

app_name = "api"

urlpatterns = [
    path("auth/token/", api.TokenObtainApi.as_view(), name="token_obtain"),
    path("ping/", api.PingApi.as_view(), name="ping"),
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
    path(
        "attempts/<int:attempt_id>/questions/<int:position>/draft/",
        api.DraftApi.as_view(),
        name="draft",
    ),
    path("attempts/<int:attempt_id>/review/", api.AttemptReviewApi.as_view(), name="attempt_review"),
    path("families/", api_instructor.FamilyListApi.as_view(), name="family_list"),
    path("families/<str:name>/preview/", api_instructor.FamilyPreviewApi.as_view(), name="family_preview"),
]
