"""The ingest service: deliveries recorded, loaded all or nothing, replays and bad rows."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from finops_exec.exact import ExactSum
from portfolio.models import BillingSlice, DailySpend, Delivery, SpendBlock
from portfolio.rowstore import rows_list
from portfolio.services.ingest import delivery_create, delivery_ingest, delivery_summary
from portfolio.services.spend_load import billing_slices_measure
from scopes.models import TechnologyCategory
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import csv_totals

pytestmark = pytest.mark.django_db

GCP = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"
SMALL = BUGCASES_DIR / "B15-negative-credits-refund.csv"


def _ingest(*paths: Path) -> Delivery:
    return delivery_ingest(delivery=delivery_create(paths=list(paths)))


def _stored_rows() -> int:
    """Every stored row, current, superseded or staged."""
    return SpendBlock.objects.aggregate(n=Sum("row_count"))["n"] or 0


def _row(source_row: int) -> dict:
    (row,) = [row for row in rows_list(every=True) if row["source_row"] == source_row]
    return row


def _copy_with(tmp_path: Path, source: Path, name: str, row: int, column: str, value: str) -> Path:
    """A copy of ``source`` whose data row ``row`` (1-based) has ``value`` in ``column``."""
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_delivery_records_each_files_name_size_hash_and_format():
    delivery = delivery_create(paths=[SMALL, BUGCASES_DIR / "B20-gzip-export.csv.gz"])

    hashes = [
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (SMALL, BUGCASES_DIR / "B20-gzip-export.csv.gz")
    ]
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.source == Delivery.Source.COMMAND
    assert [(f["name"], f["size"], f["sha256"], f["format"]) for f in delivery.files] == [
        ("B15-negative-credits-refund.csv", SMALL.stat().st_size, hashes[0], "csv"),
        ("B20-gzip-export.csv.gz", 425, hashes[1], "csv.gz"),
    ]
    combined = hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
    assert delivery.content_sha256 == combined


def test_a_loaded_delivery_stores_rows_slices_rollups_and_totals():
    delivery = _ingest(GCP)

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == delivery.rows_read == delivery.rows_done == 25
    assert delivery.rows_expected == 25
    assert delivery.started_at and delivery.finished_at
    expected = {
        cur: {name: Decimal(v) for name, v in sums.items()} for cur, sums in csv_totals(GCP).items()
    }
    assert {
        cur: {name: Decimal(v) for name, v in sums.items()} for cur, sums in delivery.totals.items()
    } == expected
    slices = BillingSlice.objects.filter(delivery=delivery).order_by("billing_account_id")
    assert [(s.billing_account_id, s.row_count, s.is_current) for s in slices] == [
        ("01A2B3-C4D5E6-F70819", 14, True),
        ("11C2D3-E4F506-A7B8C9", 11, True),
    ]
    daily = DailySpend.objects.aggregate(billed=ExactSum("billed_cost"), rows=Sum("row_count"))
    assert daily == {"billed": expected["USD"]["billed_cost"], "rows": 25}
    cloud = TechnologyCategory.objects.get(slug="public-cloud")
    assert not DailySpend.objects.exclude(technology_category=cloud).exists()
    stored = rows_list(delivery_id=delivery.pk, columns=["technology_category_id", "source_row"])
    assert [row["technology_category_id"] for row in stored] == [cloud.pk] * 25
    assert [row["source_row"] for row in stored] == list(range(1, 26))


def test_loading_the_same_files_again_changes_nothing():
    first = _ingest(GCP)
    again = _ingest(GCP)

    assert again.status == Delivery.Status.LOADED
    assert again.duplicate_of_id == first.pk
    assert again.rows_loaded == 0
    assert again.warnings[0]["code"] == "duplicate_delivery"
    assert _stored_rows() == 25
    assert BillingSlice.objects.filter(is_current=True).count() == 2
    assert BillingSlice.objects.count() == 2


def test_a_bad_number_in_the_middle_rejects_the_whole_delivery(tmp_path):
    bad = _copy_with(tmp_path, GCP, "bad.csv", 13, "BilledCost", "abc")

    delivery = _ingest(SMALL, bad)

    assert delivery.status == Delivery.Status.REJECTED
    assert _stored_rows() == 0
    assert rows_list(every=True) == []
    assert DailySpend.objects.count() == 0
    assert BillingSlice.objects.count() == 0
    assert delivery.rows_loaded == 0
    assert delivery.rows_rejected == 1
    assert delivery.errors == [
        {
            "file": "bad.csv",
            "row": 13,
            "column": "BilledCost",
            "value": "abc",
            "message": 'bad.csv data row 13, column BilledCost: "abc" is not a number.',
        }
    ]
    assert delivery.error_message == (
        'Rejected, nothing was stored: bad.csv data row 13, column BilledCost: "abc" is not a '
        "number. Row numbers count data rows from 1, not counting the header."
    )
    assert delivery_summary(delivery=delivery)["status"] == "rejected"


def test_a_missing_billing_currency_rejects_the_delivery(tmp_path):
    bad = _copy_with(tmp_path, SMALL, "nocur.csv", 2, "BillingCurrency", "")

    delivery = _ingest(bad)

    assert delivery.status == Delivery.Status.REJECTED
    assert [e["message"] for e in delivery.errors] == [
        "nocur.csv data row 2, column BillingCurrency: the value is missing; this column is "
        "never null.",
    ]


def test_an_unreadable_date_rejects_the_delivery(tmp_path):
    bad = _copy_with(tmp_path, SMALL, "date.csv", 4, "ChargePeriodStart", "next tuesday")

    delivery = _ingest(bad)

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.errors[0]["message"] == (
        'date.csv data row 4, column ChargePeriodStart: "next tuesday" is not a date-time.'
    )


def test_a_missing_mandatory_column_rejects_the_file_naming_it(tmp_path):
    lines = SMALL.read_text().splitlines()
    path = tmp_path / "nocost.csv"
    path.write_text("\n".join(line.replace("BilledCost", "Cost") for line in lines) + "\n")

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.errors[0]["message"] == (
        "nocost.csv: lacks the mandatory FOCUS columns BilledCost; no row of the delivery was "
        "stored."
    )


def test_exponent_notation_is_stored_exactly(tmp_path):
    path = _copy_with(tmp_path, SMALL, "exp.csv", 1, "BilledCost", "35.2E-7")

    delivery = _ingest(path)

    row = _row(1)
    assert row["billed_cost"] == Decimal("0.00000352")
    assert delivery.totals["USD"]["billed_cost"] == "-11.99999648"


def test_broken_tags_are_a_warning_and_the_text_is_kept_in_extras(tmp_path):
    path = _copy_with(tmp_path, SMALL, "tags.csv", 2, "Tags", '"{broken"')

    delivery = _ingest(path)

    row = _row(2)
    assert delivery.status == Delivery.Status.LOADED
    assert row["tags"] == {}
    assert row["extras"] == {"Tags": "{broken"}
    warning = next(w for w in delivery.warnings if w["code"] == "invalid_tags")
    assert (warning["column"], warning["rows"]) == ("Tags", [2])


@pytest.mark.parametrize(
    "tags",
    ['{"team": NaN}', '{"team": Infinity}', '{"cost": 1e400}', '{"team": "a\\u0000b"}'],
)
def test_tags_no_database_json_can_hold_are_broken_tags(tmp_path, tags):
    # Python reads NaN, Infinity, 1e400 and NUL characters as JSON; PostgreSQL refuses them.
    path = _copy_with(tmp_path, SMALL, "odd-tags.csv", 2, "Tags", tags)

    delivery = _ingest(path)

    row = _row(2)
    assert delivery.status == Delivery.Status.LOADED
    assert row["tags"] == {}
    assert row["extras"] == {"Tags": tags}
    warning = next(w for w in delivery.warnings if w["code"] == "invalid_tags")
    assert (warning["column"], warning["rows"]) == ("Tags", [2])


def test_enumeration_case_drift_is_corrected_with_a_warning(tmp_path):
    path = _copy_with(tmp_path, SMALL, "enum.csv", 1, "ChargeFrequency", "usage-based")

    delivery = _ingest(path)

    assert _row(1)["charge_frequency"] == "Usage-Based"
    warning = next(w for w in delivery.warnings if w["code"] == "enumeration_case")
    assert (warning["column"], warning["rows"]) == ("ChargeFrequency", [1])


def test_a_folder_stands_for_all_the_files_in_it(tmp_path):
    (tmp_path / "a.csv").write_bytes(SMALL.read_bytes())
    (tmp_path / "b.csv.gz").write_bytes((BUGCASES_DIR / "B20-gzip-export.csv.gz").read_bytes())

    delivery = _ingest(tmp_path)

    assert [f["name"] for f in delivery.files] == ["a.csv", "b.csv.gz"]
    assert delivery.rows_loaded == 8
    assert delivery.totals["USD"]["billed_cost"] == "92.50"


def test_progress_is_reported_with_rows_done_and_expected():
    calls = []

    _ = delivery_ingest(
        delivery=delivery_create(paths=[GCP]),
        progress=lambda done, expected: calls.append((done, expected)),
    )

    assert calls == [(25, 25)]


REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
MIXED_CURRENCIES = BUGCASES_DIR / "B14-mixed-billing-currency.csv"


def _slice_facts(delivery: Delivery) -> list[tuple]:
    return [
        (s.billing_account_id, s.billing_period_start, s.row_count, s.coverage_start,
         s.coverage_end, s.charge_days)
        for s in BillingSlice.objects.filter(delivery=delivery).order_by("pk")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "chunk_rows"), [(REAL, 97), (MIXED_CURRENCIES, 1)], ids=["real", "mixed-currencies"]
)
def test_the_finaliser_adds_up_what_each_chunk_measured_as_the_daily_sums_group_it(
    path, chunk_rows
):
    delivery = delivery_ingest(delivery=delivery_create(paths=[path]), chunk_rows=chunk_rows)
    chunks = list(delivery.chunks.order_by("index"))
    recorded = _slice_facts(delivery)

    from_chunks = billing_slices_measure(delivery=delivery, chunks=chunks)
    from_sums = billing_slices_measure(delivery=delivery)

    assert delivery.status == Delivery.Status.LOADED
    assert len(chunks) == -(-delivery.rows_loaded // chunk_rows) > 1
    assert all(chunk.measures for chunk in chunks)
    assert from_chunks == from_sums
    assert from_chunks.sums == DailySpend.objects.count()
    assert sum(from_chunks.rows_by_slice.values()) == delivery.rows_loaded
    expected = {
        cur: {name: Decimal(v) for name, v in sums.items()}
        for cur, sums in csv_totals(path).items()
    }
    assert from_chunks.totals == expected
    assert _slice_facts(delivery) == recorded


def test_chunks_written_without_measures_are_measured_from_the_daily_sums():
    delivery = delivery_ingest(delivery=delivery_create(paths=[REAL]), chunk_rows=300)
    expected = billing_slices_measure(delivery=delivery)
    delivery.chunks.filter(index=1).update(measures=None)

    measured = billing_slices_measure(delivery=delivery, chunks=list(delivery.chunks.all()))

    assert measured == expected
    assert measured.totals == {
        cur: {name: Decimal(v) for name, v in sums.items()}
        for cur, sums in csv_totals(REAL).items()
    }
