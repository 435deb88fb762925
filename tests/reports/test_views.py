"""Brief pages: sign-in required, key figures shown formatted, unknown scopes are not found."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from decimal import Decimal

import pytest
from django.test import Client

from portfolio.models import Delivery
from reports import briefs
from tests.decisions.test_selectors import TODAY as GOVERNANCE_TODAY
from tests.decisions.test_selectors import governance_records_create
from tests.factories import (
    scope_with_rules_create,
    spend_row_create,
    technology_category_get_or_create,
)

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
    ("2024-06", "USD", "AWS", "Amazon EC2", "public-cloud", "70.00", "70.00"),
    ("2025-03", "EUR", "SAP", "SAP Concur", "saas", "40.00", "40.00"),
]


@pytest.fixture
def spend(db):
    for slug, name in (("public-cloud", "Public Cloud"), ("ai", "AI"), ("saas", "SaaS")):
        technology_category_get_or_create(slug, name=name)
    for month, currency, provider, service, category, effective, billed in ROWS:
        first = dt.date.fromisoformat(f"{month}-01")
        following = (first + dt.timedelta(days=32)).replace(day=1)
        # Each row charges a whole month, so every month of the data is complete.
        spend_row_create(
            charge_period_start=first,
            charge_period_end=dt.datetime(following.year, following.month, 1, tzinfo=dt.UTC),
            billing_currency=currency,
            billing_account_id=f"ba-{currency}",
            provider_name=provider,
            service_name=service,
            category=category,
            cost=effective,
            billed_cost=Decimal(billed),
        )
    Delivery.objects.create(
        status=Delivery.Status.LOADED,
        focus_version="1.2",
        rows_loaded=11,
        warnings=[{"code": "w"}],
        finished_at=dt.datetime(2025, 4, 2, 6, 30, tzinfo=dt.UTC),
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    """The page's text with tags removed and white space collapsed, as a reader sees it."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    text = html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))
    return re.sub(r" ([,.;)])", r"\1", text)


@pytest.mark.parametrize("path", ["/briefs/portfolio/", "/briefs/scopes/anything/"])
def test_briefs_redirect_anonymous_readers_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_portfolio_brief_shows_the_headline_figures_formatted(spend, executive):
    response = _client(executive).get("/briefs/portfolio/")

    assert response.status_code == 200
    text = _text(response)
    assert (
        "As of March 2025, the latest month with spend in the data. "
        "Billing data from 1 June 2024 to 31 March 2025."
    ) in text
    # 1339.5728001 this month; 1075.105 last month; 2484.6778001 over twelve months.
    assert (
        "In March 2025 the technology portfolio cost USD 1,339.57, up USD 264.47 (+24.6%) on "
        "February. Over the twelve months to March it cost USD 2,484.68. Public Cloud is the "
        "largest technology category, at 94.6% of that. 100.0% of March's spend is not yet "
        "assigned to a scope."
    ) in text
    assert "This month March 2025 USD 1,339.57 Billed USD 1,406.00" in text
    assert "Last month February 2025 USD 1,075.10 Change +264.47 (+24.6%)" in text
    assert "Last 12 months Apr 2024 to Mar 2025 USD 2,484.68 Billed USD 2,551.11" in text
    assert "Spend billed in USD" in text and "Spend billed in EUR" in text
    assert (
        "In March 2025 the technology portfolio cost EUR 40.00, up EUR 40.00 on February." in text
    )


