"""A delivery reads each distinct file once, however often the same content is given."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from django.core.management import call_command

from portfolio.rowstore import rows_table
from tests.conftest import BUGCASES_DIR

B14 = BUGCASES_DIR / "B14-mixed-billing-currency.csv"


def _ingest_json(*paths) -> dict:
    out = StringIO()
    call_command("ingest_focus", *map(str, paths), "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db
def test_the_same_file_given_twice_is_read_once_with_a_warning(tmp_path):
    copy = tmp_path / "B14-copy.csv"
    shutil.copy(B14, copy)

    summary = _ingest_json(B14, copy)

    assert summary["status"] == "loaded"
    assert summary["rows_loaded"] == 3
    assert {cur: t["billed_cost"] for cur, t in summary["totals"].items()} == {
        "EUR": "150.00",
        "USD": "80.00",
    }
    assert [w for w in summary["warnings"] if w["code"] == "duplicate_file"] == [
        {
            "code": "duplicate_file",
            "message": (
                "B14-copy.csv has the same content as B14-mixed-billing-currency.csv in this "
                "delivery; it was read once."
            ),
            "column": None,
            "rows": [],
            "file": "B14-copy.csv",
        }
    ]
    assert rows_table(every=True).num_rows == 3


@pytest.mark.django_db
def test_a_delivery_of_one_file_twice_is_a_replay_of_that_file():
    _ingest_json(B14, B14)

    replay = _ingest_json(B14)

    assert replay["rows_loaded"] == 0
    assert "duplicate_delivery" in {w["code"] for w in replay["warnings"]}
    assert rows_table(every=True).num_rows == 3


@pytest.mark.django_db
def test_a_file_with_a_header_and_no_rows_loads_nothing_and_says_so(tmp_path):
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(B14.read_text(encoding="utf-8").splitlines()[0] + "\n")

    summary = _ingest_json(header_only)

    assert summary["status"] == "loaded"
    assert summary["rows_loaded"] == 0
    assert {"code": "no_rows", "message": "The files hold no data rows; the delivery loaded "
            "nothing.", "column": None, "rows": []} in summary["warnings"]  # fmt: skip
