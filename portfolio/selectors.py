"""Reads over stored spend: current daily sums, those of a scope, exact per-currency summaries.

Only current billing slices count: a re-exported billing period supersedes the older slice,
whose rows stay stored for history but leave every total. Totals are read from ``DailySpend``
(exact sums of the rows per day and by the dimensions scopes and briefs use); a summary by a
column the sums do not keep (a resource, a SKU) is computed from the stored rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import models
from django.db.models import F, Q, QuerySet, Sum

from finops_exec.api_errors import ApplicationError
from finops_exec.exact import ExactSum
from portfolio.focus.normalise import FIELD_KINDS
from portfolio.models import DailySpend
from portfolio.rowstore import COSTS, DAILY_DIMENSIONS, WIDE, row_blocks
from scopes.categorization import tag_values
from scopes.models import Scope, TechnologyCategory
from scopes.selectors import (
    TagValue,
    rules_mask,
    scope_filter,
    scope_list,
    unallocated_filter,
)

logger = logging.getLogger(__name__)

COST_FIELDS = COSTS

TAG_PREFIX = "tag:"

# Stored FOCUS columns that are neither amounts nor JSON: what spend can be grouped by.
FOCUS_DIMENSIONS = tuple(
    name for name, kind in FIELD_KINDS.items() if kind != "decimal" and name != "tags"
)
DERIVED_DIMENSIONS = ("month", "day", "technology_category", "scope")
DIMENSIONS = (*DERIVED_DIMENSIONS, *sorted(FOCUS_DIMENSIONS))
# Dimensions the daily sums keep: a summary by these alone never reads the rows.
SUMMARISED_DIMENSIONS = frozenset(
    {*DERIVED_DIMENSIONS, *DAILY_DIMENSIONS} - {"billing_slice_id", "technology_category_id"}
)


def spend_current() -> QuerySet[DailySpend]:
    """Daily sums of current billing slices: what every total is made of."""
    return DailySpend.objects.filter(billing_slice__is_current=True)


def spend_for_scope(*, scope: Scope) -> QuerySet[DailySpend]:
    """Current daily sums inside the scope's boundary."""
    return spend_current().filter(scope_filter(scope))


def spend_unallocated() -> QuerySet[DailySpend]:
    """Current daily sums that no active scope claims."""
    return spend_current().filter(unallocated_filter())


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


def spend_summarised(*, group_by: Sequence[str]) -> bool:
    """Whether a summary by ``group_by`` can be read from the daily sums alone."""
    return all(name in SUMMARISED_DIMENSIONS or name.startswith(TAG_PREFIX) for name in group_by)


def _dimension_expression(name: str) -> models.Expression:
    if name == "month":
        return F("charge_month")
    if name == "day":
        return F("charge_day")
    if name == "technology_category":
        return F("technology_category__name")
    if name.startswith(TAG_PREFIX):
        return TagValue(name[len(TAG_PREFIX) :])
    return F(name)


def _sums() -> dict[str, Any]:
    sums: dict[str, Any] = {field: ExactSum(field) for field in COST_FIELDS}
    sums["row_count"] = Sum("row_count")
    return sums


def _sort_key(row: dict[str, Any], keys: Sequence[str]) -> tuple[Any, ...]:
    # NULLs sort last; values of one dimension share a type, so the pairs always compare.
    return tuple((row[key] is None, "" if row[key] is None else row[key]) for key in keys)


def _summarise_plain(rows: QuerySet[DailySpend], group_by: Sequence[str]) -> list[dict[str, Any]]:
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


def _summarise_by_scope(
    rows: QuerySet[DailySpend], group_by: Sequence[str]
) -> list[dict[str, Any]]:
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
    *, rows: QuerySet[DailySpend], group_by: Sequence[str] = ()
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


def spend_totals(*, rows: QuerySet[DailySpend]) -> dict[str, dict[str, Decimal]]:
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


