"""Brief pages: sign-in required, key figures shown formatted, unknown scopes are not found."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from decimal import Decimal

import pytest
from django.test import Client

from portfolio.models import Delivery
from tests.factories import scope_with_rules_create, spend_row_create

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
    from tests.factories import technology_category_get_or_create

    for slug, name in (("public-cloud", "Public Cloud"), ("ai", "AI"), ("saas", "SaaS")):
        technology_category_get_or_create(slug, name=name)
    for month, currency, provider, service, category, effective, billed in ROWS:
        spend_row_create(
            charge_period_start=dt.date.fromisoformat(f"{month}-01"),
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
    assert "As of March 2025, the latest month with spend in the data" in text
    # 1339.5728001 this month; 1075.105 last month; 2484.6778001 over twelve months.
    assert (
        "In March 2025 the technology portfolio cost USD 1,339.57, up USD 264.47 (+24.6%) on "
        "February. Over the last twelve months it cost USD 2,484.68. Public Cloud is the largest "
        "technology category, at 94.6% of that. 100.0% of this month's spend is not yet "
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
    assert "USD 1,339.57 this month (100.0% of spend); USD 2,484.68 over the last twelve" in text


def test_portfolio_brief_has_the_chart_and_a_data_freshness_footer(spend, executive):
    response = _client(executive).get("/briefs/portfolio/")

    html = response.content.decode()
    assert '<script src="/static/vendor/plotly/plotly.min.js"></script>' in html
    assert 'id="trend-usd"' in html and 'id="trend-eur"' in html
    assert "cdn" not in html.lower()
    assert (
        "Latest billing data loaded 2 April 2025, 06:30 UTC: 11 rows, 1 data warning, "
        "FOCUS version 1.2. Charges cover 1 June 2024 to 1 March 2025."
    ) in _text(response)


def test_plotly_is_served_from_our_own_static_files(executive):
    response = _client(executive).get("/static/vendor/plotly/plotly.min.js")

    assert response.status_code == 200
    assert b"plotly.js" in b"".join(response.streaming_content)[:2000]


def test_a_month_can_be_chosen_and_a_bad_month_is_explained(spend, executive):
    client = _client(executive)

    text = _text(client.get("/briefs/portfolio/?month=2025-02"))
    assert "As of February 2025 Print" in text
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
        "This scope is 4.1% of all technology spend billed in USD this month "
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