def test_portfolio_brief_tables_show_categories_providers_and_movers(spend, executive):
    text = _text(_client(executive).get("/briefs/portfolio/"))

    assert "Public Cloud 1,254.57 93.7% 2,349.68 94.6%" in text
    assert "AI 55.00 4.1% 75.00 3.0%" in text
    assert "Total 1,339.57 100.0% 2,484.68 100.0%" in text
    assert "AWS 1,254.57 93.7% 2,349.68 94.6%" in text
    assert (
        "Rising Amazon EC2 AWS 1,000.10 1,234.57 +234.47 +23.4% "
        "GPT API OpenAI 20.00 50.00 +30.00 +150.0% "
        "Claude API Anthropic 0.00 5.00 +5.00 new "
        "Falling Amazon S3 AWS 25.00 20.00 -5.00 -20.0%"
    ) in text
    assert "USD 1,339.57 in March 2025 (100.0% of spend); USD 2,484.68 over the last twelve" in text
    assert "Technology category Mar 2025 Share Last 12 months Share" in text


def test_portfolio_brief_has_the_chart_and_a_data_freshness_footer(spend, executive):
    response = _client(executive).get("/briefs/portfolio/")

    html = response.content.decode()
    assert '<script src="/static/vendor/plotly/plotly.min.js"></script>' in html
    assert 'id="trend-usd"' in html and 'id="trend-eur"' in html
    assert "cdn" not in html.lower()
    assert (
        "Latest billing data loaded 2 April 2025, 06:30 UTC: 11 rows, 1 data warning, "
        "FOCUS version 1.2. Charges cover 1 June 2024 to 31 March 2025."
    ) in _text(response)


def test_plotly_is_served_from_our_own_static_files(executive):
    response = _client(executive).get("/static/vendor/plotly/plotly.min.js")

    assert response.status_code == 200
    assert b"plotly.js" in b"".join(response.streaming_content)[:2000]


def test_a_month_can_be_chosen_and_a_bad_month_is_explained(spend, executive):
    client = _client(executive)

    text = _text(client.get("/briefs/portfolio/?month=2025-02"))
    assert "As of February 2025. Billing data from 1 June 2024 to 31 March 2025. Print" in text
    assert "In February 2025 the technology portfolio cost USD 1,075.10" in text

    response = client.get("/briefs/portfolio/?month=March")
    assert response.status_code == 400
    assert "The month 'March' is not understood; give it as YYYY-MM, e.g. 2025-03." in _text(
        response
    )


def test_scope_brief_shows_the_scope_figures_and_its_share(spend, executive):
    scope_with_rules_create(
        "AI assistant", ("technology_category", "equals", "ai"), description="The AI launch."
    )

    response = _client(executive).get("/briefs/scopes/ai-assistant/")

    assert response.status_code == 200
    text = _text(response)
    assert "Scope brief AI assistant As of March 2025" in text
    assert "The AI launch." in text
    assert "In March 2025 this scope cost USD 55.00, up USD 35.00 (+175.0%) on February." in text
    assert (
        "This scope is 4.1% of all technology spend billed in USD in March 2025 "
        "(USD 1,339.57 in all) and 3.0% over the last twelve months (USD 2,484.68 in all)."
    ) in text
    assert "Spend billed in EUR" not in text


def test_any_signed_in_user_may_read_a_scope_brief(spend, outsider):
    scope_with_rules_create("Core platform", ("provider_name", "equals", "AWS"))

    response = _client(outsider).get("/briefs/scopes/core-platform/")

    assert response.status_code == 200
    assert "In March 2025 this scope cost USD 1,254.57" in _text(response)


def test_an_unknown_scope_is_not_found(executive):
    response = _client(executive).get("/briefs/scopes/no-such-scope/")

    assert response.status_code == 404


def test_navigation_lists_active_scopes_and_signs_out_with_a_post_form(spend, executive):
    scope_with_rules_create("AI assistant", ("technology_category", "equals", "ai"))
    scope_with_rules_create("Retired", ("provider_name", "equals", "x"), is_active=False)

    html = _client(executive).get("/briefs/portfolio/").content.decode()

    assert '<a href="/briefs/scopes/ai-assistant/">AI assistant</a>' in html
    assert "/briefs/scopes/retired/" not in html
    assert '<form method="post" action="/accounts/logout/">' in html
    assert 'href="/admin/"' not in html


