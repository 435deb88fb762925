"""Small factories for tests: spend rows with the delivery, slice and category they need."""

from __future__ import annotations

import datetime as dt
import json
from itertools import count
from typing import Any

import pyarrow as pa

from portfolio.focus.normalise import FIELD_KINDS
from portfolio.models import BillingSlice, DailySpend, Delivery, SpendBlock
from portfolio.rowstore import block_encode, decimals_typed
from portfolio.services.spend_load import daily_spend_write, daily_sums, sums_slices_assign
from scopes.models import Scope, ScopeRule, StrategicPriority, TechnologyCategory

_source_rows = count(1)


def technology_category_get_or_create(slug: str = "public-cloud", **fields: Any):
    defaults = {"name": slug.replace("-", " ").title(), **fields}
    return TechnologyCategory.objects.get_or_create(slug=slug, defaults=defaults)[0]


def _utc(value: dt.date | dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _month_bounds(start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    first = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def billing_slice_get_or_create(
    *, billing_account_id: str, period_start: dt.datetime, delivery: Delivery | None = None
) -> BillingSlice:
    """The current slice of the account and billing period, made with a delivery if missing."""
    current = BillingSlice.objects.filter(
        billing_account_id=billing_account_id, billing_period_start=period_start, is_current=True
    ).first()
    if current and (delivery is None or current.delivery_id == delivery.pk):
        return current
    first, following = _month_bounds(period_start)
    return BillingSlice.objects.create(
        delivery=delivery or Delivery.objects.create(status=Delivery.Status.LOADED),
        billing_account_id=billing_account_id,
        billing_period_start=first,
        billing_period_end=following,
    )


def spend_row_create(**overrides: Any) -> DailySpend:
    """One stored spend row, written as the ingest writes it; returns its daily sum.

    ``cost`` sets all four costs, ``category`` a category slug. ``charge_period_start`` may be
    a date, a datetime or an ISO string (UTC when naive); the billing period, charge month and
    the current billing slice follow from it. Other keywords set FOCUS fields by their stored
    names (``tags`` as a dict). The row is a block of its own with a daily sum of its own.
    """
    cost = str(overrides.pop("cost", "10.00"))
    category = overrides.pop("category", None)
    if not isinstance(category, TechnologyCategory):
        category = technology_category_get_or_create(category or "public-cloud")
    start = _utc(overrides.pop("charge_period_start", "2025-03-01T00:00:00"))
    billing_account_id = overrides.pop("billing_account_id", "ba-1001")
    first, _following = _month_bounds(start)

    billing_slice = overrides.pop("billing_slice", None)
    if billing_slice is None:
        billing_slice = billing_slice_get_or_create(
            billing_account_id=billing_account_id, period_start=first
        )
    fields: dict[str, Any] = {name: None for name in FIELD_KINDS}
    fields.update(
        billing_account_id=billing_account_id,
        billing_currency="USD",
        billing_period_start=billing_slice.billing_period_start,
        billing_period_end=billing_slice.billing_period_end,
        charge_period_start=start,
        charge_period_end=start + dt.timedelta(days=1),
        charge_category="Usage",
        billed_cost=cost, effective_cost=cost, list_cost=cost, contracted_cost=cost,
        provider_name="ExampleCloud",
        service_category="Compute",
        service_name="Example VMs",
        tags={},
    )  # fmt: skip
    fields.update(overrides)
    columns: dict[str, pa.Array] = {}
    for name, kind in FIELD_KINDS.items():
        value = fields[name]
        if name == "tags":
            columns[name] = pa.array([json.dumps(value or {})], pa.string())
        elif kind == "datetime":
            columns[name] = pa.array([value], pa.timestamp("us", tz="UTC"))
        else:
            columns[name] = pa.array([None if value is None else str(value)], pa.string())
    columns["extras"] = pa.array([json.dumps(fields.get("extras") or {})], pa.string())
    columns["charge_month"] = pa.array([start.date().replace(day=1)], pa.date32())
    columns["source_row"] = pa.array([next(_source_rows)], pa.int64())
    columns["technology_category_id"] = pa.array([category.pk], pa.int64())
    columns["source_file"] = pa.array([0], pa.int64())
    table = decimals_typed(pa.table(columns))
    slices = {(billing_account_id, billing_slice.billing_period_start): billing_slice.pk}
    index = SpendBlock.objects.filter(delivery_id=billing_slice.delivery_id).count()
    SpendBlock.objects.create(
        delivery_id=billing_slice.delivery_id, index=index, row_count=1,
        slice_ids=[billing_slice.pk], data=block_encode(table),
    )  # fmt: skip
    before = set(DailySpend.objects.values_list("pk", flat=True))
    daily_spend_write(sums=sums_slices_assign(daily_sums(table), slices))
    return DailySpend.objects.exclude(pk__in=before).get()


def priority_create(**fields: Any) -> StrategicPriority:
    name = fields.pop("name", "AI assistant launch")
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    return StrategicPriority.objects.create(name=name, slug=slug, **fields)


def scope_with_rules_create(name: str, *rules: tuple, **fields: Any) -> Scope:
    """A scope and its rules given as (dimension, operator, value) or with a tag key fourth."""
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    scope = Scope.objects.create(name=name, slug=slug, **fields)
    for dimension, operator, value, *tag_key in rules:
        ScopeRule.objects.create(
            scope=scope,
            dimension=dimension,
            operator=operator,
            value=value,
            tag_key=tag_key[0] if tag_key else "",
        )
    return scope
