"""Every cost-and-usage sample loads with totals equal to an independent sum of the file."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from portfolio.rowstore import rows_list
from tests.conftest import SAMPLES_DIR
from tests.portfolio.focus_files import COSTS, NULLS, csv_rows, csv_totals

SAMPLES = sorted(
    path for path in SAMPLES_DIR.glob("*.csv") if "contractcommitment" not in path.name
)


def _ingest_json(*paths) -> dict:
    out, err = StringIO(), StringIO()
    call_command("ingest_focus", *map(str, paths), "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db
@pytest.mark.parametrize("path", SAMPLES, ids=[path.name for path in SAMPLES])
def test_each_sample_reports_totals_equal_to_an_independent_sum_of_the_file(path):
    summary = _ingest_json(path)

    expected = csv_totals(path)
    assert summary["status"] == "loaded"
    assert summary["rows_read"] == summary["rows_loaded"] == len(csv_rows(path))
    assert summary["rows_rejected"] == 0
    assert summary["errors"] == []
    reported = {
        currency: {name: Decimal(value) for name, value in sums.items()}
        for currency, sums in summary["totals"].items()
    }
    assert reported == expected


@pytest.mark.django_db
@pytest.mark.parametrize("path", SAMPLES, ids=[path.name for path in SAMPLES])
def test_each_sample_stores_every_row_with_exact_amounts(path):
    _ingest_json(path)

    rows = csv_rows(path)
    stored = rows_list(every=True)
    assert len(stored) == len(rows)
    assert [spend["source_row"] for spend in stored] == list(range(1, len(rows) + 1))
    for row, spend in zip(rows, stored, strict=True):
        for field, column in COSTS.items():
            if row.get(column) not in (None, *NULLS):
                assert spend[field] == Decimal(row[column]), (spend["source_row"], column)


@pytest.mark.django_db
def test_the_samples_are_detected_as_their_focus_versions():
    versions = {path.name: _ingest_json(path)["focus_version"] for path in SAMPLES}

    assert versions == {
        "finopsfoundation-multicloud-focus1.0-real.csv": "1.0",
        "focusspec-saas-virtualcurrency-focus1.2-example.csv": "1.2",
        "synthetic-azure-focus1.2.csv": "1.2",
        "synthetic-gcp-focus1.2-credits.csv": "1.2",
        "synthetic-gcp-focus1.3.csv": "1.3",
    }
