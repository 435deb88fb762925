"""``/api/v1/ingests/``: upload FOCUS files as a delivery and follow its ingest."""

from __future__ import annotations

import logging

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from finops_exec.api_errors import ApplicationError
from finops_exec.personas import IsPractitioner
from portfolio.models import Delivery
from portfolio.services.ingest import (
    delivery_create_from_uploads,
    delivery_enqueue,
    upload_bytes_check,
)

logger = logging.getLogger(__name__)


class IngestInputSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        allow_empty=False,
        help_text="One or more FOCUS files (CSV, gzip-compressed CSV or Parquet).",
    )


class IngestAcceptedOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.URLField()


class IngestFileOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()
    format = serializers.CharField()


class IngestSliceOutputSerializer(serializers.Serializer):
    billing_account_id = serializers.CharField()
    billing_period_start = serializers.DateTimeField()
    coverage_start = serializers.DateTimeField(allow_null=True)
    coverage_end = serializers.DateTimeField(allow_null=True)
    row_count = serializers.IntegerField()
    is_current = serializers.BooleanField()
    superseded_by = serializers.IntegerField(source="superseded_by_id", allow_null=True)


class IngestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    status = serializers.CharField()
    source = serializers.CharField()
    focus_version = serializers.CharField()
    files = IngestFileOutputSerializer(many=True)
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", allow_null=True)
    rows_expected = serializers.IntegerField(allow_null=True)
    rows_done = serializers.IntegerField()
    rows_read = serializers.IntegerField()
    rows_loaded = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    totals = serializers.JSONField()
    slices = IngestSliceOutputSerializer(
        many=True,
        help_text="The account and billing period slices the delivery stored: current ones "
        "count in totals; superseded_by names the delivery that replaced one; a slice neither "
        "current nor superseded was an older or partial export that was not applied.",
    )
    warnings = serializers.JSONField()
    errors = serializers.JSONField()
    conformance = serializers.JSONField(
        help_text="FOCUS conformance report: focus_version, columns_missing, "
        "columns_unrecognised, files, and findings (code, severity, file, column, message, "
        "count, rows)."
    )
    error_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, delivery: Delivery) -> str:
        return _detail_url(self.context.get("request"), delivery)


def _detail_url(request: Request | None, delivery: Delivery) -> str:
    return reverse("ingest-detail", kwargs={"pk": delivery.pk}, request=request)


class IngestListApi(APIView):
    """Practitioners upload a delivery (202, loaded in the background) and list deliveries."""

    permission_classes = [IsPractitioner]
    parser_classes = [MultiPartParser]

    @extend_schema(responses=IngestOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = LimitOffsetPagination()
        deliveries = (
            Delivery.objects.select_related("duplicate_of")
            .prefetch_related("slices")
            .order_by("-created_at", "-id")
        )
        page = paginator.paginate_queryset(deliveries, request, view=self)
        body = IngestOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(body)

    @extend_schema(request=IngestInputSerializer, responses={202: IngestAcceptedOutputSerializer})
    def post(self, request: Request) -> Response:
        # Refuse an oversized body before it is parsed and spooled to disk.
        upload_bytes_check(size=int(request.META.get("CONTENT_LENGTH") or 0))
        serializer = IngestInputSerializer(data={"file": request.FILES.getlist("file")})
        if not serializer.is_valid():
            raise ApplicationError(
                "Send one or more FOCUS files in the multipart field 'file'.",
                code="invalid",
                fields=serializer.errors,
            )

        delivery = delivery_create_from_uploads(
            uploads=serializer.validated_data["file"], user=request.user
        )
        delivery_enqueue(delivery=delivery)
        # Without workers the ingest may already have run within this request: say how it is.
        delivery.refresh_from_db(fields=["status"])
        body = IngestAcceptedOutputSerializer(
            {"id": delivery.pk, "status": delivery.status, "url": _detail_url(request, delivery)}
        ).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class IngestDetailApi(APIView):
    """One delivery: status, progress, counts, per-currency totals, warnings and errors."""

    permission_classes = [IsPractitioner]

    @extend_schema(responses=IngestOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        delivery = Delivery.objects.filter(pk=pk).first()
        if delivery is None:
            raise ApplicationError(
                f"There is no ingest {pk}; list them at /api/v1/ingests/.",
                code="not_found",
                status_code=status.HTTP_404_NOT_FOUND,
            )
        return Response(IngestOutputSerializer(delivery, context={"request": request}).data)
