"""Routes: pages, accounts, the API and its docs, health."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from questions import views as question_views
from tcpquiz import errors, views

urlpatterns = [
    # First: Django tries the patterns in order, and the API takes most requests.
    path("api/v1/", include("questions.api_urls")),
    path("", question_views.home, name="home"),
    path("", include("questions.urls")),
    path("learn/", include("lessons.urls")),
    path("instructor/", include("questions.urls_instructor")),
    path("lti/", include("lti.urls")),
    path("accounts/login/", question_views.RateLimitedLoginView.as_view(), name="login"),
    path("accounts/signup/", question_views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path(settings.ADMIN_URL, admin.site.urls),
    # Unknown API paths answer JSON even when DEBUG shows HTML error pages elsewhere.
    re_path(r"^api/", errors.page_not_found),
]

handler400 = "tcpquiz.errors.bad_request"
handler403 = "tcpquiz.errors.permission_denied"
handler404 = "tcpquiz.errors.page_not_found"
handler500 = "tcpquiz.errors.server_error"
