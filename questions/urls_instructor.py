"""Instructor pages, under /instructor/."""

from django.urls import path

from questions import views_instructor as views

app_name = "instructor"

urlpatterns = [
    path("", views.home, name="home"),
    path("families/", views.family_list, name="family_list"),
    path("families/<str:name>/preview/", views.family_preview, name="family_preview"),
    path("courses/<int:course_id>/", views.course_detail, name="course_detail"),
    path("courses/<int:course_id>/roster/", views.course_roster, name="course_roster"),
    path(
        "courses/<int:course_id>/join-code/",
        views.course_join_code_regenerate,
        name="course_join_code_regenerate",
    ),
    path("courses/<int:course_id>/quizzes/new/", views.quiz_create, name="quiz_create"),
    path("quizzes/<int:quiz_id>/", views.quiz_edit, name="quiz_edit"),
    path("quizzes/<int:quiz_id>/slots/", views.quiz_slot_add, name="quiz_slot_add"),
    path("quizzes/<int:quiz_id>/slots/<int:slot_id>/", views.quiz_slot_update, name="quiz_slot_update"),
    path("quizzes/<int:quiz_id>/slots/<int:slot_id>/move/", views.quiz_slot_move, name="quiz_slot_move"),
    path(
        "quizzes/<int:quiz_id>/slots/<int:slot_id>/remove/", views.quiz_slot_remove, name="quiz_slot_remove"
    ),
    path("quizzes/<int:quiz_id>/bank-slots/", views.quiz_slot_add_from_bank, name="quiz_slot_add_from_bank"),
    path("courses/<int:course_id>/banks/", views.question_bank_create, name="question_bank_create"),
    path("banks/<int:bank_id>/", views.question_bank, name="question_bank"),
    path("banks/<int:bank_id>/items/", views.bank_item_add, name="bank_item_add"),
    path("banks/<int:bank_id>/items/<int:item_id>/remove/", views.bank_item_remove, name="bank_item_remove"),
    path("quizzes/<int:quiz_id>/results/", views.quiz_results, name="quiz_results"),
    path("quizzes/<int:quiz_id>/results.csv", views.quiz_results_csv, name="quiz_results_csv"),
]
