"""Input and output shapes of the spend API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from finops_exec.exact import money_str
from portfolio.selectors import COST_FIELDS
from scopes.models import Scope
from scopes.selectors import scope_get


@extend_schema_field(OpenApiTypes.DATE)
class IsoDateField(serializers.Field):
    """A calendar date written as YYYY-MM-DD; the error names the value given."""

    def to_internal_value(self, data: Any) -> dt.date:
        try:
            return dt.date.fromisoformat(str(data))
        except ValueError:
            raise serializers.ValidationError(
                f"{str(data)!r} is not a date; use YYYY-MM-DD."
            ) from None

    def to_representation(self, value: dt.date) -> str:
        return value.isoformat()


class SpendQueryInputSerializer(serializers.Serializer):
    group_by = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Comma-separated dimensions: snake_case FOCUS columns, month, day, scope, "
        "technology_category, tag:KEY.",
    )
    start = IsoDateField(required=False, help_text="First charge day included (UTC).")
    end = IsoDateField(required=False, help_text="First charge day no longer included (UTC).")
    scope = serializers.CharField(required=False, help_text="Only the rows of this scope (slug).")

    def validate_group_by(self, value: str) -> list[str]:
        return [name.strip() for name in value.split(",") if name.strip()]

    def validate_scope(self, value: str) -> Scope:
        scope = scope_get(slug=value)
        if scope is None:
            raise serializers.ValidationError(
                f"No scope has the slug {value!r}; see /api/v1/scopes/ for the scopes."
            )
        return scope

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and end <= start:
            raise serializers.ValidationError(
                {"end": f"{end} is not after start {start}; give a later end (it is exclusive)."}
            )
        return attrs


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat()
        return text.removesuffix("+00:00") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return money_str(value)
    return value


class SpendGroupOutputSerializer(serializers.Serializer):
    """One group: its dimensions under the names asked for, then the currency and exact sums.

    Amounts are decimal strings with every significant digit (at least two decimals).
    """

    billing_currency = serializers.CharField()
    billed_cost = serializers.CharField()
    effective_cost = serializers.CharField()
    list_cost = serializers.CharField()
    contracted_cost = serializers.CharField()
    row_count = serializers.IntegerField()

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        body = {key: _json_value(value) for key, value in instance.items()}
        for field in COST_FIELDS:
            body[field] = money_str(instance[field])
        return body


class SpendOutputSerializer(serializers.Serializer):
    results = SpendGroupOutputSerializer(many=True)
    count = serializers.IntegerField()
