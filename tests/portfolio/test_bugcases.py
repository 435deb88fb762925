"""Each bug case of real billing data loads to its expected, exact values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from finops_exec.exact import ExactSum
from portfolio.models import BillingSlice, Delivery, SpendRow
from portfolio.selectors import spend_rows_current, spend_rows_for_scope, spend_rows_unallocated
from portfolio.services.ingest import delivery_create, delivery_ingest, delivery_summary
from scopes.models import Dimension, Operator
from tests.conftest import BUGCASES_DIR
from tests.factories import scope_with_rules_create

pytestmark = pytest.mark.django_db


def _ingest(*names: str) -> Delivery:
    delivery = delivery_create(paths=[BUGCASES_DIR / name for name in names])
    return delivery_ingest(delivery=delivery)


def _sum(rows, field: str = "billed_cost") -> Decimal:
    return rows.aggregate(total=ExactSum(field))["total"]


def _warned_rows(delivery: Delivery, code: str) -> set[int]:
    return {row for w in delivery.warnings if w["code"] == code for row in w["rows"]}


def test_b01_a_second_byte_order_mark_leaves_no_trace_in_the_values():
    delivery = _ingest("B01-double-bom.csv")

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == 2
    assert list(
        SpendRow.objects.order_by().values_list("billing_account_id", flat=True).distinct()
    ) == ["ba-1001"]
    assert _sum(SpendRow.objects.all()) == Decimal("12.50")
    for row in SpendRow.objects.values():
        assert not any("\ufeff" in str(value) for value in row.values())


def test_b03_translated_headers_reject_the_file_listing_them():
    delivery = _ingest("B03-localized-headers.csv")

    assert delivery.status == Delivery.Status.REJECTED
    assert SpendRow.objects.count() == 0
    message = delivery.errors[0]["message"]
    assert message.startswith(
        "B03-localized-headers.csv: has 12 unrecognised headers that look like translated "
        "FOCUS column names: Abrechnungskonto-ID (BillingAccountId); "
    )
    assert "Abgerechnete Kosten (BilledCost)" in message


def test_b04_date_time_variants_become_utc_with_a_conformance_warning():
    delivery = _ingest("B04-datetime-variants.csv")

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.errors == []
    assert _sum(SpendRow.objects.all()) == Decimal("5.00")
    starts = list(
        SpendRow.objects.order_by("source_row").values_list("charge_period_start", "billed_cost")
    )
    assert starts == [
        (dt.datetime(2025, 3, day, tzinfo=dt.UTC), Decimal("1.25")) for day in (1, 2, 3, 4)
    ]
    assert _warned_rows(delivery, "nonconformant_datetime") == {1, 3, 4}
    charge_start = next(
        w for w in delivery.warnings
        if w["code"] == "nonconformant_datetime" and w["column"] == "ChargePeriodStart"
    )  # fmt: skip
    assert charge_start["rows"] == [1, 3, 4]


def test_b08_a_newer_export_of_the_month_supersedes_the_older_and_a_replay_changes_nothing():
    first = _ingest("B08-mtd-export-run1.csv")
    second = _ingest("B08-mtd-export-run2.csv")

    current = spend_rows_current()
    assert (first.status, second.status) == ("loaded", "loaded")
    assert current.count() == 3
    assert _sum(current) == Decimal("31.00")
    by_day = {row.charge_period_start.day: row.billed_cost for row in current}
    assert by_day == {1: Decimal("10.00"), 2: Decimal("12.00"), 3: Decimal("9.00")}
    old = BillingSlice.objects.get(delivery=first)
    assert (old.is_current, old.superseded_by_id) == (False, second.pk)

    replay = _ingest("B08-mtd-export-run1.csv")

    assert replay.status == Delivery.Status.LOADED
    assert replay.duplicate_of_id == first.pk
    assert replay.rows_loaded == 0
    assert [w["code"] for w in replay.warnings] == ["duplicate_delivery"]
    assert spend_rows_current().count() == 3
    assert _sum(spend_rows_current()) == Decimal("31.00")
    assert SpendRow.objects.count() == 5


def test_b10_purchases_keep_their_effective_cost_and_no_row_is_flagged():
    delivery = _ingest("B10-purchase-effectivecost.csv")

    rows = SpendRow.objects.all()
    assert delivery.rows_loaded == 4
    assert delivery.warnings == []
    assert _sum(rows) == Decimal("200.00")
    assert _sum(rows, "effective_cost") == Decimal("90.00")


@pytest.mark.parametrize("name", ["B11-tags-map.parquet", "B11-tags-string.parquet"])
def test_b11_parquet_tags_as_map_or_json_text_normalise_to_the_same_object(name):
    scope = scope_with_rules_create(
        "Payments", (Dimension.TAG, Operator.EQUALS, "payments", "team")
    )

    delivery = _ingest(name)

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == 3
    assert [row.tags for row in SpendRow.objects.all()] == [{"env": "prod", "team": "payments"}] * 3
    assert _sum(spend_rows_for_scope(scope=scope), "effective_cost") == Decimal("9.00")
    assert spend_rows_unallocated().count() == 0


def test_b12_pre_1_0_names_are_read_as_their_current_columns():
    delivery = _ingest("B12-focus-1.0-preview-names.csv")

    assert delivery.focus_version == "1.0-preview"
    rows = list(SpendRow.objects.order_by("source_row"))
    assert [row.consumed_quantity for row in rows] == [Decimal(30), Decimal(100)]
    assert [row.consumed_unit for row in rows] == ["Hours", "GB-Months"]
    assert [row.region_id for row in rows] == ["region-1", "region-1"]
    assert _sum(SpendRow.objects.all()) == Decimal("8.00")
    assert rows[0].billed_cost / rows[0].consumed_quantity == Decimal("0.20")
    assert rows[0].extras == {"ChargeSubcategory": "On-Demand"}
    renamed = {w["column"] for w in delivery.warnings if w["code"] == "renamed_column"}
    assert renamed == {"UsageQuantity", "UsageUnit", "Region"}


def test_b13_missing_conditional_columns_are_null_and_extra_columns_kept():
    delivery = _ingest("B13-missing-and-extra-columns.csv")

    rows = list(SpendRow.objects.order_by("source_row"))
    assert delivery.rows_loaded == 2
    assert _sum(SpendRow.objects.all()) == Decimal("7.50")
    assert [row.extras for row in rows] == [
        {"Id": "1", "x_CostCenterCode": "CC-100"},
        {"Id": "2", "x_CostCenterCode": "CC-200"},
    ]
    assert {(r.sub_account_id, r.region_id, r.charge_frequency, r.sku_id) for r in rows} == {
        (None, None, None, None)
    }
    assert delivery.warnings == [
        {
            "code": "custom_column_without_prefix",
            "message": "B13-missing-and-extra-columns.csv: column Id is not a FOCUS column and "
            "lacks the x_ prefix of custom columns; it is kept with the row's extras.",
            "column": "Id",
            "rows": [],
            "file": "B13-missing-and-extra-columns.csv",
        }
    ]


def test_b14_totals_are_reported_per_currency_and_never_added_together():
    delivery = _ingest("B14-mixed-billing-currency.csv")

    summary = delivery_summary(delivery=delivery)
    assert summary["rows_loaded"] == 3
    assert {cur: sums["billed_cost"] for cur, sums in summary["totals"].items()} == {
        "EUR": "150.00",
        "USD": "80.00",
    }


def test_b15_negative_refunds_and_credits_keep_their_sign():
    delivery = _ingest("B15-negative-credits-refund.csv")

    rows = SpendRow.objects.all()
    assert delivery.rows_loaded == 5
    assert delivery.rows_rejected == 0
    assert _sum(rows) == Decimal("88.00")
    by_category = {
        item["charge_category"]: item["total"]
        for item in rows.values("charge_category").annotate(total=ExactSum("billed_cost"))
    }
    assert by_category == {
        "Usage": Decimal("100.00"),
        "Purchase": Decimal("0.00"),
        "Credit": Decimal("-20.00"),
        "Tax": Decimal("8.00"),
    }
    assert rows.filter(billed_cost__lt=0).count() == 2


def test_b20_gzip_is_found_from_its_magic_bytes():
    delivery = _ingest("B20-gzip-export.csv.gz")

    assert delivery.files[0]["format"] == "csv.gz"
    assert delivery.rows_loaded == 3
    assert _sum(SpendRow.objects.all()) == Decimal("4.50")
