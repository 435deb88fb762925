"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from finops_exec.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reports:portfolio-brief", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("briefs/", include("reports.urls")),
    path("ingests/", include("portfolio.urls")),
    path("api/v1/", include("scopes.api.urls")),
    path("api/v1/", include("portfolio.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]

handler404 = "finops_exec.error_views.page_not_found"
handler500 = "finops_exec.error_views.server_error"
