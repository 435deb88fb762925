from django.urls import path
from django.views.generic import TemplateView

app_name = "reports"

urlpatterns = [
    path("portfolio/", TemplateView.as_view(template_name="base.html"), name="portfolio-brief"),
]
