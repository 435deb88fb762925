"""``/api/v1/spend/``: aggregated spend as JSON, or as CSV and XLSX for finance."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from finops_exec.api_errors import ApplicationError
from portfolio.api.spend_export import SpendCSVRenderer, SpendXLSXRenderer
from portfolio.api.spend_serializers import (
    SpendGroupOutputSerializer,
    SpendOutputSerializer,
    SpendQueryInputSerializer,
)
from portfolio.models import DailySpend
from portfolio.selectors import (
    COST_FIELDS,
    spend_current,
    spend_rows_summarise,
    spend_summarise,
    spend_summarised,
)
from scopes.selectors import scope_filter

logger = logging.getLogger(__name__)

# Scopes are views of spend chosen by executives, so one row may belong to several of them.
SCOPE_OVERLAP_NOTE = (
    "Scope groups can overlap: a row that several scopes claim is counted in each of them, so "
    "scope groups must not be added together. The rows with a null scope are the spend that no "
    "scope claims."
)


def _sums_filtered(query: dict[str, Any]) -> QuerySet[DailySpend]:
    sums = spend_current()
    if query.get("start"):
        sums = sums.filter(charge_day__gte=query["start"])
    if query.get("end"):
        sums = sums.filter(charge_day__lt=query["end"])
    if query.get("scope"):
        sums = sums.filter(scope_filter(query["scope"]))
    return sums


class SpendApi(APIView):
    """Spend summed per group and billing currency; currencies are never added together."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, SpendCSVRenderer, SpendXLSXRenderer]

    @extend_schema(
        parameters=[
            SpendQueryInputSerializer,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"]),
        ],
        responses=SpendOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        serializer = SpendQueryInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        group_by = query["group_by"]

        if spend_summarised(group_by=group_by):
            groups = spend_summarise(rows=_sums_filtered(query), group_by=group_by)
        else:
            # A column the daily sums do not keep (a resource, a SKU): read from the rows.
            groups = spend_rows_summarise(
                group_by=group_by, start=query.get("start"), end=query.get("end"),
                scope=query.get("scope"),
            )  # fmt: skip

        export = request.accepted_renderer.format
        if export in ("csv", "xlsx"):
            return self._export(groups, group_by, export)
        results = SpendGroupOutputSerializer(groups, many=True).data
        body: dict[str, Any] = {"results": results, "count": len(results)}
        if "scope" in group_by:
            body["notes"] = [SCOPE_OVERLAP_NOTE]
        return Response(body)

    def _export(self, groups: list[dict[str, Any]], group_by: list[str], export: str) -> Response:
        columns = [*group_by, "billing_currency", *COST_FIELDS, "row_count"]
        columns = list(dict.fromkeys(columns))
        headers = {"Content-Disposition": f'attachment; filename="spend.{export}"'}
        return Response({"columns": columns, "rows": groups}, headers=headers)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except (exceptions.NotFound, Http404):
            asked = request.query_params.get("format", "")
            raise ApplicationError(
                f"Unknown format {asked!r}; use json, csv or xlsx.",
                code="invalid_format",
                fields={"format": [f"Unknown format {asked!r}."]},
            ) from None

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are always the JSON envelope, whatever export format was asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
