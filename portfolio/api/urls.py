from django.urls import path

from portfolio.api.fx import FxRateListApi
from portfolio.api.ingests import IngestDetailApi, IngestListApi
from portfolio.api.spend import SpendApi

urlpatterns: list = [
    path("spend/", SpendApi.as_view(), name="spend"),
    path("ingests/", IngestListApi.as_view(), name="ingest-list"),
    path("ingests/<int:pk>/", IngestDetailApi.as_view(), name="ingest-detail"),
    path("fx-rates/", FxRateListApi.as_view(), name="fx-rate-list"),
]
