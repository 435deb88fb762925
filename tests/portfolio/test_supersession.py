"""Which delivery's rows count when two deliveries bring the same account and billing period."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from finops_exec.exact import ExactSum, money_str
from portfolio.focus_generator import focus_file_generate
from portfolio.models import BillingSlice, Commitment, Delivery
from portfolio.rowstore import rows_table
from portfolio.selectors import spend_current, spend_totals
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import COSTS, NULLS, csv_rows, csv_totals, csv_write
from tests.portfolio.test_ingest_parallel import rows_stored

pytestmark = pytest.mark.django_db

RUN1 = BUGCASES_DIR / "B08-mtd-export-run1.csv"
RUN2 = BUGCASES_DIR / "B08-mtd-export-run2.csv"


def _ingest(*paths: Path) -> Delivery:
    return delivery_ingest(delivery=delivery_create(paths=list(paths)))


def _billed_current() -> Decimal:
    return spend_current().aggregate(total=ExactSum("billed_cost"))["total"]


def _current_rows() -> int:
    """Rows that count in totals, from the sums and, independently, from the stored rows."""
    summed = spend_current().aggregate(n=Sum("row_count"))["n"] or 0
    assert rows_table().num_rows == summed
    return summed


def _codes(delivery: Delivery) -> list[str]:
    return [warning["code"] for warning in delivery.warnings]


def _rows_totals(rows: list[dict[str, str]]) -> dict[str, dict[str, Decimal]]:
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {name: Decimal(0) for name in COSTS}
    )
    for row in rows:
        for name, column in COSTS.items():
            if row[column] not in NULLS:
                totals[row["BillingCurrency"]][name] += Decimal(row[column])
    return dict(totals)


def test_a_fuller_month_to_date_export_supersedes_and_says_what_it_replaced(practitioner_api):
    first = _ingest(RUN1)
    second = _ingest(RUN2)

    assert _billed_current() == Decimal("31.00")
    assert _current_rows() == 3
    assert _codes(first) == []
    assert second.warnings == [
        {
            "code": "superseded_slice",
            "message": "Billing account ba-1001, billing period 2025-09-01: this delivery covers "
            "2025-09-01T00:00:00Z to 2025-09-04T00:00:00Z, with every charge day of the "
            f"2025-09-01T00:00:00Z to 2025-09-03T00:00:00Z of delivery {first.pk}, so it "
            "replaced that delivery's 2 rows (BilledCost USD 18.00).",
            "column": None,
            "rows": [],
            "billing_account_id": "ba-1001",
            "billing_period_start": "2025-09-01T00:00:00Z",
            "coverage": ["2025-09-01T00:00:00Z", "2025-09-04T00:00:00Z"],
            "earlier_delivery": first.pk,
            "earlier_coverage": ["2025-09-01T00:00:00Z", "2025-09-03T00:00:00Z"],
            "earlier_rows": 2,
            "earlier_billed_cost": {"USD": "18.00"},
            "lacking_charge_days": [],
        }
    ]
    body = practitioner_api.get(f"/api/v1/ingests/{first.pk}/").json()
    assert body["slices"] == [
        {
            "billing_account_id": "ba-1001",
            "billing_period_start": "2025-09-01T00:00:00Z",
            "coverage_start": "2025-09-01T00:00:00Z",
            "coverage_end": "2025-09-03T00:00:00Z",
            "row_count": 2,
            "is_current": False,
            "superseded_by": second.pk,
        }
    ]


def test_an_older_export_loaded_after_a_newer_one_is_stored_but_not_applied():
    newer = _ingest(RUN2)
    older = _ingest(RUN1)

    assert (newer.status, older.status) == ("loaded", "loaded")
    assert _billed_current() == Decimal("31.00")
    assert _current_rows() == 3
    assert rows_stored() == 5
    assert older.warnings == [
        {
            "code": "older_export_not_applied",
            "message": "Billing account ba-1001, billing period 2025-09-01: this delivery covers "
            "2025-09-01T00:00:00Z to 2025-09-03T00:00:00Z but lacks 2025-09-03 of the charge "
            "days of the 2025-09-01T00:00:00Z to 2025-09-04T00:00:00Z of delivery "
            f"{newer.pk}, so delivery {newer.pk} stays current and this delivery's 2 rows for "
            "it were stored but not applied. Load the files of one billing period together in "
            "one delivery.",
            "column": None,
            "rows": [],
            "billing_account_id": "ba-1001",
            "billing_period_start": "2025-09-01T00:00:00Z",
            "coverage": ["2025-09-01T00:00:00Z", "2025-09-03T00:00:00Z"],
            "earlier_delivery": newer.pk,
            "earlier_coverage": ["2025-09-01T00:00:00Z", "2025-09-04T00:00:00Z"],
            "earlier_rows": 3,
            "earlier_billed_cost": {},
            "lacking_charge_days": ["2025-09-03"],
        }
    ]
    slices = BillingSlice.objects.order_by("delivery_id")
    assert [(s.delivery_id, s.is_current, s.superseded_by_id) for s in slices] == [
        (newer.pk, True, None),
        (older.pk, False, None),
    ]

    # Loading the older export once more is a replay of it and changes nothing.
    again = _ingest(RUN1)
    assert again.duplicate_of_id == older.pk
    assert _billed_current() == Decimal("31.00")


def test_loading_the_older_export_first_then_replaying_it_after_the_newer_changes_nothing():
    older = _ingest(RUN1)
    newer = _ingest(RUN2)
    again = _ingest(RUN1)

    assert again.duplicate_of_id == older.pk
    assert _billed_current() == _file_billed(RUN2) == Decimal("31.00")
    assert BillingSlice.objects.get(is_current=True).delivery_id == newer.pk


def test_a_restatement_of_the_same_charge_days_with_changed_amounts_supersedes(tmp_path):
    rows = csv_rows(RUN2)
    first = _ingest(RUN2)
    rows[1]["BilledCost"] = "12.50"
    path = csv_write(tmp_path / "restated.csv", rows)
    restated = _ingest(path)

    assert _billed_current() == _file_billed(path) == Decimal("31.50")
    assert _codes(restated) == ["superseded_slice"]
    assert BillingSlice.objects.get(delivery=first).superseded_by_id == restated.pk
    assert BillingSlice.objects.get(delivery=restated).charge_days == [
        "2025-09-01",
        "2025-09-02",
        "2025-09-03",
    ]


def _file_billed(path: Path) -> Decimal:
    return csv_totals(path)["USD"]["billed_cost"]


def _without_sep_2(tmp_path: Path) -> Path:
    """Run 2 without its row of 2 September: the same first and last charge, one day missing."""
    rows = csv_rows(RUN2)
    assert [row["ChargePeriodStart"][:10] for row in rows] == [
        "2025-09-01",
        "2025-09-02",
        "2025-09-03",
    ]
    return csv_write(tmp_path / "run2-gap.csv", [rows[0], rows[2]])


def _with_monthly_fee(tmp_path: Path, source: Path) -> Path:
    """A copy of ``source`` with one recurring purchase charged for the whole of September."""
    rows = csv_rows(source)
    fee = dict(rows[0])
    fee.update(
        ChargePeriodStart="2025-09-01T00:00:00Z", ChargePeriodEnd="2025-10-01T00:00:00Z",
        ChargeCategory="Purchase", ChargeDescription="Support plan", ChargeFrequency="Recurring",
        BilledCost="100.00", EffectiveCost="100.00", ListCost="100.00", ContractedCost="100.00",
        ServiceCategory="Management and Governance", ServiceName="Example Support",
        ResourceId="", SkuId="sku-support", ConsumedQuantity="", ConsumedUnit="",
    )  # fmt: skip
    return csv_write(tmp_path / f"fee-{source.name}", [*rows, fee])


def test_an_export_missing_a_day_inside_the_span_does_not_replace_the_fuller_one(tmp_path):
    gap = _without_sep_2(tmp_path)

    full = _ingest(RUN2)
    partial = _ingest(gap)

    assert _file_billed(RUN2) == Decimal("31.00")
    assert _file_billed(gap) == Decimal("19.00")
    assert _billed_current() == Decimal("31.00")
    assert _current_rows() == 3
    assert partial.warnings == [
        {
            "code": "older_export_not_applied",
            "message": "Billing account ba-1001, billing period 2025-09-01: this delivery covers "
            "2025-09-01T00:00:00Z to 2025-09-04T00:00:00Z but lacks 2025-09-02 of the charge "
            "days of the 2025-09-01T00:00:00Z to 2025-09-04T00:00:00Z of delivery "
            f"{full.pk}, so delivery {full.pk} stays current and this delivery's 2 rows for it "
            "were stored but not applied. Load the files of one billing period together in one "
            "delivery.",
            "column": None,
            "rows": [],
            "billing_account_id": "ba-1001",
            "billing_period_start": "2025-09-01T00:00:00Z",
            "coverage": ["2025-09-01T00:00:00Z", "2025-09-04T00:00:00Z"],
            "earlier_delivery": full.pk,
            "earlier_coverage": ["2025-09-01T00:00:00Z", "2025-09-04T00:00:00Z"],
            "earlier_rows": 3,
            "earlier_billed_cost": {},
            "lacking_charge_days": ["2025-09-02"],
        }
    ]
    slices = BillingSlice.objects.order_by("delivery_id")
    assert [(s.delivery_id, s.is_current, s.charge_days) for s in slices] == [
        (full.pk, True, ["2025-09-01", "2025-09-02", "2025-09-03"]),
        (partial.pk, False, ["2025-09-01", "2025-09-03"]),
    ]


def test_the_fuller_export_loaded_after_one_missing_a_day_replaces_it(tmp_path):
    gap = _without_sep_2(tmp_path)

    partial = _ingest(gap)
    full = _ingest(RUN2)

    assert _billed_current() == _file_billed(RUN2) == Decimal("31.00")
    assert _codes(full) == ["superseded_slice"]
    (warning,) = full.warnings
    assert warning["earlier_delivery"] == partial.pk
    assert warning["earlier_billed_cost"] == {"USD": "19.00"}
    assert BillingSlice.objects.get(delivery=partial).superseded_by_id == full.pk


def test_a_month_long_fee_row_does_not_let_the_older_export_replace_the_newer(tmp_path):
    run1, run2 = _with_monthly_fee(tmp_path, RUN1), _with_monthly_fee(tmp_path, RUN2)

    newer = _ingest(run2)
    older = _ingest(run1)

    assert (_file_billed(run1), _file_billed(run2)) == (Decimal("118.00"), Decimal("131.00"))
    assert _billed_current() == Decimal("131.00")
    assert _current_rows() == 4
    assert _codes(newer) == []
    (warning,) = older.warnings
    assert warning["code"] == "older_export_not_applied"
    assert warning["message"] == (
        "Billing account ba-1001, billing period 2025-09-01: this delivery covers "
        "2025-09-01T00:00:00Z to 2025-10-01T00:00:00Z but lacks 2025-09-03 of the charge days "
        f"of the 2025-09-01T00:00:00Z to 2025-10-01T00:00:00Z of delivery {newer.pk}, so "
        f"delivery {newer.pk} stays current and this delivery's 3 rows for it were stored but "
        "not applied. Load the files of one billing period together in one delivery."
    )
    assert warning["lacking_charge_days"] == ["2025-09-03"]


def test_with_a_month_long_fee_row_the_newer_export_still_replaces_the_older(tmp_path):
    run1, run2 = _with_monthly_fee(tmp_path, RUN1), _with_monthly_fee(tmp_path, RUN2)

    older = _ingest(run1)
    newer = _ingest(run2)

    assert _billed_current() == Decimal("131.00")
    assert _current_rows() == 4
    assert _codes(older) == []
    (warning,) = newer.warnings
    assert (warning["code"], warning["earlier_billed_cost"]) == (
        "superseded_slice",
        {"USD": "118.00"},
    )


def test_a_warning_names_five_lacking_days_and_counts_the_rest(tmp_path):
    rows = csv_rows(RUN2)
    month = []
    for day in range(1, 10):
        row = dict(rows[0])
        row["ChargePeriodStart"] = f"2025-09-{day:02d}T00:00:00Z"
        row["ChargePeriodEnd"] = f"2025-09-{day + 1:02d}T00:00:00Z"
        month.append(row)
    full = _ingest(csv_write(tmp_path / "nine-days.csv", month))
    first_day = _ingest(csv_write(tmp_path / "first-day.csv", month[:1]))

    assert _billed_current() == Decimal("90.00")
    (warning,) = first_day.warnings
    assert warning["message"] == (
        "Billing account ba-1001, billing period 2025-09-01: this delivery covers "
        "2025-09-01T00:00:00Z to 2025-09-02T00:00:00Z but lacks 2025-09-02, 2025-09-03, "
        "2025-09-04, 2025-09-05, 2025-09-06 and 3 more of the charge days of the "
        f"2025-09-01T00:00:00Z to 2025-09-10T00:00:00Z of delivery {full.pk}, so delivery "
        f"{full.pk} stays current and this delivery's 1 rows for it were stored but not "
        "applied. Load the files of one billing period together in one delivery."
    )
    assert warning["lacking_charge_days"] == [f"2025-09-{day:02d}" for day in range(2, 10)]


def test_a_slice_stored_before_charge_days_were_recorded_gets_them_from_its_rows(tmp_path):
    full = _ingest(RUN2)
    BillingSlice.objects.filter(delivery=full).update(charge_days=None)

    partial = _ingest(_without_sep_2(tmp_path))

    assert _codes(partial) == ["older_export_not_applied"]
    assert _billed_current() == Decimal("31.00")
    assert BillingSlice.objects.get(delivery=full).charge_days == [
        "2025-09-01",
        "2025-09-02",
        "2025-09-03",
    ]


@pytest.fixture
def split_export(tmp_path):
    path = tmp_path / "export.csv"
    focus_file_generate(rows=10_000, path=path, seed=4, months=2, today=dt.date(2026, 3, 20))
    rows = csv_rows(path)
    part1 = csv_write(tmp_path / "part1.csv", rows[:5000])
    part2 = csv_write(tmp_path / "part2.csv", rows[5000:])
    return path, part1, part2, rows


def _shared(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    # The one account and period both halves of this file hold: March of account 123456789012.
    return [
        row for row in rows[:5000]
        if (row["BillingAccountId"], row["BillingPeriodStart"])
        == ("123456789012", "2026-03-01T00:00:00Z")
    ]  # fmt: skip


def test_the_two_halves_of_one_export_loaded_together_count_every_row(split_export):
    whole, part1, part2, _rows = split_export

    delivery = _ingest(part1, part2)

    assert delivery.rows_loaded == 10_000
    assert _codes(delivery) == []
    assert spend_totals(rows=spend_current()) == csv_totals(whole)


def test_the_second_half_loaded_apart_replaces_the_first_halfs_rows_of_a_shared_period_and_says_so(
    split_export,
):
    _whole, part1, part2, rows = split_export
    shared = _shared(rows)
    kept = [row for row in rows[:5000] if row not in shared]
    billed = sum(Decimal(row["BilledCost"]) for row in shared)

    first = _ingest(part1)
    second = _ingest(part2)

    assert len(shared) == 27
    assert spend_totals(rows=spend_current()) == _rows_totals(kept + rows[5000:])
    (warning,) = second.warnings
    assert warning["message"] == (
        "Billing account 123456789012, billing period 2026-03-01: this delivery covers "
        "2026-03-01T00:00:00Z to 2026-04-01T00:00:00Z, with every charge day of the "
        "2026-03-01T00:00:00Z "
        f"to 2026-03-21T00:00:00Z of delivery {first.pk}, so it replaced that delivery's 27 "
        f"rows (BilledCost USD {money_str(billed)})."
    )
    assert warning["earlier_billed_cost"] == {"USD": money_str(billed)}
    assert money_str(billed) == "0.00"  # usage covered by a commitment: billed nothing


def test_the_first_half_loaded_after_the_second_is_not_applied_where_it_is_contained(split_export):
    _whole, part1, part2, rows = split_export
    kept = [row for row in rows[:5000] if row not in _shared(rows)]

    second = _ingest(part2)
    first = _ingest(part1)

    assert _codes(second) == []
    assert _codes(first) == ["older_export_not_applied"]
    assert spend_totals(rows=spend_current()) == _rows_totals(kept + rows[5000:])
    assert BillingSlice.objects.filter(delivery=first, is_current=False).count() == 1
    assert BillingSlice.objects.filter(delivery=first, is_current=True).count() == 13


def test_contract_commitments_are_not_kept_when_the_cost_rows_of_the_delivery_are_rejected(
    tmp_path,
):
    rows = csv_rows(SAMPLES_DIR / "synthetic-gcp-focus1.3.csv")
    rows[3]["BilledCost"] = "lots"
    bad = csv_write(tmp_path / "cost.csv", rows)

    delivery = _ingest(SAMPLES_DIR / "synthetic-gcp-focus1.3-contractcommitment.csv", bad)

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.errors[0]["message"] == (
        'cost.csv data row 4, column BilledCost: "lots" is not a number.'
    )
    assert Commitment.objects.count() == 0
    assert rows_stored() == 0


def test_a_restatement_of_hundreds_of_accounts_replaces_each_and_names_what_it_replaced(
    tmp_path,
):
    # More accounts than one batch of slice updates holds, each with its own billed cost.
    template = csv_rows(RUN1)[0]
    first = [
        {**template, "BillingAccountId": f"acct-{n:04d}", "BilledCost": f"{n}.25"}
        for n in range(700)
    ]
    second = [{**row, "BilledCost": f"{n}.75"} for n, row in enumerate(first)]
    _ingest(csv_write(tmp_path / "first.csv", first))

    delivery = _ingest(csv_write(tmp_path / "second.csv", second))

    assert delivery.status == Delivery.Status.LOADED
    assert _codes(delivery) == ["superseded_slice"] * 700
    assert [w["earlier_billed_cost"] for w in delivery.warnings] == [
        {template["BillingCurrency"]: f"{n}.25"} for n in range(700)
    ]
    assert BillingSlice.objects.filter(is_current=True, delivery=delivery).count() == 700
    assert not BillingSlice.objects.filter(is_current=True).exclude(delivery=delivery).exists()
    assert (
        BillingSlice.objects.exclude(delivery=delivery).filter(superseded_by=delivery).count()
        == 700
    )
    assert _billed_current() == sum(Decimal(f"{n}.75") for n in range(700))
    assert _current_rows() == 700