def spend_rows_summarise(
    *,
    group_by: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    scope: Scope | None = None,
) -> list[dict[str, Any]]:
    """``spend_summarise`` computed from the stored rows of current slices, for any dimension.

    ``start`` and ``end`` bound the UTC date of ChargePeriodStart (end exclusive); ``scope``
    keeps the rows inside its boundary. The result has the same shape and order as
    ``spend_summarise``. Reads the rows block by block and merges the partial sums, so memory
    stays bounded by a block however much is stored.
    """
    spend_dimension_check(group_by=group_by)
    dimensions = [name for name in group_by if name != "billing_currency"]
    scopes = list(scope_list(active_only=True)) if "scope" in dimensions else []
    others = [name for name in dimensions if name != "scope"]
    categories = dict(TechnologyCategory.objects.values_list("pk", "slug"))
    columns = _row_columns(others, scope, scopes)

    partials: list[pa.Table] = []
    for block in row_blocks(columns=columns):
        block = _rows_in(block, start=start, end=end, scope=scope, categories=categories)
        if not block.num_rows:
            continue
        if "scope" in dimensions:
            for slug, mask in _scope_masks(block, scopes, categories):
                part = _rows_grouped(block.filter(mask), others)
                partials.append(part.append_column("scope", pa.array([slug] * part.num_rows,
                                                                     pa.string())))  # fmt: skip
        else:
            partials.append(_rows_grouped(block, others))

    keys = [*(f"dim_{i}" for i in range(len(others))), "billing_currency"]
    if "scope" in dimensions:
        keys.append("scope")
    results = []
    if partials:
        merged = (
            pa.concat_tables(partials)
            .group_by(keys, use_threads=False)
            .aggregate([(name, "sum") for name in (*COST_FIELDS, "row_count")])
        )
        names = {i: name for i, name in enumerate(others)}
        labels = {pk: name for pk, name in TechnologyCategory.objects.values_list("pk", "name")}
        for item in merged.to_pylist():
            result: dict[str, Any] = {}
            for i, name in names.items():
                value = item[f"dim_{i}"]
                result[name] = labels.get(value) if name == "technology_category" else value
            if "scope" in dimensions:
                result["scope"] = item["scope"]
            result["billing_currency"] = item["billing_currency"]
            for field in COST_FIELDS:
                result[field] = item[f"{field}_sum"] if item[f"{field}_sum"] is not None else (
                    Decimal(0))  # fmt: skip
            result["row_count"] = item["row_count_sum"]
            results.append(result)

    ordered = [name for name in group_by if name != "billing_currency"]
    results = [{name: row[name] for name in (*ordered, *row) if name in row} for row in results]
    results.sort(key=lambda row: _sort_key(row, [*ordered, "billing_currency"]))
    if "billing_currency" in group_by:
        results = [_reorder(row, group_by) for row in results]
    return results


_RULE_COLUMNS = ("tags", "technology_category_id")


def _row_columns(dimensions: Sequence[str], scope: Scope | None, scopes: list[Scope]) -> list[str]:
    columns = ["billing_currency", "charge_period_start", *COST_FIELDS]
    for name in dimensions:
        if name == "month":
            columns.append("charge_month")
        elif name == "technology_category":
            columns.append("technology_category_id")
        elif name.startswith(TAG_PREFIX):
            columns.append("tags")
        elif name != "day":
            columns.append(name)
    for item in [scope, *scopes]:
        if item is not None:
            columns += [*_RULE_COLUMNS, *(rule.dimension for rule in item.rules.all())]
    known = set(FIELD_KINDS) | {"charge_month", "technology_category_id"}
    return list(dict.fromkeys(name for name in columns if name in known))


def _rows_in(
    block: pa.Table,
    *,
    start: dt.date | None,
    end: dt.date | None,
    scope: Scope | None,
    categories: dict[int, str],
) -> pa.Table:
    starts = block.column("charge_period_start")
    if start is not None:
        block = block.filter(pc.greater_equal(starts, _midnight(start)))
        starts = block.column("charge_period_start")
    if end is not None:
        block = block.filter(pc.less(starts, _midnight(end)))
    if scope is not None and block.num_rows:
        block = block.filter(_mask(block, scope.rules.all(), categories))
    return block


def _midnight(day: dt.date) -> pa.Scalar:
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return pa.scalar(moment, pa.timestamp("us", tz="UTC"))


def _mask(block: pa.Table, rules: Any, categories: dict[int, str]) -> pa.Array:
    columns = {name: block.column(name).combine_chunks() for name in block.column_names}
    return rules_mask(rules, columns=columns, category_slugs=categories)


def _scope_masks(
    block: pa.Table, scopes: list[Scope], categories: dict[int, str]
) -> list[tuple[str | None, pa.Array]]:
    masks: list[tuple[str | None, pa.Array]] = []
    claimed = pa.array([False] * block.num_rows, pa.bool_())
    for scope in scopes:
        mask = _mask(block, scope.rules.all(), categories)
        masks.append((scope.slug, mask))
        claimed = pc.or_(claimed, mask)
    masks.append((None, pc.invert(claimed)))
    return masks


def _rows_grouped(block: pa.Table, dimensions: Sequence[str]) -> pa.Table:
    keyed: dict[str, Any] = {}
    for i, name in enumerate(dimensions):
        if name == "month":
            keyed[f"dim_{i}"] = block.column("charge_month")
        elif name == "day":
            day = pc.floor_temporal(block.column("charge_period_start"), unit="day")
            keyed[f"dim_{i}"] = pc.cast(day, pa.date32())
        elif name == "technology_category":
            keyed[f"dim_{i}"] = block.column("technology_category_id")
        elif name.startswith(TAG_PREFIX):
            keyed[f"dim_{i}"] = tag_values(block.column("tags"), name[len(TAG_PREFIX) :],
                                           block.num_rows)  # fmt: skip
        else:
            keyed[f"dim_{i}"] = block.column(name)
    keyed["billing_currency"] = block.column("billing_currency")
    for field in COST_FIELDS:
        keyed[field] = pc.cast(block.column(field), WIDE)
    keyed["row_count"] = pa.array([1] * block.num_rows, pa.int64())
    table = pa.table(keyed)
    keys = [*(f"dim_{i}" for i in range(len(dimensions))), "billing_currency"]
    grouped = table.group_by(keys, use_threads=False).aggregate(
        [(name, "sum") for name in (*COST_FIELDS, "row_count")]
    )
    return grouped.rename_columns({f"{name}_sum": name for name in (*COST_FIELDS, "row_count")})