def test_a_brief_with_no_spend_says_so(executive):
    text = _text(_client(executive).get("/briefs/portfolio/"))

    assert "No spend has been loaded yet, so there is nothing to report." in text
    assert "No billing data delivery has been loaded yet." in text


@pytest.fixture
def frozen_today(monkeypatch):
    """The governance register is read as of a fixed day, so the page's dates are exact."""
    monkeypatch.setattr(briefs.timezone, "localdate", lambda: GOVERNANCE_TODAY)
    return GOVERNANCE_TODAY


@pytest.fixture
def partial_month(db):
    """October and November 2026 complete, December 2026 only to the 4th, as on 4 December."""
    technology_category_get_or_create("public-cloud", name="Public Cloud")
    technology_category_get_or_create("saas", name="SaaS")
    for start, end, service, category, cost in (
        ("2026-10-01", "2026-11-01", "Slack Enterprise", "saas", "300.00"),
        ("2026-10-15", "2026-10-16", "Amazon EC2", "public-cloud", "1000.00"),
        ("2026-11-01", "2026-12-01", "Slack Enterprise", "saas", "300.00"),
        ("2026-11-02", "2026-11-03", "Amazon EC2", "public-cloud", "200.00"),
        ("2026-11-20", "2026-11-21", "Amazon EC2", "public-cloud", "1500.00"),
        ("2026-12-01", "2027-01-01", "Slack Enterprise", "saas", "300.00"),
        ("2026-12-04", "2026-12-05", "Amazon EC2", "public-cloud", "150.00"),
    ):
        spend_row_create(
            charge_period_start=start,
            charge_period_end=dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC),
            provider_name="Slack" if category == "saas" else "AWS",
            service_name=service,
            category=category,
            billing_account_id=f"ba-{category}",
            cost=cost,
        )


def test_an_incomplete_month_is_shown_to_date_beside_the_last_complete_month(
    partial_month, frozen_today, executive
):
    text = _text(_client(executive).get("/briefs/portfolio/"))

    # November: 300 + 200 + 1,500; October: 300 + 1,000; December 1-4: 300 + 150 against
    # 1-4 November: 300 + 200.
    assert (
        "As of November 2026, the latest complete month; December so far (1\u20134 December "
        "2026) is shown apart. Billing data from 1 October 2026 to 4 December 2026."
    ) in text
    assert (
        "In November 2026, the latest complete month, the technology portfolio cost "
        "USD 2,000.00, up USD 700.00 (+53.8%) on October. Over the twelve months to November it "
        "cost USD 3,300.00."
    ) in text
    assert (
        "December so far (1\u20134 December 2026, month to date) : USD 450.00, down USD 50.00 "
        "(-10.0%) on the same days of November (1\u20134 November 2026: USD 500.00). The month "
        "is not over, so the figures below are for November."
    ) in text
    assert "Latest complete month November 2026 USD 2,000.00" in text
    assert "Month before October 2026 USD 1,300.00 Change +700.00 (+53.8%)" in text
    assert "Public Cloud 1,700.00 85.0% 2,700.00 81.8%" in text
    assert "Biggest changes from October to November" in text
    assert "Rising Amazon EC2 AWS 1,000.00 1,700.00 +700.00 +70.0%" in text
    assert "December only to 4 December, drawn faint" in text


def test_the_trend_chart_draws_the_incomplete_month_faint_and_labels_its_last_day(
    partial_month, frozen_today, executive
):
    html = _client(executive).get("/briefs/portfolio/").content.decode()

    assert '"text":"to 4 Dec"' in html
    assert '"opacity":[1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,0.4]' in html


