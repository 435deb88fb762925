"""``manage.py ingest_focus``: one delivery per call, JSON summary last, exit status by outcome."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portfolio.models import Delivery
from portfolio.selectors import spend_current, spend_totals
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import csv_totals
from tests.portfolio.test_ingest_parallel import rows_stored

pytestmark = pytest.mark.django_db

REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"


def _run(*args: str) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("ingest_focus", *args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_the_json_summary_is_the_last_line_and_progress_goes_to_stderr():
    summary, err = _run(str(REAL))

    delivery = Delivery.objects.get()
    assert list(summary) == [
        "status", "focus_version", "rows_read", "rows_loaded", "rows_rejected", "totals",
        "warnings", "errors",
    ]  # fmt: skip
    assert summary["totals"] == {
        "USD": {
            "billed_cost": "20.52022672899",
            "effective_cost": "14.97651418586",
            "list_cost": "20.39090575119",
            "contracted_cost": "14.97626039326",
        }
    }
    assert f"delivery {delivery.pk}: 1000 rows read of about 1000" in err
    assert delivery.source == Delivery.Source.COMMAND


def test_ingesting_the_same_file_twice_leaves_the_totals_unchanged():
    _run(str(REAL))
    before = spend_totals(rows=spend_current())

    summary, _err = _run(str(REAL))

    assert summary["rows_loaded"] == 0
    assert [w["code"] for w in summary["warnings"]] == ["duplicate_delivery"]
    assert spend_totals(rows=spend_current()) == before
    expected = csv_totals(REAL)["USD"]
    assert before["USD"] == expected
    assert rows_stored() == 1000


def test_a_bad_row_mid_way_stores_nothing_and_exits_with_status_1(tmp_path):
    with REAL.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("BilledCost")
    rows[500][column] = "12;5"
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("ingest_focus", str(bad), "--json", stdout=out, stderr=StringIO())

    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert raised.value.returncode == 1
    assert summary["status"] == "rejected"
    assert summary["rows_loaded"] == 0
    assert summary["errors"][0]["message"] == (
        'bad.csv data row 500, column BilledCost: "12;5" is not a number.'
    )
    assert rows_stored() == 0


def test_several_paths_and_folders_make_one_delivery(tmp_path):
    (tmp_path / "one.csv").write_bytes(
        (BUGCASES_DIR / "B14-mixed-billing-currency.csv").read_bytes()
    )

    summary, _err = _run(str(tmp_path), str(BUGCASES_DIR / "B20-gzip-export.csv.gz"))

    assert Delivery.objects.count() == 1
    assert summary["rows_loaded"] == 6
    assert {cur: s["billed_cost"] for cur, s in summary["totals"].items()} == {
        "EUR": "150.00",
        "USD": "84.50",
    }
    assert Decimal(summary["totals"]["USD"]["billed_cost"]) == Decimal("80.00") + Decimal("4.50")


def test_a_missing_path_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ingest_focus", str(tmp_path / "nope.csv"), stdout=StringIO())


@pytest.mark.django_db
def test_a_path_that_does_not_exist_is_a_rejection_with_a_json_summary(tmp_path):
    missing = tmp_path / "nowhere.csv"
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("ingest_focus", str(missing), "--json", stdout=out, stderr=StringIO())

    assert raised.value.returncode == 1
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {
        "status": "rejected",
        "focus_version": "",
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_rejected": 0,
        "totals": {},
        "warnings": [],
        "errors": [
            {
                "code": "file_not_found",
                "message": f"{missing} does not exist; give the path of a FOCUS file or folder.",
            }
        ],
    }
