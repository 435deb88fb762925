"""Executive brief pages."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("portfolio/", views.portfolio_brief, name="portfolio-brief"),
    path("scopes/<slug:slug>/", views.scope_brief, name="scope-brief"),
]
