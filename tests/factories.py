"""Small factories for tests: spend rows with the delivery, slice and category they need."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

from portfolio.models import BillingSlice, Delivery, SpendRow
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


def spend_row_create(**overrides: Any) -> SpendRow:
    """A stored spend row; ``cost`` sets all four costs, ``category`` a category slug.

    ``charge_period_start`` may be a date, a datetime or an ISO string (UTC when naive); the
    billing period, charge month and the current billing slice follow from it.
    """
    cost = Decimal(str(overrides.pop("cost", "10.00")))
    category = overrides.pop("category", None)
    if not isinstance(category, TechnologyCategory):
        category = technology_category_get_or_create(category or "public-cloud")
    start = _utc(overrides.pop("charge_period_start", "2025-03-01T00:00:00"))
    billing_account_id = overrides.pop("billing_account_id", "ba-1001")
    first, following = _month_bounds(start)

    billing_slice = overrides.pop("billing_slice", None)
    if billing_slice is None:
        billing_slice = billing_slice_get_or_create(
            billing_account_id=billing_account_id, period_start=first
        )
    fields: dict[str, Any] = {
        "delivery": billing_slice.delivery,
        "billing_slice": billing_slice,
        "source_row": next(_source_rows),
        "technology_category": category,
        "charge_month": start.date().replace(day=1),
        "billing_account_id": billing_account_id,
        "billing_currency": "USD",
        "billing_period_start": first,
        "billing_period_end": following,
        "charge_period_start": start,
        "charge_period_end": start + dt.timedelta(days=1),
        "charge_category": "Usage",
        "billed_cost": cost,
        "effective_cost": cost,
        "list_cost": cost,
        "contracted_cost": cost,
        "provider_name": "ExampleCloud",
        "service_category": "Compute",
        "service_name": "Example VMs",
        "tags": {},
    }
    fields.update(overrides)
    return SpendRow.objects.create(**fields)


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
