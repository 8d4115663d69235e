"""LTI 1.3 routes, under /lti/. Register these URLs with the platform (docs/lti.md)."""

from django.urls import path

from lti import views

app_name = "lti"

urlpatterns = [
    path("jwks/", views.jwks, name="jwks"),
    path("login/<uuid:registration_uuid>/", views.LoginInitView.as_view(), name="login"),
    path("launch/", views.LaunchView.as_view(), name="launch"),
    path("deep-link/<str:launch_id>/", views.deep_link_pick, name="deep_link_pick"),
]
