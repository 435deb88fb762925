"""``/api/v1/fx-rates/``: the recorded exchange rates; practitioners record new ones."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from finops_exec.api_errors import ApplicationError
from finops_exec.personas import IsPractitionerOrReadOnly
from portfolio.models import FxRate
from portfolio.services.fx import fx_rate_create


class FxRateInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    from_currency = serializers.CharField(max_length=3)
    to_currency = serializers.CharField(max_length=3)
    rate = serializers.DecimalField(max_digits=38, decimal_places=18, coerce_to_string=True)
    source = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class FxRateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    from_currency = serializers.CharField()
    to_currency = serializers.CharField()
    rate = serializers.SerializerMethodField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_rate(self, rate: FxRate) -> str:
        # Exact, without the trailing zeros of the 18-place column.
        return format(rate.rate.normalize(), "f")


class FxRateListApi(APIView):
    """Everyone signed in reads the rates (newest first); practitioners record one."""

    permission_classes = [IsPractitionerOrReadOnly]

    @extend_schema(responses=FxRateOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = LimitOffsetPagination()
        rates = FxRate.objects.order_by("-date", "from_currency", "to_currency", "id")
        page = paginator.paginate_queryset(rates, request, view=self)
        return paginator.get_paginated_response(FxRateOutputSerializer(page, many=True).data)

    @extend_schema(request=FxRateInputSerializer, responses={201: FxRateOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = FxRateInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise ApplicationError(
                "The rate is incomplete or malformed; send date, from_currency, to_currency "
                "and rate.",
                code="invalid",
                fields=serializer.errors,
            )
        rate = fx_rate_create(**serializer.validated_data, user=request.user)
        return Response(FxRateOutputSerializer(rate).data, status=status.HTTP_201_CREATED)
