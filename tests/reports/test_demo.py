"""load_demo builds a whole demo organisation on the real ingest, and running it again changes
nothing."""

from __future__ import annotations

import csv
import datetime
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Sum

from decisions.models import Action, Breach, Decision
from finops_exec.exact import ExactSum
from portfolio.focus_generator import focus_file_generate
from portfolio.models import Commitment, DailySpend, Delivery, SpendBlock
from portfolio.rowstore import rows_table
from portfolio.selectors import spend_current
from reports.demo import DEMO_MONTHS, DEMO_SEED, demo_organisation_load

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
ROWS = 4_000
APPS = ("scopes", "portfolio", "decisions", "reports", "auth")


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in APPS
    }


@pytest.fixture
def demo():
    return demo_organisation_load(rows=ROWS, today=TODAY)


@pytest.fixture
def source_rows(tmp_path) -> list[dict[str, str]]:
    """The demo's FOCUS file, generated again independently of the database."""
    path = tmp_path / "demo.csv"
    focus_file_generate(rows=ROWS, path=path, seed=DEMO_SEED, months=DEMO_MONTHS, today=TODAY)
    with Path(path).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_demo_people_sign_in_with_the_documented_password(demo):
    for username in ("executive", "practitioner", "finance", "admin"):
        assert authenticate(username=username, password="finops-demo").username == username
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert list(users.get(username="executive").groups.values_list("name", flat=True)) == [
        "executive"
    ]
    assert users.get(username="head.ai").has_usable_password() is False


def test_the_demo_spend_covers_13_months_and_all_five_categories(demo):
    sums = spend_current()
    months = list(sums.dates("charge_month", "month"))
    categories = set(sums.values_list("technology_category__name", flat=True))
    rows = rows_table(columns=["charge_month"])

    assert demo.spend_rows == ROWS and demo.spend_months == 13
    assert rows.num_rows == ROWS
    assert sorted(set(rows.column("charge_month").to_pylist())) == months
    assert months[0] == datetime.date(2025, 6, 1) and months[-1] == datetime.date(2026, 6, 1)
    assert categories == {"Public Cloud", "SaaS", "AI", "Licensing", "Data Center"}


def test_the_stored_spend_equals_the_generated_file_to_the_last_digit(demo, source_rows):
    billed = sum((Decimal(r["BilledCost"]) for r in source_rows), Decimal(0))
    effective = sum((Decimal(r["EffectiveCost"]) for r in source_rows), Decimal(0))
    sums = DailySpend.objects.aggregate(
        billed=ExactSum("billed_cost"), effective=ExactSum("effective_cost")
    )
    # Every stored row, current or not, read back from the blocks.
    rows = rows_table(every=True, columns=["billed_cost", "effective_cost"]).to_pydict()

    assert SpendBlock.objects.aggregate(n=Sum("row_count"))["n"] == len(source_rows)
    assert sums["billed"] == billed and sums["effective"] == effective
    assert sum(rows["billed_cost"], Decimal(0)) == billed
    assert sum(rows["effective_cost"], Decimal(0)) == effective


def test_the_open_breach_is_the_assistant_spend_of_last_month(demo, source_rows):
    expected = sum(
        (
            Decimal(r["EffectiveCost"])
            for r in source_rows
            if r["ChargePeriodStart"].startswith("2026-05")
            and r["Tags"]
            and json.loads(r["Tags"]).get("product") == "assistant"
        ),
        Decimal(0),
    )
    breach = Breach.objects.get(status="open")

    assert breach.guardrail.name == "AI Assistant monthly budget"
    assert breach.period_start == datetime.date(2026, 5, 1)
    assert breach.observed_value == expected.quantize(Decimal("0.01"))
    assert breach.threshold < breach.observed_value


def test_the_demo_has_decisions_waiting_and_decided_with_one_chosen_option(demo):
    statuses = Counter(Decision.objects.values_list("status", flat=True))
    decided = Decision.objects.get(status="decided")

    assert statuses == {"decided": 1, "in_review": 1, "proposed": 2, "deferred": 1}
    assert decided.chosen_option.title == "OpenAI GPT-4o"
    assert all(2 <= d.options.count() <= 3 for d in Decision.objects.all())
    overdue = [a.title for a in Action.objects.all() if a.is_overdue(today=TODAY)]
    assert overdue == [
        "Tag the untagged data transfer with product owners",
        "Cap assistant context length at 8k tokens",
    ]


def test_a_saas_renewal_falls_within_the_next_90_days(demo):
    soon = Commitment.objects.filter(
        renewal_date__range=(TODAY, TODAY + datetime.timedelta(days=90))
    )

    assert [(c.name, c.category) for c in soon] == [
        ("Salesforce Sales and Service Cloud", "saas_subscription")
    ]
    assert set(Commitment.objects.values_list("category", flat=True)) >= {
        "savings_plan", "saas_subscription", "ai_platform", "dc_refresh", "licence"
    }  # fmt: skip


def test_loading_the_demo_twice_duplicates_nothing(demo):
    before = _counts()

    again = demo_organisation_load(rows=ROWS, today=TODAY)

    assert _counts() == before
    assert again.spend_loaded_now is False
    assert Delivery.objects.count() == 1


def test_the_command_prints_a_short_summary(capsys, monkeypatch):
    monkeypatch.setattr("reports.demo.DEMO_ROWS", ROWS)
    call_command("load_demo", "--rows", str(ROWS))

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Demo organisation ready: 5 priorities, 7 scopes, 5 decisions,")
    assert f"{ROWS} spend rows over 13 months (loaded now)." in lines[0]
    assert lines[1] == (
        "Sign in as executive, practitioner, finance, admin with the password 'finops-demo'."
    )
