from django.urls import path

from portfolio.api.spend import SpendApi

urlpatterns: list = [
    path("spend/", SpendApi.as_view(), name="spend"),
]
