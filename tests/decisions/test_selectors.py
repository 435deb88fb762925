"""Governance reads: open decisions, open breaches and overdue actions, whole and per scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from decisions.models import Action, Breach, Decision, Forum, Guardrail, Option
from decisions.selectors import actions_overdue, breaches_open, decisions_waiting
from portfolio.models import Commitment
from tests.factories import scope_with_rules_create, technology_category_get_or_create

TODAY = dt.date(2026, 12, 4)
DAY = dt.timedelta(days=1)


def _person(username: str, first: str, last: str):
    return get_user_model().objects.create_user(
        username=username, first_name=first, last_name=last, password="x"
    )


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 6, tzinfo=dt.UTC)


def _options(decision: Decision, *options: tuple[str, str, str]) -> None:
    for title, run_rate, currency in options:
        Option.objects.create(
            decision=decision,
            title=title,
            run_rate_monthly=Decimal(run_rate),
            tco_amount=Decimal(run_rate) * 36,
            currency=currency,
        )


def governance_records_create(today: dt.date = TODAY) -> SimpleNamespace:
    """A small governance register around ``today``: what the briefs must show and leave out."""
    people = SimpleNamespace(
        erin=_person("erin", "Erin", "Walsh"),
        frank=_person("frank", "Frank", "Osei"),
        sam=_person("sam", "Sam", "Patel"),
        lee=_person("lee", "Lee", "Novak"),
    )
    ai = scope_with_rules_create("AI assistant", ("technology_category", "equals", "ai"))
    software = scope_with_rules_create("Enterprise software", ("provider_name", "equals", "SAP"))
    board = Forum.objects.create(name="Technology Investment Board", slug="tib")
    council = Forum.objects.create(name="AI Council", slug="ai-council")

    savings = Decision.objects.create(
        title="Raise the savings plan", kind="commitment", status="proposed", forum=board,
        decider=people.frank, due_on=today - 12 * DAY, scope=software,
    )  # fmt: skip
    _options(savings, ("Commit more", "43800", "USD"), ("Stay on demand", "60800", "USD"))
    model = Decision.objects.create(
        title="Choose the assistant model", kind="vendor", status="in_review", forum=council,
        decider=people.erin, due_on=today + 21 * DAY, scope=ai,
    )  # fmt: skip
    # As text, "100000.00" sorts before "9000.00": the cheapest must be chosen by value.
    _options(
        model,
        ("Claude", "100000.00", "USD"),
        ("GPT", "65000.50", "USD"),
        ("Self-hosted", "9000.00", "USD"),
    )
    Decision.objects.create(title="Build or buy search", kind="build_vs_buy", status="deferred")
    decided = Decision.objects.create(
        title="Pick the fallback model", kind="vendor", status="decided", scope=ai,
        due_on=today - 40 * DAY, decided_on=today - 35 * DAY,
    )  # fmt: skip
    _options(decided, ("Claude", "1.00", "USD"))
    vendor = Decision.objects.create(
        title="Pick a CRM vendor", kind="vendor", status="proposed", forum=board,
        decider=people.erin, due_on=today + 45 * DAY, scope=software,
    )  # fmt: skip
    _options(vendor, ("Dynamics", "10.00", "USD"), ("SAP", "5.00", "EUR"))

    budget = Guardrail.objects.create(
        name="AI assistant monthly budget", kind="budget", threshold=Decimal("223000"),
        currency="USD", scope=ai, owner=people.sam,
    )  # fmt: skip
    Breach.objects.create(
        guardrail=budget, period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 12, 1),
        observed_value=Decimal("262784.78"), threshold=Decimal("223000"), currency="USD",
        detected_at=_at(dt.date(2026, 12, 1)),
    )  # fmt: skip
    floor = Guardrail.objects.create(
        name="Compute coverage floor", kind="commitment_coverage_floor", threshold=Decimal("70"),
        technology_category=technology_category_get_or_create("public-cloud"), owner=people.lee,
    )  # fmt: skip
    Breach.objects.create(
        guardrail=floor, period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 11, 1),
        observed_value=Decimal("64.20"), threshold=Decimal("70"), owner=people.frank,
        status="acknowledged", detected_at=_at(dt.date(2026, 11, 1)),
    )  # fmt: skip
    quota = Guardrail.objects.create(
        name="OpenAI token quota", kind="quota", threshold=Decimal("40000000000"),
        quota_unit="Tokens", scope=ai, owner=people.sam,
    )  # fmt: skip
    Breach.objects.create(
        guardrail=quota, period_start=dt.date(2026, 9, 1), period_end=dt.date(2026, 10, 1),
        observed_value=Decimal("41250000000"), threshold=Decimal("40000000000"),
        status="resolved", detected_at=_at(dt.date(2026, 10, 1)),
        resolved_at=_at(dt.date(2026, 10, 5)),
    )  # fmt: skip

    for title, owner, due, status, scope in (
        ("Tag the untagged data transfer", people.lee, -20, "open", None),
        ("Cap assistant context", people.sam, -6, "in_progress", ai),
        ("Publish the forecast", people.frank, -30, "done", software),
        ("Send cost per conversation", people.sam, 5, "open", ai),
        ("Old idea", people.lee, -40, "cancelled", None),
        ("Review seat usage", people.erin, -1, "open", software),
        ("Chase contract redlines", None, -3, "open", software),
        ("Due today", people.lee, 0, "open", ai),
    ):
        Action.objects.create(
            title=title, owner=owner, due_on=today + due * DAY, status=status, scope=scope,
            completed_on=today + due * DAY if status == "done" else None,
        )  # fmt: skip

    for name, provider, total, notice, renewal, status, scope in (
        ("Salesforce Sales Cloud", "Salesforce", "2280000.00", 30, 60, "active", software),
        ("Oracle support", "Oracle Licensing", "1080000.00", -3, 90, "active", software),
        ("Equinix colocation", "Equinix", "5760000.00", 91, 91, "active", None),
        ("Old storage contract", "NetApp", "10.00", 5, 10, "expired", None),
        ("OpenAI enterprise", "OpenAI", "1500000.00", 0, 120, "renewing", ai),
    ):
        Commitment.objects.create(
            name=name, category="other", provider_name=provider, status=status, scope=scope,
            start_date=today - 700 * DAY, end_date=today + renewal * DAY,
            total_amount=Decimal(total), notice_date=today + notice * DAY,
            renewal_date=today + renewal * DAY, auto_renews=name.startswith("Salesforce"),
        )  # fmt: skip
    return SimpleNamespace(people=people, ai=ai, software=software)


@pytest.fixture
def register(db) -> SimpleNamespace:
    return governance_records_create()


def test_open_decisions_come_soonest_due_first_with_their_cheapest_option(register):
    waiting = decisions_waiting()

    board, council = "Technology Investment Board", "AI Council"
    assert [(d.title, d.status, d.due_on, d.options_count) for d in waiting] == [
        ("Raise the savings plan", "Proposed", dt.date(2026, 11, 22), 2),
        ("Choose the assistant model", "In review", dt.date(2026, 12, 25), 3),
        ("Pick a CRM vendor", "Proposed", dt.date(2027, 1, 18), 2),
        ("Build or buy search", "Deferred", None, 0),
    ]
    assert [(d.forum, d.decider) for d in waiting] == [
        (board, "Frank Osei"),
        (council, "Erin Walsh"),
        (board, "Erin Walsh"),
        ("", ""),
    ]
    assert [(d.cheapest_option, d.cheapest_run_rate, d.cheapest_currency) for d in waiting] == [
        ("Commit more", Decimal("43800"), "USD"),
        ("Self-hosted", Decimal("9000.00"), "USD"),
        (None, None, ""),
        (None, None, ""),
    ]


def test_open_decisions_of_a_scope_are_only_its_own(register):
    assert [d.title for d in decisions_waiting(scope=register.ai)] == ["Choose the assistant model"]


def test_open_and_acknowledged_breaches_show_observed_against_threshold(register):
    breaches = breaches_open()

    assert [
        (
            b.guardrail,
            b.scope,
            b.observed_value,
            b.threshold,
            b.measure,
            b.currency,
            b.is_floor,
            b.owner,
            b.status,
        )
        for b in breaches
    ] == [
        (
            "AI assistant monthly budget",
            "AI assistant",
            Decimal("262784.78"),
            Decimal("223000"),
            "money",
            "USD",
            False,
            "Sam Patel",
            "Open",
        ),
        (
            "Compute coverage floor",
            "All Public Cloud",
            Decimal("64.20"),
            Decimal("70"),
            "percent",
            "",
            True,
            "Frank Osei",
            "Acknowledged",
        ),
    ]
    assert [b.guardrail for b in breaches_open(scope=register.software)] == []


def test_overdue_actions_are_open_ones_due_before_today_longest_overdue_first(register):
    overdue = actions_overdue(today=TODAY)

    assert [(a.title, a.owner, a.due_on, a.days_overdue) for a in overdue] == [
        ("Tag the untagged data transfer", "Lee Novak", dt.date(2026, 11, 14), 20),
        ("Cap assistant context", "Sam Patel", dt.date(2026, 11, 28), 6),
        ("Chase contract redlines", "", dt.date(2026, 12, 1), 3),
        ("Review seat usage", "Erin Walsh", dt.date(2026, 12, 3), 1),
    ]
    assert [a.title for a in actions_overdue(today=TODAY, scope=register.software)] == [
        "Chase contract redlines",
        "Review seat usage",
    ]
