"""The FOCUS conformance report: exact counts over whole files, example rows, and the API."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from portfolio.focus.conformance import conformance_check, findings_summary
from portfolio.focus.reader import file_format_detect
from portfolio.models import Delivery
from portfolio.services.ingest import delivery_create, delivery_ingest
from reports.briefs import portfolio_brief_build
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import NULLS, csv_rows

REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
GCP_13 = SAMPLES_DIR / "synthetic-gcp-focus1.3.csv"
COMMITMENTS = SAMPLES_DIR / "synthetic-gcp-focus1.3-contractcommitment.csv"


def _check(*paths: Path, **kwargs) -> dict:
    files = [{"name": p.name, "path": str(p), "format": file_format_detect(p)} for p in paths]
    return conformance_check(files=files, **kwargs)


def _finding(report: dict, code: str, column: str | None = None) -> dict:
    (found,) = [
        f for f in report["findings"]
        if f["code"] == code and (column is None or f["column"] == column)
    ]  # fmt: skip
    return found


def _whole(text: str) -> bool:
    value = Decimal(text)
    return value == value.to_integral_value()


def _rounded_rows(path: Path) -> list[int]:
    """Rows whose EffectiveCost is whole while BilledCost is not, of providers that never
    have a fractional EffectiveCost; prepaid purchases (EffectiveCost 0) left out."""
    rows = csv_rows(path)
    fractional = {r["ProviderName"] for r in rows if not _whole(r["EffectiveCost"])}
    return [
        number for number, r in enumerate(rows, start=1)
        if r["ProviderName"] not in fractional
        and _whole(r["EffectiveCost"]) and not _whole(r["BilledCost"])
        and not (r["ChargeCategory"] == "Purchase" and Decimal(r["EffectiveCost"]) == 0)
    ]  # fmt: skip


def test_the_real_sample_report_flags_rounded_effective_cost_the_id_column_and_case_drift():
    report = _check(REAL)

    rows = csv_rows(REAL)
    rounded = _rounded_rows(REAL)
    by_provider = defaultdict(int)
    for number in rounded:
        by_provider[rows[number - 1]["ProviderName"]] += 1
    assert dict(by_provider) == {"AWS": 614, "Oracle": 6}
    effective = _finding(report, "effective_cost_rounded")
    assert (effective["severity"], effective["column"], effective["count"]) == (
        "warning", "EffectiveCost", len(rounded)
    )  # fmt: skip
    assert effective["rows"] == rounded[:20]
    assert "(AWS 614, Oracle 6 rows)" in effective["message"]

    assert report["focus_version"] == "1.0"
    assert report["columns_missing"] == []
    assert report["columns_unrecognised"] == ["Id"]
    identifier = _finding(report, "custom_column_prefix", "Id")
    assert (identifier["count"], identifier["rows"]) == (1000, list(range(1, 21)))

    drifted = [n for n, r in enumerate(rows, start=1) if r["ChargeFrequency"] == "Usage-based"]
    case = _finding(report, "enumeration_case", "ChargeFrequency")
    assert (case["severity"], case["count"], case["rows"]) == ("warning", 7, drifted)
    assert drifted == [926, 927, 942, 945, 948, 949, 951]


def test_the_real_sample_null_and_pairing_findings_match_an_independent_count():
    report = _check(REAL)

    rows = csv_rows(REAL)
    one_region = [
        n for n, r in enumerate(rows, start=1)
        if (r["RegionId"] in NULLS) != (r["RegionName"] in NULLS)
    ]  # fmt: skip
    pairing = _finding(report, "region_pairing")
    assert (pairing["count"], pairing["rows"]) == (len(one_region), one_region)
    no_contracted = [n for n, r in enumerate(rows, start=1) if r["ContractedCost"] in NULLS]
    nulls = _finding(report, "null_not_allowed", "ContractedCost")
    assert (nulls["severity"], nulls["count"], nulls["rows"]) == ("error", 7, no_contracted)
    assert {f["code"] for f in report["findings"]} >= {"datetime_format", "list_cost_mismatch"}


def test_clean_synthetic_files_have_no_findings():
    report = _check(SAMPLES_DIR / "synthetic-azure-focus1.2.csv", GCP_13)

    assert report["findings"] == []
    assert report["focus_version"] == "1.3"
    assert [(f["name"], f["rows"]) for f in report["files"]] == [
        ("synthetic-azure-focus1.2.csv", 100),
        ("synthetic-gcp-focus1.3.csv", 100),
    ]


def test_unknown_contract_commitments_are_warnings_with_exact_counts():
    report = _check(GCP_13, commitments_known=lambda ids: ids - {"CC-MINSPEND-GCP"})

    rows = csv_rows(GCP_13)
    naming = [n for n, r in enumerate(rows, start=1) if "CC-MINSPEND-GCP" in r["ContractApplied"]]
    (unknown,) = [f for f in report["findings"] if f["code"] == "contract_commitment_unknown"]
    assert unknown["severity"] == "warning"
    assert (unknown["count"], unknown["rows"]) == (len(naming), naming[:20])
    assert "CC-MINSPEND-GCP, which is not loaded" in unknown["message"]


def test_a_contract_commitment_file_is_recognised_as_its_own_dataset():
    report = _check(COMMITMENTS)

    assert report["files"] == [
        {"name": COMMITMENTS.name, "dataset": "ContractCommitment", "focus_version": "1.3",
         "rows": 11}
    ]  # fmt: skip
    assert (report["columns_missing"], report["findings"]) == ([], [])


def test_a_decimal_comma_is_an_error_finding_not_a_number(tmp_path):
    source = (BUGCASES_DIR / "B15-negative-credits-refund.csv").read_text(encoding="utf-8")
    lines = source.splitlines()
    path = tmp_path / "comma.csv"
    path.write_text("\n".join([lines[0], lines[1].replace("100.00", '"100,00"', 1)]) + "\n")

    report = _check(path)

    finding = _finding(report, "not_a_number", "BilledCost")
    assert (finding["severity"], finding["count"], finding["rows"]) == ("error", 1, [1])


def test_the_summary_counts_rows_flagged_and_names_the_most_frequent_finding_in_words():
    report = _check(REAL)

    total, words, count = findings_summary(reports=[report, {}])
    assert total == len(report["findings"]) == 13
    # Four date columns flag the same 1,000 rows, as many as the Id column without x_: the
    # rows count once, and the tie goes to the kind found in more columns.
    assert (words, count) == ("dates and times not written in the FOCUS format", 1000)
    # Two deliveries' rows add up.
    assert findings_summary(reports=[report, report])[1:] == (words, 2000)


@pytest.mark.django_db
def test_the_ingest_api_shows_the_conformance_report_of_a_delivery(practitioner_api):
    delivery = delivery_ingest(delivery=delivery_create(paths=[REAL]))

    response = practitioner_api.get(f"/api/v1/ingests/{delivery.pk}/")

    assert delivery.status == Delivery.Status.LOADED
    assert response.status_code == 200
    body = response.json()["conformance"]
    assert body == _check(REAL, commitments_known=lambda ids: ids)
    assert _finding(body, "enumeration_case", "ChargeFrequency")["count"] == 7


@pytest.mark.django_db
def test_a_rejected_delivery_still_gets_its_conformance_report():
    delivery = delivery_ingest(
        delivery=delivery_create(paths=[BUGCASES_DIR / "B03-localized-headers.csv"])
    )

    assert delivery.status == Delivery.Status.REJECTED
    assert len(delivery.conformance["columns_unrecognised"]) == 12
    assert "BilledCost" in delivery.conformance["columns_missing"]


@pytest.mark.django_db
def test_the_brief_footer_counts_findings_and_names_the_most_frequent_in_words(executive):
    delivery = delivery_ingest(delivery=delivery_create(paths=[REAL]))
    client = Client()
    client.force_login(executive)

    freshness = portfolio_brief_build().freshness
    html = " ".join(client.get("/briefs/portfolio/").content.decode().split())

    findings = delivery.conformance["findings"]
    # Four date columns are flagged on the same 1,000 rows: the rows count once.
    dates = [f for f in findings if f["code"] == "datetime_format"]
    assert sorted(f["count"] for f in dates) == [1000, 1000, 1000, 1000]
    assert (freshness.findings_count, freshness.findings_top_rows) == (len(findings), 1000)
    assert freshness.findings_top == "dates and times not written in the FOCUS format"
    assert (
        "Data quality: the latest deliveries have 13 FOCUS conformance findings; the most "
        "frequent is dates and times not written in the FOCUS format (1,000 rows)."
    ) in html


@pytest.mark.django_db
def test_the_brief_footer_says_when_the_data_has_no_findings(executive):
    delivery_ingest(delivery=delivery_create(paths=[SAMPLES_DIR / "synthetic-azure-focus1.2.csv"]))

    freshness = portfolio_brief_build().freshness

    assert (freshness.findings_count, freshness.findings_top) == (0, "")
