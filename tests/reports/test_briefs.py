"""The brief generators: every figure equals a Decimal sum over the rows the test stored."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from decisions.models import Decision
from portfolio.models import BillingSlice, Delivery
from reports.briefs import (
    OTHER_PROVIDERS,
    Amount,
    Period,
    portfolio_brief_build,
    scope_brief_build,
)
from tests.decisions.test_selectors import TODAY as GOVERNANCE_TODAY
from tests.decisions.test_selectors import governance_records_create
from tests.factories import (
    scope_with_rules_create,
    spend_row_create,
    technology_category_get_or_create,
)

# (month, currency, provider, service, category slug, effective cost, billed cost)
ROWS = [
    ("2025-03", "USD", "AWS", "Amazon EC2", "public-cloud", "1234.5678", "1300.00"),
    ("2025-03", "USD", "AWS", "Amazon S3", "public-cloud", "20.005", "20.005"),
    ("2025-03", "USD", "OpenAI", "GPT API", "ai", "50.00", "50.00"),
    ("2025-03", "USD", "Anthropic", "Claude API", "ai", "5.0000001", "5.00"),
    ("2025-03", "USD", "Salesforce", "Sales Cloud", "saas", "30.00", "31.00"),
    ("2025-02", "USD", "AWS", "Amazon EC2", "public-cloud", "1000.10", "1000.10"),
    ("2025-02", "USD", "AWS", "Amazon S3", "public-cloud", "25.005", "25.005"),
    ("2025-02", "USD", "OpenAI", "GPT API", "ai", "20.00", "20.00"),
    ("2025-02", "USD", "Salesforce", "Sales Cloud", "saas", "30.00", "30.00"),
    ("2025-02", "USD", "Slack", "Slack Enterprise", "saas", "12.00", "12.00"),
    ("2024-06", "USD", "AWS", "Amazon EC2", "public-cloud", "70.00", "70.00"),
    ("2024-03", "USD", "AWS", "Amazon EC2", "public-cloud", "60.00", "60.00"),
    ("2024-02", "USD", "AWS", "Amazon EC2", "public-cloud", "55.00", "55.00"),
    ("2025-03", "EUR", "SAP", "SAP Concur", "saas", "40.00", "40.00"),
    ("2025-01", "EUR", "SAP", "SAP Concur", "saas", "35.00", "35.00"),
]

CATEGORY_NAMES = {"public-cloud": "Public Cloud", "ai": "AI", "saas": "SaaS"}


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(f"{text}-01")


def _following(month: dt.date) -> dt.datetime:
    """Midnight UTC at the start of the month after ``month``."""
    first = (month + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime(first.year, first.month, 1, tzinfo=dt.UTC)


def _sum(rows, *, column: int = 5, **where) -> Decimal:
    """Independent sum over ROWS: ``where`` keys are month, currency, provider, category."""
    index = {"month": 0, "currency": 1, "provider": 2, "service": 3, "category": 4}
    total = Decimal(0)
    for row in rows:
        if all(row[index[key]] == value for key, value in where.items()):
            total += Decimal(row[column])
    return total


def _sum_months(rows, months, **where) -> Amount:
    effective = sum((_sum(rows, month=m, **where) for m in months), Decimal(0))
    billed = sum((_sum(rows, column=6, month=m, **where) for m in months), Decimal(0))
    return Amount(effective, billed)


TTM = [f"{2024 + (m + 3) // 12}-{(m + 3) % 12 + 1:02d}" for m in range(12)]  # 2024-04..2025-03


@pytest.fixture
def spend(db):
    for slug, name in CATEGORY_NAMES.items():
        technology_category_get_or_create(slug, name=name)
    for month, currency, provider, service, category, effective, billed in ROWS:
        # Each row charges a whole month, so every month of the data is complete.
        spend_row_create(
            charge_period_start=_month(month),
            charge_period_end=_following(_month(month)),
            billing_currency=currency,
            billing_account_id=f"ba-{currency}",
            provider_name=provider,
            service_name=service,
            category=category,
            cost=effective,
            billed_cost=Decimal(billed),
        )
    return ROWS


def test_ttm_months_are_the_twelve_months_ending_in_march_2025():
    assert TTM[0] == "2024-04" and TTM[-1] == "2025-03" and len(TTM) == 12


def test_this_month_is_the_latest_month_with_spend_and_totals_are_exact_per_currency(spend):
    brief = portfolio_brief_build()

    assert brief.period.this_month == dt.date(2025, 3, 1)
    assert brief.period.last_month == dt.date(2025, 2, 1)
    assert brief.period.as_of_given is False
    assert [section.currency for section in brief.currencies] == ["USD", "EUR"]
    for section in brief.currencies:
        c = section.currency
        assert section.this_month == _sum_months(spend, ["2025-03"], currency=c)
        assert section.last_month == _sum_months(spend, ["2025-02"], currency=c)
        assert section.ttm == _sum_months(spend, TTM, currency=c)
        change = _sum(spend, month="2025-03", currency=c) - _sum(spend, month="2025-02", currency=c)
        assert section.change == change

    usd = brief.currencies[0]
    assert usd.this_month.effective == Decimal("1339.5728001")
    assert usd.ttm.effective == Decimal("1339.5728001") + Decimal("1087.105") + Decimal("70.00")
    assert usd.change_ratio == Decimal("252.4678001") / Decimal("1087.105")
    eur = brief.currencies[1]
    assert (eur.this_month.effective, eur.last_month.effective) == (Decimal("40.00"), Decimal(0))
    assert eur.change_ratio is None


def test_as_of_sets_this_month_even_before_the_latest_month(spend):
    brief = portfolio_brief_build(as_of=dt.date(2025, 2, 17))

    assert brief.period.this_month == dt.date(2025, 2, 1)
    assert brief.period.as_of_given is True
    usd = brief.currencies[0]
    assert usd.this_month == _sum_months(spend, ["2025-02"], currency="USD")
    assert usd.last_month == Amount()
    ttm = [f"{2024 + (m + 2) // 12}-{(m + 2) % 12 + 1:02d}" for m in range(12)]
    assert usd.ttm == _sum_months(spend, ttm, currency="USD")


def test_categories_and_providers_carry_this_month_twelve_months_and_shares(spend):
    usd = portfolio_brief_build().currencies[0]
    total_month = _sum(spend, month="2025-03", currency="USD")
    total_ttm = _sum_months(spend, TTM, currency="USD").effective

    expected_categories = {
        CATEGORY_NAMES[slug]: (
            _sum(spend, month="2025-03", currency="USD", category=slug),
            _sum_months(spend, TTM, currency="USD", category=slug).effective,
        )
        for slug in CATEGORY_NAMES
    }
    assert [line.name for line in usd.categories] == ["Public Cloud", "AI", "SaaS"]
    for line in usd.categories:
        month, ttm = expected_categories[line.name]
        assert (line.this_month.effective, line.ttm.effective) == (month, ttm)
        assert line.share_this_month == month / total_month
        assert line.share_ttm == ttm / total_ttm

    assert [line.name for line in usd.providers] == [
        "AWS",
        "OpenAI",
        "Salesforce",
        "Slack",
        "Anthropic",
    ]
    aws = usd.providers[0]
    assert aws.this_month == _sum_months(spend, ["2025-03"], currency="USD", provider="AWS")
    assert aws.ttm == _sum_months(spend, TTM, currency="USD", provider="AWS")
    slack = usd.providers[3]
    assert (slack.this_month.effective, slack.share_this_month) == (Decimal(0), Decimal(0))


def test_trend_has_thirteen_months_by_category_with_empty_months_as_zero(spend):
    usd = portfolio_brief_build().currencies[0]

    assert [point.month for point in usd.trend] == [
        dt.date(2024 + (m + 2) // 12, (m + 2) % 12 + 1, 1) for m in range(13)
    ]
    assert usd.trend[0].total.effective == Decimal("60.00")
    assert usd.trend[0].by_category == {"Public Cloud": Decimal("60.00")}
    assert usd.trend[1].total == Amount() and usd.trend[1].by_category == {}
    march = usd.trend[-1]
    assert march.total == _sum_months(spend, ["2025-03"], currency="USD")
    assert march.by_category == {
        CATEGORY_NAMES[slug]: _sum(spend, month="2025-03", currency="USD", category=slug)
        for slug in CATEGORY_NAMES
    }
    assert usd.trend_categories == ["Public Cloud", "AI", "SaaS"]


def test_top_movers_rank_services_by_month_over_month_change(spend):
    usd = portfolio_brief_build().currencies[0]

    by_service: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    for month, currency, provider, service, *_rest, effective, _billed in spend:
        if currency == "USD" and month in ("2025-02", "2025-03"):
            by_service[(provider, service)][month == "2025-03"] += Decimal(effective)

    up = [(m.service_name, m.last_month, m.this_month, m.change) for m in usd.movers_up]
    assert up == [
        ("Amazon EC2", Decimal("1000.10"), Decimal("1234.5678"), Decimal("234.4678")),
        ("GPT API", Decimal("20.00"), Decimal("50.00"), Decimal("30.00")),
        ("Claude API", Decimal(0), Decimal("5.0000001"), Decimal("5.0000001")),
    ]
    for mover in usd.movers_up + usd.movers_down:
        last, this = by_service[(mover.provider_name, mover.service_name)]
        assert (mover.last_month, mover.this_month) == (last, this)
    assert [m.change_ratio for m in usd.movers_up] == [
        Decimal("234.4678") / Decimal("1000.10"),
        Decimal("1.5"),
        None,
    ]
    down = [(m.service_name, m.change, m.change_ratio) for m in usd.movers_down]
    assert down == [
        ("Slack Enterprise", Decimal("-12.00"), Decimal(-1)),
        ("Amazon S3", Decimal("-5.000"), Decimal("-5.000") / Decimal("25.005")),
    ]


def test_unallocated_is_the_spend_no_active_scope_claims_per_currency(spend):
    scope_with_rules_create("AI assistant", ("technology_category", "equals", "ai"))
    scope_with_rules_create("Core platform", ("provider_name", "equals", "AWS"))
    scope_with_rules_create("Retired", ("provider_name", "equals", "Slack"), is_active=False)

    brief = portfolio_brief_build()

    unclaimed = [row for row in spend if row[4] != "ai" and row[2] != "AWS"]
    for section in brief.currencies:
        c = section.currency
        assert section.unallocated.this_month == _sum_months(unclaimed, ["2025-03"], currency=c)
        assert section.unallocated.ttm == _sum_months(unclaimed, TTM, currency=c)
    usd, eur = brief.currencies
    assert usd.unallocated.this_month.effective == Decimal("30.00")
    assert usd.unallocated.ttm.effective == Decimal("72.00")
    assert usd.unallocated.share_this_month == Decimal("30.00") / usd.this_month.effective
    assert usd.unallocated.share_ttm == Decimal("72.00") / usd.ttm.effective
    assert (usd.unallocated.whole_this_month, usd.unallocated.whole_ttm) == (
        usd.this_month,
        usd.ttm,
    )
    assert (eur.unallocated.share_this_month, eur.unallocated.share_ttm) == (1, 1)


def test_with_no_scope_all_spend_is_unallocated(spend):
    usd = portfolio_brief_build().currencies[0]

    assert usd.unallocated.this_month == usd.this_month
    assert usd.unallocated.share_ttm == 1


def test_a_superseded_billing_slice_leaves_every_figure(spend):
    old = BillingSlice.objects.get(billing_account_id="ba-EUR", billing_period_start__month=1)
    old.is_current = False
    old.save()

    eur = portfolio_brief_build().currencies[1]

    assert eur.ttm.effective == Decimal("40.00")


def test_scope_brief_counts_only_the_scope_rows_and_its_share_of_the_portfolio(spend):
    scope = scope_with_rules_create(
        "Core platform", ("provider_name", "equals", "AWS"), description="Shared platform."
    )

    brief = scope_brief_build(scope=scope)

    assert brief.scope.name == "Core platform" and brief.rule_count == 1
    assert brief.period.this_month == dt.date(2025, 3, 1)
    assert [section.currency for section in brief.currencies] == ["USD"]
    usd = brief.currencies[0]
    assert usd.this_month == _sum_months(spend, ["2025-03"], currency="USD", provider="AWS")
    assert usd.ttm == _sum_months(spend, TTM, currency="USD", provider="AWS")
    assert [line.name for line in usd.providers] == ["AWS"]
    assert [m.service_name for m in usd.movers_up] == ["Amazon EC2"]
    assert [m.service_name for m in usd.movers_down] == ["Amazon S3"]
    share = usd.portfolio_share
    assert (share.this_month, share.ttm) == (usd.this_month, usd.ttm)
    assert share.whole_this_month == _sum_months(spend, ["2025-03"], currency="USD")
    assert share.whole_ttm == _sum_months(spend, TTM, currency="USD")
    assert share.share_this_month == usd.this_month.effective / share.whole_this_month.effective
    assert share.share_ttm == usd.ttm.effective / share.whole_ttm.effective
    assert usd.unallocated is None


def test_providers_beyond_the_limit_fold_into_one_line(db):
    for n in range(10):
        spend_row_create(
            provider_name=f"Provider {n}",
            cost=str(100 - n),
            charge_period_end=_following(_month("2025-03")),
        )

    providers = portfolio_brief_build().currencies[0].providers

    assert [line.name for line in providers] == [
        *(f"Provider {n}" for n in range(7)),
        OTHER_PROVIDERS,
    ]
    assert providers[-1].this_month.effective == Decimal(93 + 92 + 91)


def test_freshness_reports_the_last_loaded_delivery_and_charge_dates(spend):
    finished = dt.datetime(2025, 4, 2, 6, 30, tzinfo=dt.UTC)
    Delivery.objects.create(
        status=Delivery.Status.LOADED,
        focus_version="1.2",
        rows_loaded=15,
        warnings=[{"code": "a"}, {"code": "b"}],
        finished_at=finished,
    )
    Delivery.objects.create(status=Delivery.Status.REJECTED, finished_at=finished.replace(day=3))

    freshness = portfolio_brief_build().freshness

    assert (freshness.loaded_at, freshness.rows_loaded) == (finished, 15)
    assert (freshness.warnings_count, freshness.focus_version) == (2, "1.2")
    assert freshness.oldest_charge_date == dt.date(2024, 2, 1)
    assert freshness.newest_charge_date == dt.date(2025, 3, 31)


def test_a_brief_of_no_spend_is_empty(db):
    brief = portfolio_brief_build()

    assert (brief.period, brief.currencies) == (None, [])
    assert brief.freshness.delivery_id is None


# A month in progress: December 2026 has data for 1 to 4 December only. Rows are
# (provider, service, category slug, charge start, charge end, effective cost, billed cost);
# the Slack rows are monthly fees that span their whole month.
PARTIAL_ROWS = [
    ("Slack", "Slack Enterprise", "saas", "2026-10-01", "2026-11-01", "300.00", "310.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-10-02", "2026-10-03", "100.00", "100.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-10-20", "2026-10-21", "200.00", "200.00"),
    ("Slack", "Slack Enterprise", "saas", "2026-11-01", "2026-12-01", "300.00", "310.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-11-01", "2026-11-02", "50.00", "50.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-11-04T23:00", "2026-11-05", "70.00", "70.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-11-05", "2026-11-06", "80.00", "80.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-11-30", "2026-12-01", "400.00", "400.00"),
    ("OpenAI", "GPT API", "ai", "2026-11-03", "2026-11-04", "25.00", "25.00"),
    ("Slack", "Slack Enterprise", "saas", "2026-12-01", "2027-01-01", "300.00", "310.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-12-02", "2026-12-03", "60.00", "60.00"),
    ("AWS", "Amazon EC2", "public-cloud", "2026-12-04", "2026-12-05", "90.00", "90.00"),
    ("OpenAI", "GPT API", "ai", "2026-12-03", "2026-12-04", "40.00", "40.00"),
]


@pytest.fixture
def partial_spend(db):
    for slug, name in CATEGORY_NAMES.items():
        technology_category_get_or_create(slug, name=name)
    for provider, service, category, start, end, effective, billed in PARTIAL_ROWS:
        spend_row_create(
            charge_period_start=start,
            charge_period_end=dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC),
            billing_account_id=f"ba-{provider}",
            provider_name=provider,
            service_name=service,
            category=category,
            cost=effective,
            billed_cost=Decimal(billed),
        )
    return PARTIAL_ROWS


def _partial_sum(rows, *, first: str, last: str, column: int = 5, **where) -> Decimal:
    """Independent sum of the rows whose charge starts on a day from ``first`` to ``last``."""
    index = {"provider": 0, "category": 2}
    return sum(
        (
            Decimal(row[column])
            for row in rows
            if first <= row[3][:10] <= last
            and all(row[index[key]] == value for key, value in where.items())
        ),
        Decimal(0),
    )


def test_an_incomplete_latest_month_makes_the_brief_report_on_the_last_complete_month(
    partial_spend,
):
    brief = portfolio_brief_build(today=dt.date(2026, 12, 4))

    period = brief.period
    assert (period.this_month, period.last_month) == (dt.date(2026, 11, 1), dt.date(2026, 10, 1))
    assert (period.partial_month, period.partial_through) == (
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 4),
    )
    assert period.comparison_through == dt.date(2026, 11, 4)
    assert (period.ttm_start, period.trend_start) == (dt.date(2025, 12, 1), dt.date(2025, 12, 1))
    usd = brief.currencies[0]
    november = _partial_sum(partial_spend, first="2026-11-01", last="2026-11-30")
    october = _partial_sum(partial_spend, first="2026-10-01", last="2026-10-31")
    assert (november, october) == (Decimal("925.00"), Decimal("600.00"))
    assert usd.this_month == Amount(november, Decimal("935.00"))
    assert usd.last_month.effective == october
    assert (usd.change, usd.change_ratio) == (Decimal("325.00"), Decimal("325.00") / october)
    assert usd.ttm.effective == november + october
    assert [(line.name, line.this_month.effective) for line in usd.categories] == [
        ("Public Cloud", Decimal("600.00")),
        ("SaaS", Decimal("300.00")),
        ("AI", Decimal("25.00")),
    ]
    assert [(m.service_name, m.last_month, m.this_month) for m in usd.movers_up] == [
        ("Amazon EC2", Decimal("300.00"), Decimal("600.00")),
        ("GPT API", Decimal(0), Decimal("25.00")),
    ]
    assert usd.movers_down == []


def test_the_incomplete_month_is_compared_with_the_same_days_of_the_month_before(partial_spend):
    usd = portfolio_brief_build(today=dt.date(2026, 12, 4)).currencies[0]

    to_date = usd.month_to_date
    december = _partial_sum(partial_spend, first="2026-12-01", last="2026-12-04")
    same_days = _partial_sum(partial_spend, first="2026-11-01", last="2026-11-04")
    billed = _partial_sum(partial_spend, first="2026-12-01", last="2026-12-04", column=6)
    assert (december, same_days, billed) == (
        Decimal("490.00"),
        Decimal("445.00"),
        Decimal("500.00"),
    )
    assert to_date.amount == Amount(december, billed)
    assert to_date.same_days_before.effective == same_days
    assert to_date.change == Decimal("45.00")
    assert to_date.change_ratio == Decimal("45.00") / Decimal("445.00")


def test_the_trend_ends_with_the_incomplete_month_marked_with_its_last_day(partial_spend):
    usd = portfolio_brief_build(today=dt.date(2026, 12, 4)).currencies[0]

    assert len(usd.trend) == 13
    assert [point.through for point in usd.trend[-2:]] == [None, dt.date(2026, 12, 4)]
    assert usd.trend[-1].month == dt.date(2026, 12, 1)
    assert usd.trend[-1].by_category == {
        "Public Cloud": Decimal("150.00"),
        "SaaS": Decimal("300.00"),
        "AI": Decimal("40.00"),
    }
    assert usd.trend[-2].total.effective == Decimal("925.00")


def test_monthly_fees_do_not_make_an_incomplete_month_look_complete(partial_spend):
    freshness = portfolio_brief_build(today=dt.date(2026, 12, 4)).freshness

    assert freshness.oldest_charge_date == dt.date(2026, 10, 1)
    assert freshness.newest_charge_date == dt.date(2026, 12, 4)


def test_a_month_whose_data_reaches_its_last_day_is_complete(partial_spend):
    brief = portfolio_brief_build(as_of=dt.date(2026, 11, 1), today=dt.date(2026, 12, 4))

    assert brief.period.this_month == dt.date(2026, 11, 1)
    assert (brief.period.partial_month, brief.period.partial_through) == (None, None)
    assert brief.currencies[0].month_to_date is None
    assert brief.currencies[0].this_month.effective == Decimal("925.00")


def test_choosing_the_incomplete_month_gives_the_same_brief_as_the_default(partial_spend):
    chosen = portfolio_brief_build(as_of=dt.date(2026, 12, 1), today=dt.date(2026, 12, 4))
    default = portfolio_brief_build(today=dt.date(2026, 12, 4))

    assert chosen.period.this_month == dt.date(2026, 11, 1)
    assert chosen.period.as_of_given is True
    assert chosen.currencies == default.currencies


def test_the_same_days_stop_at_the_end_of_a_shorter_month():
    period = Period(
        this_month=dt.date(2027, 2, 1),
        last_month=dt.date(2027, 1, 1),
        ttm_start=dt.date(2026, 3, 1),
        trend_start=dt.date(2026, 3, 1),
        as_of_given=False,
        partial_month=dt.date(2027, 3, 1),
        partial_through=dt.date(2027, 3, 30),
    )

    assert period.comparison_through == dt.date(2027, 2, 28)
    assert period.ttm_end == dt.date(2027, 2, 28)


def test_a_scope_brief_shows_its_own_month_to_date(partial_spend):
    scope = scope_with_rules_create("Core platform", ("provider_name", "equals", "AWS"))

    usd = scope_brief_build(scope=scope, today=dt.date(2026, 12, 4)).currencies[0]

    assert usd.this_month.effective == Decimal("600.00")
    assert usd.month_to_date.amount.effective == Decimal("150.00")
    assert usd.month_to_date.same_days_before.effective == Decimal("120.00")
    assert usd.month_to_date.change_ratio == Decimal("30.00") / Decimal("120.00")
    assert usd.portfolio_share.share_this_month == Decimal("600.00") / Decimal("925.00")


@pytest.fixture
def register(db):
    return governance_records_create(GOVERNANCE_TODAY)


def test_the_portfolio_brief_carries_the_governance_register_as_of_today(register):
    governance = portfolio_brief_build(today=GOVERNANCE_TODAY).governance

    assert governance.today == GOVERNANCE_TODAY
    assert (governance.decisions_total, governance.decisions_overdue) == (4, 1)
    assert [d.title for d in governance.decisions] == [
        "Raise the savings plan",
        "Choose the assistant model",
        "Pick a CRM vendor",
        "Build or buy search",
    ]
    assert governance.breaches_total == 2
    assert [b.guardrail for b in governance.breaches] == [
        "AI assistant monthly budget",
        "Compute coverage floor",
    ]
    assert governance.actions_overdue_total == 4
    assert [(a.title, a.days_overdue) for a in governance.actions_overdue] == [
        ("Tag the untagged data transfer", 20),
        ("Cap assistant context", 6),
        ("Chase contract redlines", 3),
    ]
    assert governance.needs_attention is True


def test_commitments_with_a_notice_or_renewal_date_in_the_next_90_days_nearest_first(register):
    governance = portfolio_brief_build(today=GOVERNANCE_TODAY).governance

    renewals = [
        (r.name, r.provider_name, r.total_amount, r.deadline, r.deadline_kind, r.days_to_deadline)
        for r in governance.renewals
    ]
    # Equinix's dates are 91 days away and the NetApp contract has expired: both left out.
    assert renewals == [
        ("OpenAI enterprise", "OpenAI", Decimal("1500000.00"), dt.date(2026, 12, 4), "notice", 0),
        (
            "Salesforce Sales Cloud",
            "Salesforce",
            Decimal("2280000.00"),
            dt.date(2027, 1, 3),
            "notice",
            30,
        ),
        (
            "Oracle support",
            "Oracle Licensing",
            Decimal("1080000.00"),
            dt.date(2027, 3, 4),
            "renewal",
            90,
        ),
    ]
    assert (governance.renewals_total, governance.renewal_window_days) == (3, 90)
    assert [r.auto_renews for r in governance.renewals] == [False, True, False]


def test_a_scope_brief_carries_only_the_governance_of_its_scope(register):
    governance = scope_brief_build(scope=register.software, today=GOVERNANCE_TODAY).governance

    assert [d.title for d in governance.decisions] == [
        "Raise the savings plan",
        "Pick a CRM vendor",
    ]
    assert governance.breaches == [] and governance.breaches_total == 0
    assert [a.title for a in governance.actions_overdue] == [
        "Chase contract redlines",
        "Review seat usage",
    ]
    assert [r.name for r in governance.renewals] == ["Salesforce Sales Cloud", "Oracle support"]


def test_long_governance_lists_are_cut_to_the_most_pressing_with_the_totals_kept(register):
    for n in range(6):
        Decision.objects.create(
            title=f"Extra decision {n}",
            kind="vendor",
            due_on=GOVERNANCE_TODAY + dt.timedelta(days=n),
        )

    governance = portfolio_brief_build(today=GOVERNANCE_TODAY).governance

    assert governance.decisions_total == 10
    assert [d.title for d in governance.decisions] == [
        "Raise the savings plan",
        *(f"Extra decision {n}" for n in range(4)),
    ]


def test_with_nothing_waiting_the_governance_needs_no_attention(db):
    governance = portfolio_brief_build(today=GOVERNANCE_TODAY).governance

    assert governance.needs_attention is False
    assert (governance.decisions, governance.breaches, governance.renewals) == ([], [], [])


@pytest.mark.django_db
def test_a_charge_dated_in_a_future_year_does_not_take_over_the_brief():
    from tests.factories import spend_row_create

    for month, cost in (("2026-10-01", "100.00"), ("2026-11-01", "120.00")):
        start = dt.datetime.fromisoformat(month).replace(tzinfo=dt.UTC)
        spend_row_create(
            charge_period_start=start, charge_period_end=_following(start.date()), cost=cost
        )
    spend_row_create(charge_period_start="2099-01-01T00:00:00", cost="7.00")

    brief = portfolio_brief_build(today=dt.date(2026, 12, 4))

    assert brief.period.this_month == dt.date(2026, 11, 1)
    [usd] = brief.currencies
    assert usd.this_month == Amount(Decimal("120.00"), Decimal("120.00"))
    assert usd.last_month == Amount(Decimal("100.00"), Decimal("100.00"))


@pytest.mark.django_db
def test_the_footer_describes_the_latest_delivery_that_brought_rows_and_its_data_warnings():
    from django.utils import timezone

    from portfolio.services.ingest import delivery_create, delivery_ingest
    from tests.conftest import SAMPLES_DIR

    sample = SAMPLES_DIR / "synthetic-azure-focus1.2.csv"
    first = delivery_ingest(delivery=delivery_create(paths=[sample]))
    replay = delivery_ingest(delivery=delivery_create(paths=[sample]))
    assert (replay.duplicate_of_id, replay.rows_loaded) == (first.pk, 0)

    freshness = portfolio_brief_build().freshness
    assert (freshness.delivery_id, freshness.rows_loaded) == (first.pk, 100)

    notices = Delivery.objects.create(
        status=Delivery.Status.LOADED, rows_loaded=5, finished_at=timezone.now(),
        warnings=[{"code": "superseded_slice", "message": "replaced"},
                  {"code": "older_export_not_applied", "message": "kept aside"},
                  {"code": "precision_rounded", "message": "rounded"}],
    )  # fmt: skip
    freshness = portfolio_brief_build().freshness
    assert (freshness.delivery_id, freshness.warnings_count) == (notices.pk, 2)
