"""For each reference sample, the API and the portfolio brief show the file's exact totals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from finops_exec.exact import money_str
from reports.briefs import portfolio_brief_build
from tests.conftest import SAMPLES_DIR
from tests.portfolio.focus_files import COSTS, csv_totals

SAMPLES = sorted(
    path for path in SAMPLES_DIR.glob("*.csv") if "contractcommitment" not in path.name
)


@pytest.fixture
def loaded(request, db):
    path = request.param
    call_command("ingest_focus", str(path), verbosity=0, stdout=None, stderr=None)
    return csv_totals(path)


@pytest.mark.parametrize("loaded", SAMPLES, ids=[p.name for p in SAMPLES], indirect=True)
def test_the_spend_api_totals_equal_the_sum_of_the_file(loaded, finance_api):
    response = finance_api.get("/api/v1/spend/")

    assert response.status_code == 200
    shown = {
        row["billing_currency"]: {name: row[name] for name in COSTS}
        for row in response.json()["results"]
    }
    assert shown == {
        currency: {name: money_str(total) for name, total in sums.items()}
        for currency, sums in loaded.items()
    }


@pytest.mark.parametrize("loaded", SAMPLES, ids=[p.name for p in SAMPLES], indirect=True)
def test_the_portfolio_brief_months_add_up_to_the_sum_of_the_file(loaded):
    brief = portfolio_brief_build()

    shown = {
        section.currency: {
            "effective_cost": sum((m.total.effective for m in section.trend), Decimal(0)),
            "billed_cost": sum((m.total.billed for m in section.trend), Decimal(0)),
        }
        for section in brief.currencies
    }
    assert shown == {
        currency: {"effective_cost": sums["effective_cost"], "billed_cost": sums["billed_cost"]}
        for currency, sums in loaded.items()
    }
