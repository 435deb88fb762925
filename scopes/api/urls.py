from django.urls import path

from scopes.api import views

urlpatterns = [
    path("scopes/", views.ScopeListApi.as_view(), name="scope-list"),
    path("scopes/<slug:slug>/", views.ScopeDetailApi.as_view(), name="scope-detail"),
    path(
        "technology-categories/",
        views.TechnologyCategoryListApi.as_view(),
        name="technology-category-list",
    ),
    path("priorities/", views.PriorityListApi.as_view(), name="priority-list"),
]
