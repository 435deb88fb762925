"""Stored rows (Parquet blocks) and the summaries read from them rather than from the daily sums.

Expected values are computed here, independently, with ``Decimal`` over the rows the tests
write; the product's answers must equal them to the last digit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from finops_exec.exact import ExactSum, money_str
from portfolio.models import BillingSlice, DailySpend, SpendBlock
from portfolio.rowstore import rows_list, rows_table
from portfolio.selectors import (
    spend_current,
    spend_for_scope,
    spend_rows_summarise,
    spend_summarise,
    spend_summarised,
    spend_totals,
)
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import BUGCASES_DIR
from tests.factories import scope_with_rules_create, spend_row_create
from tests.portfolio.focus_files import COSTS, csv_rows, csv_write

URL = "/api/v1/spend/"
COST_NAMES = tuple(COSTS)

# The rows of the current slices, as written: amounts as text, None where the cost is null.
SOURCE: list[dict[str, Any]] = [
    {"resource_id": "vm-1", "sku_id": "sku-a", "charge_period_start": "2025-03-01T05:00:00",
     "billed_cost": "10.000000000000000001", "effective_cost": "9.5", "list_cost": "11",
     "contracted_cost": "10", "provider_name": "AWS", "tags": {"team": "a"}},
    {"resource_id": "vm-1", "sku_id": "sku-a", "charge_period_start": "2025-03-02T23:59:59",
     "billed_cost": "2.5", "effective_cost": "2.25", "list_cost": "3", "contracted_cost": None,
     "provider_name": "AWS", "tags": {}},
    {"resource_id": "vm-2", "sku_id": "sku-b", "charge_period_start": "2025-03-15T00:00:00",
     "billed_cost": "0.1", "effective_cost": "0.1", "list_cost": "0.1", "contracted_cost": "0.1",
     "provider_name": "Azure", "tags": {"team": "a"}},
    {"resource_id": None, "sku_id": "sku-b", "charge_period_start": "2025-03-31T23:00:00",
     "billed_cost": "-1.00", "effective_cost": "-1.00", "list_cost": None,
     "contracted_cost": None, "provider_name": "Azure", "tags": {}},
    {"resource_id": "vm-2", "sku_id": None, "charge_period_start": "2025-04-01T00:00:00",
     "billed_cost": "150.00", "effective_cost": "140.00", "list_cost": "160.00",
     "contracted_cost": "150.00", "provider_name": "AWS", "tags": {}, "billing_currency": "EUR"},
    {"resource_id": "db-1", "sku_id": "sku-c", "charge_period_start": "2025-04-01T12:00:00",
     "billed_cost": "0.000000000000000001", "effective_cost": "0.2", "list_cost": "0.3",
     "contracted_cost": "0.4", "provider_name": "GCP", "tags": {"team": "b"}},
    {"resource_id": "vm-1", "sku_id": "sku-a", "charge_period_start": "2025-04-02T00:00:00",
     "billed_cost": "7.00", "effective_cost": "7.00", "list_cost": "7.00",
     "contracted_cost": "7.00", "provider_name": "AWS", "tags": {"team": "a"}},
    {"resource_id": "vm-1", "sku_id": "sku-a", "charge_period_start": "2025-02-28T23:59:59",
     "billed_cost": "5.00", "effective_cost": "5.00", "list_cost": "5.00",
     "contracted_cost": "5.00", "provider_name": "AWS", "tags": {"team": "a"}},
]  # fmt: skip

# Stored, but in a billing slice a later export superseded: never counted.
SUPERSEDED: dict[str, Any] = {
    "resource_id": "vm-1", "sku_id": "sku-a", "charge_period_start": "2025-03-03T00:00:00",
    "billed_cost": "1000.00", "effective_cost": "1000.00", "list_cost": "1000.00",
    "contracted_cost": "1000.00", "provider_name": "AWS", "tags": {"team": "a"},
    "billing_account_id": "ba-old",
}  # fmt: skip

# The scopes' rules, read independently of the product: AWS; team a; an inactive one ignored.
SCOPES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "aws": lambda row: row["provider_name"] == "AWS",
    "team-a": lambda row: row["tags"].get("team") == "a",
}


def _stored(row: dict[str, Any]) -> None:
    spend_row_create(**{"billing_currency": "USD", **row})


@pytest.fixture
def spend(db) -> None:
    old = spend_row_create(**SUPERSEDED)
    old.billing_slice.is_current = False
    old.billing_slice.save()
    for row in SOURCE:
        _stored(row)
    scope_with_rules_create("AWS", ("provider_name", "equals", "AWS"))
    scope_with_rules_create("Team A", ("tag", "equals", "a", "team"))
    scope_with_rules_create("Azure", ("provider_name", "equals", "Azure"), is_active=False)


def _day(row: dict[str, Any]) -> dt.date:
    return dt.datetime.fromisoformat(row["charge_period_start"]).date()


def _expected(
    group_by: Sequence[str],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    scope: str | None = None,
) -> list[dict[str, Any]]:
    """The groups, summed with Decimal over SOURCE, in the documented order (None last)."""
    groups: dict[tuple, dict[str, Any]] = {}
    for row in SOURCE:
        if start is not None and _day(row) < start:
            continue
        if end is not None and _day(row) >= end:
            continue
        if scope is not None and not SCOPES[scope](row):
            continue
        if "scope" in group_by:
            slugs: list[str | None] = [slug for slug, inside in SCOPES.items() if inside(row)]
            slugs = slugs or [None]
        else:
            slugs = [None]
        for slug in slugs:
            values = {
                name: slug if name == "scope" else row.get(name)
                for name in group_by
                if name != "billing_currency"
            }
            currency = row.get("billing_currency", "USD")
            key = (*values.values(), currency)
            group = groups.setdefault(
                key,
                {**values, "billing_currency": currency,
                 **{name: Decimal(0) for name in COST_NAMES}, "row_count": 0},
            )  # fmt: skip
            for name in COST_NAMES:
                if row[name] is not None:
                    group[name] += Decimal(row[name])
            group["row_count"] += 1
    ordered = [name for name in group_by if name != "billing_currency"] + ["billing_currency"]
    return sorted(
        groups.values(),
        key=lambda group: tuple(
            (group[name] is None, "" if group[name] is None else group[name]) for name in ordered
        ),
    )


def _scope(slug: str):
    from scopes.models import Scope

    return Scope.objects.get(slug=slug)


def test_resource_and_sku_are_not_kept_by_the_sums_so_rows_are_read():
    assert not spend_summarised(group_by=["resource_id"])
    assert not spend_summarised(group_by=["sku_id", "month"])
    assert spend_summarised(group_by=["month", "scope", "tag:team", "provider_name"])


def test_rows_by_resource_equal_the_decimal_sums_of_the_current_rows(spend):
    assert spend_rows_summarise(group_by=["resource_id"]) == _expected(["resource_id"])


def test_start_is_inclusive_and_end_exclusive_on_the_charge_day(spend):
    start, end = dt.date(2025, 3, 1), dt.date(2025, 4, 2)

    groups = spend_rows_summarise(group_by=["resource_id"], start=start, end=end)

    assert groups == _expected(["resource_id"], start=start, end=end)
    assert sum(group["row_count"] for group in groups) == 6


def test_a_scope_keeps_only_its_rows(spend):
    groups = spend_rows_summarise(group_by=["sku_id"], scope=_scope("team-a"))

    assert groups == _expected(["sku_id"], scope="team-a")


def test_filters_combine(spend):
    start, end = dt.date(2025, 3, 2), dt.date(2025, 4, 3)

    groups = spend_rows_summarise(
        group_by=["sku_id", "resource_id"], start=start, end=end, scope=_scope("aws")
    )

    assert groups == _expected(["sku_id", "resource_id"], start=start, end=end, scope="aws")


def test_grouping_by_scope_overlaps_and_keeps_an_unallocated_group(spend):
    groups = spend_rows_summarise(group_by=["scope", "resource_id"])
    expected = _expected(["scope", "resource_id"])

    assert groups == expected
    # The AWS row of team a counts in both scopes; the unallocated group never overlaps them.
    assert {g["scope"] for g in groups} == {"aws", "team-a", None}
    unallocated = [g for g in groups if g["scope"] is None]
    assert [(g["resource_id"], g["billed_cost"]) for g in unallocated] == [
        ("db-1", Decimal("0.000000000000000001")),
        (None, Decimal("-1.00")),
    ]


def test_currency_as_a_dimension_keeps_the_order_asked_for(spend):
    groups = spend_rows_summarise(group_by=["billing_currency", "resource_id"])

    assert [list(group)[:2] for group in groups] == [["billing_currency", "resource_id"]] * len(
        groups
    )
    by_resource = sorted(
        groups,
        key=lambda g: (g["resource_id"] is None, g["resource_id"] or "", g["billing_currency"]),
    )
    assert by_resource == _expected(["resource_id"])


@pytest.mark.parametrize(
    "group_by", [["month"], ["day", "provider_name"], ["month", "scope"], ["scope", "tag:team"]]
)
def test_rows_and_sums_agree_where_both_can_answer(spend, group_by):
    assert spend_rows_summarise(group_by=group_by) == spend_summarise(
        rows=spend_current(), group_by=group_by
    )


def test_rows_and_sums_agree_with_filters(spend):
    start, end = dt.date(2025, 3, 2), dt.date(2025, 4, 2)
    scope = _scope("aws")
    sums = spend_for_scope(scope=scope).filter(charge_day__gte=start, charge_day__lt=end)

    assert spend_rows_summarise(group_by=["day"], start=start, end=end, scope=scope) == (
        spend_summarise(rows=sums, group_by=["day"])
    )


def _json_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {key: money_str(value) if key in COST_NAMES else value for key, value in group.items()}
        for group in groups
    ]


def test_the_api_by_resource_answers_the_same_groups(spend, executive_api):
    response = executive_api.get(URL, {"group_by": "resource_id"})

    assert response.status_code == 200
    expected = _json_groups(_expected(["resource_id"]))
    assert response.json() == {"results": expected, "count": len(expected)}


def test_the_api_by_resource_with_filters_answers_the_same_groups(spend, executive_api):
    query = {"group_by": "resource_id", "start": "2025-03-01", "end": "2025-04-02", "scope": "aws"}

    response = executive_api.get(URL, query)

    assert response.status_code == 200
    expected = _json_groups(
        _expected(["resource_id"], start=dt.date(2025, 3, 1), end=dt.date(2025, 4, 2), scope="aws")
    )
    assert response.json() == {"results": expected, "count": len(expected)}


def test_the_api_by_scope_and_sku_notes_the_overlap(spend, executive_api):
    response = executive_api.get(URL, {"group_by": "scope,sku_id"})

    assert response.status_code == 200
    body = response.json()
    expected = _json_groups(_expected(["scope", "sku_id"]))
    assert body["results"] == expected and body["count"] == len(expected)
    assert body["notes"][0].startswith("Scope groups can overlap")


# --- superseded slices ---------------------------------------------------------------------

RUN2 = BUGCASES_DIR / "B08-mtd-export-run2.csv"


def _ingest(path: Path):
    return delivery_ingest(delivery=delivery_create(paths=[path]))


@pytest.mark.django_db
def test_rows_of_a_superseded_slice_are_stored_but_not_current(tmp_path):
    source = csv_rows(RUN2)
    second_account = [{**row, "BillingAccountId": "ba-2002", "ResourceId": "res-other"}
                      for row in source]  # fmt: skip
    # One file, one block, two billing slices: only the first one is re-exported later.
    first = _ingest(csv_write(tmp_path / "both.csv", [*source, *second_account]))
    restated = [{**row, "BilledCost": "20.00", "ResourceId": "res-new"} for row in source]
    second = _ingest(csv_write(tmp_path / "restated.csv", restated))

    old = BillingSlice.objects.get(delivery=first, billing_account_id="ba-1001")
    assert not old.is_current and old.superseded_by_id == second.pk
    assert SpendBlock.objects.get(delivery=first).slice_ids == sorted(
        BillingSlice.objects.filter(delivery=first).values_list("pk", flat=True)
    )

    current = rows_list()
    every = rows_list(every=True)

    assert sorted((r["billing_account_id"], r["resource_id"]) for r in current) == sorted(
        [("ba-2002", "res-other")] * 3 + [("ba-1001", "res-new")] * 3
    )
    assert old.pk not in {row["billing_slice_id"] for row in current}
    assert [row["billing_slice_id"] for row in every].count(old.pk) == 3
    assert len(every) == 9
    superseded = [row["billed_cost"] for row in every if row["billing_slice_id"] == old.pk]
    assert sum(superseded, Decimal(0)) == sum(
        (Decimal(row["BilledCost"]) for row in source), Decimal(0)
    )
    assert sum((row["billed_cost"] for row in current), Decimal(0)) == Decimal("91.00")
    # What the rows say is what the sums say.
    assert spend_totals(rows=spend_current())["USD"]["billed_cost"] == Decimal("91.00")
    assert rows_table().num_rows == spend_current().aggregate(n=Sum("row_count"))["n"]
    assert spend_rows_summarise(group_by=["resource_id"]) == [
        {"resource_id": "res-new", "billing_currency": "USD",
         **{name: Decimal("60.00") if name == "billed_cost" else Decimal("31.00")
            for name in COST_NAMES}, "row_count": 3},
        {"resource_id": "res-other", "billing_currency": "USD",
         **{name: Decimal("31.00") for name in COST_NAMES}, "row_count": 3},
    ]  # fmt: skip


def test_the_factory_superseded_row_is_kept_out_of_current_rows(spend):
    current = rows_list(columns=["billing_account_id", "billed_cost"])
    every = rows_list(every=True, columns=["billing_account_id", "billed_cost"])

    assert "ba-old" not in {row["billing_account_id"] for row in current}
    assert [row["billed_cost"] for row in every if row["billing_account_id"] == "ba-old"] == [
        Decimal("1000.00")
    ]
    assert len(current) == len(SOURCE) and len(every) == len(SOURCE) + 1


# --- the data migration from one database row per FOCUS row --------------------------------

BEFORE = [("portfolio", "0006_billingslice_charge_days")]


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _old_rows() -> list[dict[str, Any]]:
    """Rows as the old SpendRow table held them, in (delivery, file, row) order."""
    base = {
        "billing_account_id": "ba-1", "billing_currency": "USD", "charge_category": "Usage",
        "billing_period_start": _utc("2025-03-01T00:00:00"),
        "billing_period_end": _utc("2025-04-01T00:00:00"),
        "provider_name": "ExampleCloud", "service_name": "VMs", "service_category": "Compute",
    }  # fmt: skip
    return [
        {**base, "source_file": 0, "source_row": 1, "resource_id": "vm-1",
         "charge_period_start": _utc("2025-03-01T00:00:00"),
         "charge_period_end": _utc("2025-03-02T00:00:00"),
         "billed_cost": Decimal("10.000000000000000001"), "effective_cost": Decimal("9.5"),
         "list_cost": Decimal("11"), "contracted_cost": None, "tags": {"team": "a", "env": "p"},
         "extras": {"x_Note": "kept"}, "pricing_quantity": Decimal("1.5")},
        {**base, "source_file": 0, "source_row": 2, "resource_id": "vm-1",
         "charge_period_start": _utc("2025-03-01T12:00:00"),
         "charge_period_end": _utc("2025-03-01T13:00:00"),
         "billed_cost": Decimal("-2.25"), "effective_cost": Decimal("-2.25"),
         "list_cost": Decimal("0"), "contracted_cost": Decimal("0.000000000000000001"),
         "tags": {"team": "a", "env": "p"}, "extras": {}},
        {**base, "source_file": 1, "source_row": 1, "resource_id": "vm-2",
         "charge_period_start": _utc("2025-03-02T00:00:00"),
         "charge_period_end": _utc("2025-03-03T00:00:00"),
         "billed_cost": Decimal("0.1"), "effective_cost": Decimal("0.2"),
         "list_cost": Decimal("0.3"), "contracted_cost": Decimal("0.4"), "tags": {},
         "extras": {}, "billing_currency": "EUR"},
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_old_rows_into_blocks_and_daily_sums():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Delivery = old.get_model("portfolio", "Delivery")
        OldSlice = old.get_model("portfolio", "BillingSlice")
        SpendRow = old.get_model("portfolio", "SpendRow")
        Category = old.get_model("scopes", "TechnologyCategory")
        category = Category.objects.create(name="Public Cloud", slug="public-cloud")
        delivery = Delivery.objects.create(content_sha256="0" * 64, focus_version="1.2")
        later = Delivery.objects.create(content_sha256="1" * 64, focus_version="1.2")
        march = OldSlice.objects.create(
            delivery=delivery, billing_account_id="ba-1",
            billing_period_start=_utc("2025-03-01T00:00:00"),
            billing_period_end=_utc("2025-04-01T00:00:00"), is_current=True,
        )  # fmt: skip
        # A later delivery's slice that was superseded: its rows are kept but never counted.
        replaced = OldSlice.objects.create(
            delivery=later, billing_account_id="ba-9",
            billing_period_start=_utc("2025-03-01T00:00:00"),
            billing_period_end=_utc("2025-04-01T00:00:00"), is_current=False,
        )  # fmt: skip
        written = _old_rows()
        for row in written:
            SpendRow.objects.create(
                delivery=delivery, billing_slice=march, technology_category=category,
                charge_month=row["charge_period_start"].date().replace(day=1), **row,
            )  # fmt: skip
        stale = {**written[0], "billing_account_id": "ba-9", "billed_cost": Decimal("999")}
        SpendRow.objects.create(
            delivery=later, billing_slice=replaced, technology_category=category,
            charge_month=dt.date(2025, 3, 1), **stale,
        )  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)

    stored = rows_list(delivery_id=delivery.pk)
    assert [(r["source_file"], r["source_row"]) for r in stored] == [(0, 1), (0, 2), (1, 1)]
    for row, source in zip(stored, written, strict=True):
        assert row["billing_slice_id"] == march.pk
        assert row["technology_category_id"] == category.pk
        assert row["charge_month"] == dt.date(2025, 3, 1)
        for name, value in source.items():
            assert row[name] == value, name
    assert stored[0]["pricing_quantity"] == Decimal("1.5")
    assert stored[0]["extras"] == {"x_Note": "kept"}
    assert SpendBlock.objects.get(delivery_id=delivery.pk).slice_ids == [march.pk]
    assert SpendBlock.objects.aggregate(n=Sum("row_count"))["n"] == 4

    # Current rows: the three of the current slice; every row: the stale one too.
    assert len(rows_list()) == 3 and len(rows_list(every=True)) == 4
    expected: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {name: Decimal(0) for name in COST_NAMES}
    )
    for row in written:
        for name in COST_NAMES:
            if row[name] is not None:
                expected[row["billing_currency"]][name] += row[name]
    assert spend_totals(rows=spend_current()) == dict(sorted(expected.items()))
    assert spend_current().aggregate(n=Sum("row_count"))["n"] == 3
    # All sums, the superseded slice's included: the stale row's 999 USD was summed too.
    everything = DailySpend.objects.filter(billing_currency="USD").aggregate(
        total=ExactSum("billed_cost"), n=Sum("row_count")
    )
    assert everything == {"total": expected["USD"]["billed_cost"] + Decimal("999"), "n": 3}

    days = {
        (d.charge_day, d.billing_currency): (d.row_count, d.billed_cost, d.tags)
        for d in spend_current()
    }
    assert days == {
        (dt.date(2025, 3, 1), "USD"): (
            2,
            Decimal("7.750000000000000001"),
            {"team": "a", "env": "p"},
        ),
        (dt.date(2025, 3, 2), "EUR"): (1, Decimal("0.1"), {}),
    }
    day = spend_current().get(charge_day=dt.date(2025, 3, 1))
    assert day.charge_period_start == _utc("2025-03-01T00:00:00")
    assert day.charge_period_end == _utc("2025-03-02T00:00:00")
    assert day.contracted_cost == Decimal("0.000000000000000001")
    assert not day.whole_month
    assert json.loads(json.dumps(day.tags)) == {"env": "p", "team": "a"}
