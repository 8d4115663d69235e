"""Lesson pages, mounted under /learn/ by tcpquiz/urls.py."""

from django.urls import path

from lessons import views

app_name = "lessons"

urlpatterns = [
    path("", views.lesson_index, name="index"),
    path("glossary/", views.glossary, name="glossary"),
    path("search/", views.search, name="search"),
    path("<slug:slug>/", views.lesson_detail, name="detail"),
    path("<slug:slug>/done/", views.lesson_done, name="done"),
]
