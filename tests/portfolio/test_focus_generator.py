"""The synthetic FOCUS generator writes valid, exact, deterministic FOCUS 1.2 files."""

from __future__ import annotations

import csv
import datetime
import gzip
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from portfolio.focus_generator import FOCUS_12_COLUMNS, fixed_str, focus_file_generate
from tests.conftest import SHARED_DIR

END = datetime.date(2026, 5, 1)
TODAY = datetime.date(2026, 6, 15)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NUMBER = re.compile(r"^-?\d+(\.\d*[1-9])?$")
CATEGORIES = {
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
    "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
    "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
    "Storage", "Web", "Other",
}  # fmt: skip
MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, list[dict[str, str]]]:
    path = tmp_path_factory.mktemp("focus") / "focus.csv"
    focus_file_generate(rows=6_000, path=path, seed=7, end_month=END, today=TODAY)
    return path, _rows(path)


def test_the_header_is_exactly_the_57_focus_1_2_columns_in_the_reference_order(generated):
    path, _ = generated
    header = path.read_text().splitlines()[0].split(",")
    reference = (SHARED_DIR / "focus-samples" / "synthetic-azure-focus1.2.csv").open().readline()

    assert len(header) == 57
    assert header == list(FOCUS_12_COLUMNS) == reference.strip().split(",")


def test_the_file_has_exactly_the_requested_number_of_rows(generated):
    _, rows = generated

    assert len(rows) == 6_000


def test_the_billed_cost_of_the_file_equals_an_independent_decimal_sum(generated, tmp_path):
    _, rows = generated
    summary = focus_file_generate(
        rows=6_000, path=tmp_path / "again.csv", seed=7, end_month=END, today=TODAY
    )

    billed = sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))
    effective = sum((Decimal(r["EffectiveCost"]) for r in rows), Decimal(0))
    assert summary.billed_cost == {"USD": billed}
    assert summary.effective_cost == {"USD": effective}
    assert billed > Decimal(10_000_000)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(generated, tmp_path):
    path, _ = generated
    focus_file_generate(rows=6_000, path=tmp_path / "same.csv", seed=7, end_month=END, today=TODAY)
    focus_file_generate(rows=6_000, path=tmp_path / "other.csv", seed=8, end_month=END, today=TODAY)

    assert (tmp_path / "same.csv").read_bytes() == path.read_bytes()
    assert (tmp_path / "other.csv").read_bytes() != path.read_bytes()


def test_amounts_are_plain_exact_decimal_strings_and_list_cost_is_price_times_quantity(generated):
    _, rows = generated

    for row in rows:
        for column in (*MONEY, "PricingQuantity", "ListUnitPrice", "ConsumedQuantity"):
            assert row[column] == "" or NUMBER.match(row[column]), (column, row[column])
        for column in MONEY:
            assert row[column] != ""
        if row["ListUnitPrice"]:
            quantity = Decimal(row["PricingQuantity"])
            assert Decimal(row["ListCost"]) == Decimal(row["ListUnitPrice"]) * quantity
            assert Decimal(row["ContractedCost"]) == Decimal(row["ContractedUnitPrice"]) * quantity
            assert Decimal(row["ContractedUnitPrice"]) <= Decimal(row["ListUnitPrice"])


def test_dates_are_utc_iso_8601_and_charge_periods_sit_inside_billing_periods(generated):
    _, rows = generated

    for row in rows:
        for column in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                       "ChargePeriodEnd"):  # fmt: skip
            assert STAMP.match(row[column]), row[column]
        assert row["BillingPeriodStart"] <= row["ChargePeriodStart"] < row["ChargePeriodEnd"]
        assert row["ChargePeriodEnd"] <= row["BillingPeriodEnd"]
    months = sorted({r["BillingPeriodStart"][:7] for r in rows})
    assert months[0] == "2025-05" and months[-1] == "2026-05" and len(months) == 13


def test_tags_and_sku_price_details_are_flat_json_objects(generated):
    _, rows = generated

    tagged = 0
    for row in rows:
        for column in ("Tags", "SkuPriceDetails"):
            if row[column]:
                value = json.loads(row[column])
                assert isinstance(value, dict)
                assert all(not isinstance(v, (dict, list)) for v in value.values())
        if row["Tags"]:
            tagged += 1
            assert set(json.loads(row["Tags"])) <= {"team", "env", "product", "cost-center"}
    assert 0.8 * len(rows) < tagged < len(rows)


def test_categories_charge_kinds_and_null_rules_follow_the_specification(generated):
    _, rows = generated

    for row in rows:
        assert row["ServiceCategory"] in CATEGORIES
        assert row["ChargeCategory"] in {"Usage", "Purchase", "Tax", "Credit"}
        assert row["ChargeClass"] == ""
        assert row["BillingCurrency"] == "USD"
        if row["ChargeCategory"] != "Usage" or row["CommitmentDiscountStatus"] == "Unused":
            assert row["ConsumedQuantity"] == "" and row["ConsumedUnit"] == ""
        if row["ChargeCategory"] in {"Tax", "Credit"}:
            assert row["PricingQuantity"] == "" and row["SkuPriceId"] == ""
            assert row["EffectiveCost"] == row["BilledCost"]
        assert (row["CommitmentDiscountStatus"] == "") == (
            row["CommitmentDiscountId"] == "" or row["ChargeCategory"] != "Usage"
        )


