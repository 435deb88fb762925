"""Scopes, technology categories and priorities over REST; views only translate and delegate."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from finops_exec.personas import IsPractitionerOrReadOnly
from scopes.api.serializers import (
    PriorityOutputSerializer,
    ScopeInputSerializer,
    ScopeOutputSerializer,
    TechnologyCategoryOutputSerializer,
)
from scopes.models import Scope
from scopes.selectors import priority_list, scope_get, scope_list, technology_category_list
from scopes.services import scope_create, scope_delete, scope_update


def _paginated(request: Request, view: APIView, items: Any, serializer_class: type) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _scope_or_404(slug: str) -> Scope:
    scope = scope_get(slug=slug)
    if scope is None:
        raise Http404
    return scope


class ScopeListApi(APIView):
    permission_classes = [IsPractitionerOrReadOnly]

    @extend_schema(responses=ScopeOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _paginated(request, self, scope_list(), ScopeOutputSerializer)

    @extend_schema(request=ScopeInputSerializer, responses={201: ScopeOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ScopeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scope = scope_create(**serializer.validated_data)
        body = ScopeOutputSerializer(_scope_or_404(scope.slug)).data
        return Response(body, status=status.HTTP_201_CREATED)


class ScopeDetailApi(APIView):
    permission_classes = [IsPractitionerOrReadOnly]

    @extend_schema(responses=ScopeOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(ScopeOutputSerializer(_scope_or_404(slug)).data)

    @extend_schema(request=ScopeInputSerializer, responses=ScopeOutputSerializer)
    def put(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=False)

    @extend_schema(request=ScopeInputSerializer, responses=ScopeOutputSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str) -> Response:
        scope_delete(scope=_scope_or_404(slug))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request: Request, slug: str, *, partial: bool) -> Response:
        scope = _scope_or_404(slug)
        serializer = ScopeInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if not partial:
            # A full update states the whole scope: omitted rules mean no rules.
            fields.setdefault("rules", [])
        scope = scope_update(scope=scope, **fields)
        return Response(ScopeOutputSerializer(_scope_or_404(scope.slug)).data)


class TechnologyCategoryListApi(APIView):
    @extend_schema(responses=TechnologyCategoryOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        items = technology_category_list()
        return _paginated(request, self, items, TechnologyCategoryOutputSerializer)


class PriorityListApi(APIView):
    @extend_schema(responses=PriorityOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _paginated(request, self, priority_list(), PriorityOutputSerializer)