def test_the_portfolio_brief_shows_what_waits_for_a_decision_or_an_action(
    spend, frozen_today, executive
):
    governance_records_create(GOVERNANCE_TODAY)

    text = _text(_client(executive).get("/briefs/portfolio/"))

    assert (
        "Needs attention: 4 decisions waiting (1 past due) 2 open guardrail breaches "
        "4 overdue actions 3 commitments with dates in the next 90 days"
    ) in text
    assert (
        "Decisions and follow-up as of 4 December 2026 "
        "Decisions waiting (4 open, 1 past due; soonest due first) "
        "Decision Forum and decider Due Options Cheapest run-rate "
        "Raise the savings plan Proposed Technology Investment Board Frank Osei "
        "22 Nov 2026 past due 2 USD 43,800.00 a month "
        "Choose the assistant model In review AI Council Erin Walsh 25 Dec 2026 3 "
        "USD 9,000.00 a month "
        "Pick a CRM vendor Proposed Technology Investment Board Erin Walsh 18 Jan 2027 2 \u2014 "
        "Build or buy search Deferred No forum No decider named Not set 0 \u2014"
    ) in text
    assert (
        "Open guardrail breaches (2) Guardrail Applies to Observed Threshold Owner "
        "AI assistant monthly budget Nov 2026 AI assistant USD 262,784.78 USD 223,000.00 max "
        "Sam Patel "
        "Compute coverage floor Oct 2026 All Public Cloud 64.2% 70.0% min Frank Osei"
    ) in text
    assert (
        "Overdue actions (4 overdue; the 3 longest overdue) Action Owner Was due Days late "
        "Tag the untagged data transfer Lee Novak 14 Nov 2026 20 "
        "Cap assistant context Sam Patel 28 Nov 2026 6 "
        "Chase contract redlines No owner named 1 Dec 2026 3"
    ) in text
    assert (
        "Commitments with dates in the next 90 days (3; nearest first) "
        "Commitment Provider Term value Notice by Renews "
        "OpenAI enterprise OpenAI USD 1,500,000.00 4 Dec 2026 3 Apr 2027 "
        "Salesforce Sales Cloud Salesforce USD 2,280,000.00 3 Jan 2027 2 Feb 2027 auto "
        "Oracle support Oracle Licensing USD 1,080,000.00 1 Dec 2026 4 Mar 2027"
    ) in text


def test_the_scope_brief_shows_the_governance_of_its_scope_only(spend, frozen_today, executive):
    register = governance_records_create(GOVERNANCE_TODAY)

    text = _text(_client(executive).get(f"/briefs/scopes/{register.software.slug}/"))

    assert (
        "Needs attention: 2 decisions waiting (1 past due) 2 overdue actions "
        "2 commitments with dates in the next 90 days"
    ) in text
    assert "Decisions and follow-up as of 4 December 2026, for this scope" in text
    assert "Choose the assistant model" not in text
    assert "Open guardrail breaches: none." in text
    assert (
        "Overdue actions (2 overdue) Action Owner Was due Days late "
        "Chase contract redlines No owner named 1 Dec 2026 3 "
        "Review seat usage Erin Walsh 3 Dec 2026 1"
    ) in text
    assert "Commitments with dates in the next 90 days (2; nearest first)" in text


def test_with_nothing_waiting_the_brief_says_so_in_one_line_each(spend, frozen_today, executive):
    text = _text(_client(executive).get("/briefs/portfolio/"))

    assert "Needs attention" not in text
    assert (
        "Decisions and follow-up as of 4 December 2026 Decisions waiting: none open. "
        "Open guardrail breaches: none. Overdue actions: none. Commitments: no notice or "
        "renewal dates in the next 90 days."
    ) in text


@pytest.mark.django_db
def test_only_practitioners_see_the_link_to_data_deliveries(client, executive, practitioner):
    client.force_login(practitioner)
    assert 'href="/ingests/"' in client.get("/briefs/portfolio/").content.decode()

    client.force_login(executive)
    assert 'href="/ingests/"' not in client.get("/briefs/portfolio/").content.decode()