def test_every_technology_kind_and_a_few_credits_and_tax_rows_are_present(generated):
    _, rows = generated
    providers = {r["ProviderName"] for r in rows}
    charges = defaultdict(int)
    for row in rows:
        charges[row["ChargeCategory"]] += 1

    assert {"AWS", "Microsoft Azure", "Google Cloud", "OpenAI", "Anthropic"} <= providers
    assert {"Salesforce", "Slack", "Atlassian", "Oracle Licensing", "Microsoft Licensing"} <= (
        providers
    )
    assert {"Equinix", "ExampleCorp Data Center"} <= providers
    assert 0 < charges["Credit"] <= 6 and 0 < charges["Tax"] <= 30
    tokens = [r for r in rows if r["ConsumedUnit"] == "Tokens"]
    assert tokens and {r["PricingUnit"] for r in tokens} == {"1M Tokens"}
    assert all(Decimal(r["ConsumedQuantity"]) == Decimal(r["PricingQuantity"]) * 1_000_000
               for r in tokens)  # fmt: skip
    seats = [r for r in rows if r["ProviderName"] == "Slack"]
    assert {(r["ChargeCategory"], r["ChargeFrequency"]) for r in seats} == {
        ("Purchase", "Recurring")
    }


def test_commitment_purchases_equal_amortised_usage_per_commitment_and_month(generated):
    _, rows = generated
    purchased: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    amortised: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if not row["CommitmentDiscountId"]:
            continue
        key = (row["CommitmentDiscountId"], row["BillingPeriodStart"])
        if row["ChargeCategory"] == "Purchase":
            assert row["EffectiveCost"] == "0"
            purchased[key] += Decimal(row["BilledCost"])
        else:
            assert row["BilledCost"] == "0"
            amortised[key] += Decimal(row["EffectiveCost"])

    assert len(purchased) >= 13
    assert purchased == amortised


def test_spend_trends_upward_and_ai_ramps_up(generated):
    _, rows = generated
    total: dict[str, Decimal] = defaultdict(Decimal)
    ai: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        month = row["ChargePeriodStart"][:7]
        total[month] += Decimal(row["EffectiveCost"])
        if row["ServiceCategory"] == "AI and Machine Learning":
            ai[month] += Decimal(row["EffectiveCost"])

    assert total["2026-05"] > total["2025-05"] * Decimal("1.1")
    assert ai["2026-05"] > ai["2025-05"] * 5


def test_the_current_month_only_has_usage_up_to_today(tmp_path):
    path = tmp_path / "current.csv"
    focus_file_generate(rows=2_000, path=path, seed=1, months=2, today=datetime.date(2026, 5, 10))

    last = max(r["ChargePeriodStart"] for r in _rows(path) if r["ChargeFrequency"] != "Recurring")
    assert last <= "2026-05-10T00:00:00Z"


def test_a_eur_account_adds_rows_billed_in_euro(tmp_path):
    summary = focus_file_generate(
        rows=3_000, path=tmp_path / "eur.csv", seed=2, end_month=END, today=TODAY,
        eur_account=True,
    )  # fmt: skip

    rows = _rows(tmp_path / "eur.csv")
    euro = sum((Decimal(r["BilledCost"]) for r in rows if r["BillingCurrency"] == "EUR"),
               Decimal(0))  # fmt: skip
    assert set(summary.billed_cost) == {"USD", "EUR"}
    assert summary.billed_cost["EUR"] == euro > 0


def test_small_files_and_group_subsets_keep_the_exact_row_count(tmp_path):
    focus_file_generate(rows=7, path=tmp_path / "tiny.csv", seed=1, end_month=END, today=TODAY)
    focus_file_generate(
        rows=500, path=tmp_path / "ai.csv.gz", seed=1, end_month=END, today=TODAY,
        groups=("ai",),
    )  # fmt: skip

    assert len(_rows(tmp_path / "tiny.csv")) == 7
    ai_rows = _rows(tmp_path / "ai.csv.gz")
    assert len(ai_rows) == 500
    assert {r["ServiceCategory"] for r in ai_rows} == {"AI and Machine Learning"}


def test_fixed_str_renders_integer_units_as_exact_decimals():
    assert fixed_str(0, 9) == "0"
    assert fixed_str(1_230_000_000, 9) == "1.23"
    assert fixed_str(-5, 3) == "-0.005"
    assert fixed_str(10_000, 3) == "10"


def test_the_command_writes_the_file_and_reports_its_total(tmp_path, capsys):
    path = tmp_path / "cmd.csv"
    call_command("generate_focus", "1500", str(path), "--seed", "4", "--end-month", "2026-05")

    rows = _rows(path)
    billed = sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))
    out = capsys.readouterr().out
    assert len(rows) == 1500
    assert out.startswith(f"Wrote 1500 rows to {path} (2025-05 to 2026-05; billed USD ")
    assert Decimal(out.rsplit("USD ", 1)[1].rstrip(").\n")) == billed
