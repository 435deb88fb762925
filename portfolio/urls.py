"""Ingest pages."""

from django.urls import path

from portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.ingest_list, name="ingest-list"),
    path("<int:pk>/", views.ingest_detail, name="ingest-detail"),
]
