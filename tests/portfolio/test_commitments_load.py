"""FOCUS 1.3 Contract Commitment files: loaded idempotently and linked to the cost rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolio.focus.errors import WarningLog
from portfolio.models import Commitment, Delivery
from portfolio.services.commitments_load import commitment_rows, contract_commitment_file_load
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import SAMPLES_DIR
from tests.portfolio.focus_files import csv_rows, csv_totals

pytestmark = pytest.mark.django_db

COST = SAMPLES_DIR / "synthetic-gcp-focus1.3.csv"
COMMITMENTS = SAMPLES_DIR / "synthetic-gcp-focus1.3-contractcommitment.csv"


def _ingest(*paths):
    return delivery_ingest(delivery=delivery_create(paths=list(paths)))


def _applied(commitment_id: str) -> list[int]:
    return [
        number for number, row in enumerate(csv_rows(COST), start=1)
        if f'"ContractCommitmentId":"{commitment_id}"' in row["ContractApplied"]
    ]  # fmt: skip


def test_the_contract_commitment_file_loads_every_commitment_exactly():
    delivery = _ingest(COMMITMENTS)

    source = csv_rows(COMMITMENTS)
    assert delivery.status == Delivery.Status.LOADED
    assert delivery.focus_version == "1.3"
    assert Commitment.objects.count() == 11
    stored = {c.contract_commitment_id: c for c in Commitment.objects.all()}
    assert set(stored) == {row["ContractCommitmentId"] for row in source}
    for row in source:
        commitment = stored[row["ContractCommitmentId"]]
        assert commitment.total_amount == Decimal(row["ContractCommitmentCost"])
        assert commitment.contract_id == row["ContractId"]
        assert commitment.contract_commitment_type == row["ContractCommitmentType"]
        assert commitment.currency == row["BillingCurrency"]
        quantity = row["ContractCommitmentQuantity"]
        assert commitment.quantity == (Decimal(quantity) if quantity else None)
        assert commitment.quantity_unit == row["ContractCommitmentUnit"]
    total = sum(Decimal(row["ContractCommitmentCost"]) for row in source)
    assert sum(c.total_amount for c in stored.values()) == total == Decimal("537224.92816")


def test_a_commitment_term_keeps_its_dates_and_a_category_of_our_own():
    _ingest(COMMITMENTS)

    cud = Commitment.objects.get(contract_commitment_id__endswith="cud-5d2cce8038")
    minimum = Commitment.objects.get(contract_commitment_id="CC-MINSPEND-GCP")
    assert (cud.name, cud.category) == ("SpendBasedCUD-1yr (cud-5d2cce8038)", "cloud_discount")
    # The term ends at 02:00 on 1 May 2027, so that day is still covered.
    assert (cud.start_date, cud.end_date) == (dt.date(2026, 5, 1), dt.date(2027, 5, 2))
    assert (minimum.start_date, minimum.end_date) == (dt.date(2026, 5, 1), dt.date(2027, 5, 1))
    rate_card = Commitment.objects.get(contract_commitment_id="CC-RATECARD-GCP")
    assert rate_card.category == "other"


def test_loading_the_file_again_changes_nothing():
    _ingest(COMMITMENTS)
    before = list(Commitment.objects.order_by("pk").values())

    replay = _ingest(COMMITMENTS)
    # Read again, not skipped as a replay of the same delivery.
    header = list(csv_rows(COMMITMENTS)[0])
    loaded = contract_commitment_file_load(
        path=COMMITMENTS, fmt="csv", name=COMMITMENTS.name, header=header, warnings=WarningLog()
    )

    assert replay.duplicate_of_id is not None
    assert loaded is True
    after = list(Commitment.objects.order_by("pk").values())
    assert [{k: v for k, v in c.items() if k != "updated_at"} for c in after] == [
        {k: v for k, v in c.items() if k != "updated_at"} for c in before
    ]


def test_cost_rows_link_to_the_commitments_they_apply_and_none_is_unknown():
    delivery = _ingest(COMMITMENTS, COST)

    assert delivery.status == Delivery.Status.LOADED
    assert csv_totals(COST) == {
        c: {n: Decimal(v) for n, v in sums.items()} for c, sums in delivery.totals.items()
    }
    unknown = [f for f in delivery.conformance["findings"]
               if f["code"] == "contract_commitment_unknown"]  # fmt: skip
    assert unknown == []
    for commitment in Commitment.objects.all():
        rows = commitment_rows(commitment_id=commitment.contract_commitment_id)
        linked = sorted(rows.column("source_row").to_pylist())
        assert linked == _applied(commitment.contract_commitment_id)
        assert linked, commitment.contract_commitment_id


def test_cost_rows_naming_commitments_not_loaded_give_a_warning_not_a_failure():
    delivery = _ingest(COST)

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == 100
    unknown = [f for f in delivery.conformance["findings"]
               if f["code"] == "contract_commitment_unknown"]  # fmt: skip
    assert len(unknown) == 11
    assert {f["severity"] for f in unknown} == {"warning"}
    minimum = next(f for f in unknown if "CC-MINSPEND-GCP," in f["message"])
    rows = _applied("CC-MINSPEND-GCP")
    assert (minimum["count"], minimum["rows"]) == (len(rows), rows[:20])


def test_a_bad_commitment_value_rejects_the_delivery_naming_row_and_column(tmp_path):
    lines = COMMITMENTS.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("1565.902560", "lots", 1)
    path = tmp_path / "commitments.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.errors[0]["message"] == (
        'commitments.csv data row 3, column ContractCommitmentCost: "lots" is not a number.'
    )
    assert Commitment.objects.count() == 0


def test_progress_counts_the_cost_rows_only_when_commitment_files_come_along():
    delivery = _ingest(COST, COMMITMENTS)

    cost_rows = len(csv_rows(COST))
    assert delivery.status == Delivery.Status.LOADED
    assert (delivery.rows_done, delivery.rows_expected) == (cost_rows, cost_rows)
