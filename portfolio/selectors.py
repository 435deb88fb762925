"""Reads over stored spend: current rows, rows of a scope, and exact per-currency summaries.

Only rows of current billing slices count: a re-exported billing period supersedes the older
slice, whose rows stay stored for history but leave every total.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate

from finops_exec.api_errors import ApplicationError
from finops_exec.exact import ExactSum
from portfolio.models import SpendRow
from scopes.models import Scope
from scopes.selectors import TagValue, scope_filter, scope_list, unallocated_filter

logger = logging.getLogger(__name__)

COST_FIELDS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")

TAG_PREFIX = "tag:"

# Bookkeeping columns and measures: not dimensions one groups spend by.
_NOT_DIMENSIONS = frozenset(
    {
        "id",
        "delivery",
        "billing_slice",
        "source_file",
        "source_row",
        "technology_category",
        "charge_month",
        "tags",
        "extras",
    }
)


def _focus_dimensions() -> tuple[str, ...]:
    """SpendRow's FOCUS text and date-time columns, by their snake_case names."""
    names = []
    for field in SpendRow._meta.concrete_fields:
        if field.name in _NOT_DIMENSIONS or isinstance(field, models.DecimalField):
            continue
        names.append(field.name)
    return tuple(names)


FOCUS_DIMENSIONS = _focus_dimensions()
DERIVED_DIMENSIONS = ("month", "day", "technology_category", "scope")
DIMENSIONS = (*DERIVED_DIMENSIONS, *sorted(FOCUS_DIMENSIONS))


def spend_rows_current() -> QuerySet[SpendRow]:
    """Rows of current billing slices: the rows every total is made of."""
    return SpendRow.objects.filter(billing_slice__is_current=True)


def spend_rows_for_scope(*, scope: Scope) -> QuerySet[SpendRow]:
    """Current rows inside the scope's boundary."""
    return spend_rows_current().filter(scope_filter(scope))


def spend_rows_unallocated() -> QuerySet[SpendRow]:
    """Current rows that no active scope claims."""
    return spend_rows_current().filter(unallocated_filter())


def spend_dimension_check(*, group_by: Sequence[str]) -> None:
    """Raise ``ApplicationError`` naming the first unknown or repeated dimension."""
    seen: set[str] = set()
    for name in group_by:
        if name in seen:
            raise ApplicationError(
                f"The dimension {name!r} is given twice; group by each dimension once.",
                code="invalid_dimension",
                fields={"group_by": [f"Repeated dimension {name!r}."]},
            )
        seen.add(name)
        if name.startswith(TAG_PREFIX) and name[len(TAG_PREFIX) :]:
            continue
        if name not in DIMENSIONS:
            allowed = ", ".join((*DIMENSIONS, "tag:KEY"))
            raise ApplicationError(
                f"Unknown dimension {name!r}; use one of {allowed}.",
                code="invalid_dimension",
                fields={"group_by": [f"Unknown dimension {name!r}."]},
            )


def _dimension_expression(name: str) -> models.Expression:
    if name == "month":
        return F("charge_month")
    if name == "day":
        return TruncDate("charge_period_start", tzinfo=dt.UTC)
    if name == "technology_category":
        return F("technology_category__name")
    if name.startswith(TAG_PREFIX):
        return TagValue(name[len(TAG_PREFIX) :])
    return F(name)


def _sums() -> dict[str, Any]:
    sums: dict[str, Any] = {field: ExactSum(field) for field in COST_FIELDS}
    sums["row_count"] = Count("id")
    return sums


def _sort_key(row: dict[str, Any], keys: Sequence[str]) -> tuple[Any, ...]:
    # NULLs sort last; values of one dimension share a type, so the pairs always compare.
    return tuple((row[key] is None, "" if row[key] is None else row[key]) for key in keys)


def _summarise_plain(rows: QuerySet[SpendRow], group_by: Sequence[str]) -> list[dict[str, Any]]:
    aliases = {f"dim_{i}": _dimension_expression(name) for i, name in enumerate(group_by)}
    grouped = (
        rows.order_by().annotate(**aliases).values(*aliases, "billing_currency").annotate(**_sums())
    )
    results = []
    for item in grouped:
        result: dict[str, Any] = {name: item[f"dim_{i}"] for i, name in enumerate(group_by)}
        result["billing_currency"] = item["billing_currency"]
        for field in COST_FIELDS:
            result[field] = item[field] if item[field] is not None else Decimal(0)
        result["row_count"] = item["row_count"]
        results.append(result)
    return results


def _summarise_by_scope(rows: QuerySet[SpendRow], group_by: Sequence[str]) -> list[dict[str, Any]]:
    others = [name for name in group_by if name != "scope"]
    scopes = list(scope_list(active_only=True))
    passes: list[tuple[str | None, Q]] = [(scope.slug, scope_filter(scope)) for scope in scopes]
    passes.append((None, unallocated_filter(scopes=scopes)))

    results = []
    for slug, condition in passes:
        for result in _summarise_plain(rows.filter(condition), others):
            result["scope"] = slug
            results.append(result)
    return results


def spend_summarise(
    *, rows: QuerySet[SpendRow], group_by: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Exact sums of the four costs and a row count per group and billing currency.

    Each dict holds the ``group_by`` dimensions under the names given (``month`` and ``day``
    as dates, ``technology_category`` as the category name, ``tag:KEY`` as the tag's value or
    None, ``scope`` as the scope slug or None), then ``billing_currency``, ``billed_cost``,
    ``effective_cost``, ``list_cost``, ``contracted_cost`` (Decimal) and ``row_count``.
    Currencies are never summed together. Sorted by the dimensions in order, then currency,
    with None last.

    Grouping by ``scope`` makes one pass per active scope plus one for the unallocated rows
    (``scope`` None). A row may belong to several scopes, so scope groups can overlap and their
    sum can exceed the total of ``rows``; the unallocated group never overlaps any scope.

    Raises ``ApplicationError`` for an unknown or repeated dimension.
    """
    spend_dimension_check(group_by=group_by)
    dimensions = [name for name in group_by if name != "billing_currency"]

    if "scope" in dimensions:
        results = _summarise_by_scope(rows, dimensions)
    else:
        results = _summarise_plain(rows, dimensions)

    results.sort(key=lambda row: _sort_key(row, [*dimensions, "billing_currency"]))
    if "billing_currency" in group_by:
        # Keep the caller's key order: the dimensions as given, then the sums.
        results = [_reorder(row, group_by) for row in results]
    return results


def _reorder(row: dict[str, Any], group_by: Sequence[str]) -> dict[str, Any]:
    ordered = {name: row[name] for name in group_by}
    ordered.update((key, value) for key, value in row.items() if key not in ordered)
    return ordered


def spend_totals(*, rows: QuerySet[SpendRow]) -> dict[str, dict[str, Decimal]]:
    """Per billing currency, the exact sums of the four costs, currencies in code order."""
    sums = {field: ExactSum(field) for field in COST_FIELDS}
    grouped = rows.order_by().values("billing_currency").annotate(**sums)
    totals = {
        item["billing_currency"]: {
            field: item[field] if item[field] is not None else Decimal(0) for field in COST_FIELDS
        }
        for item in grouped
    }
    return dict(sorted(totals.items()))
