"""The portfolio brief in a real headless Chromium: sign in, chart drawn, nothing fetched from
elsewhere, and the printed PDF fits on three A4 pages, with two currencies, a month in progress
and a full governance register."""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reports import briefs
from tests.decisions.test_selectors import TODAY as GOVERNANCE_TODAY
from tests.decisions.test_selectors import governance_records_create
from tests.factories import spend_row_create, technology_category_get_or_create

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = [pytest.mark.browser]

SERVICES = [
    ("AWS", "Amazon EC2", "public-cloud", "42000.1234"),
    ("AWS", "Amazon S3", "public-cloud", "9000.50"),
    ("Microsoft", "Azure Virtual Machines", "public-cloud", "18000"),
    ("Google Cloud", "BigQuery", "public-cloud", "7000"),
    ("OpenAI", "GPT API", "ai", "6000"),
    ("Anthropic", "Claude API", "ai", "4000"),
    ("Salesforce", "Sales Cloud", "saas", "15000"),
    ("Atlassian", "Jira Cloud", "saas", "3000"),
    ("Slack", "Slack Enterprise", "saas", "2500"),
    ("Oracle", "Database Enterprise", "licensing", "11000"),
    ("Equinix", "Colocation", "data-center", "8000"),
]
CATEGORIES = {
    "public-cloud": "Public Cloud",
    "ai": "AI",
    "saas": "SaaS",
    "licensing": "Licensing",
    "data-center": "Data Center",
}


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed; the browser tests need Debian's chromium package."
        if os.environ.get("FINOPS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _fourteen_months_of_spend() -> Decimal:
    """Rows for fourteen whole months to March 2025 in two currencies, and April 2025 to the
    4th; returns March's USD total, the headline of a brief whose latest month is incomplete."""
    for slug, name in CATEGORIES.items():
        technology_category_get_or_create(slug, name=name)
    march = Decimal(0)
    for n in range(15):
        month = dt.date(2024 + (n + 1) // 12, (n + 1) % 12 + 1, 1)
        following = dt.date(2024 + (n + 2) // 12, (n + 2) % 12 + 1, 1)
        # April 2025 is in progress: its charges run from the 1st to the 4th.
        end = month + dt.timedelta(days=4) if n == 14 else following
        for provider, service, category, base in SERVICES:
            cost = Decimal(base) * (1 + Decimal(n) / 50)
            spend_row_create(
                charge_period_start=month,
                charge_period_end=_utc(end),
                provider_name=provider,
                service_name=service,
                category=category,
                billing_account_id=f"ba-{provider}",
                cost=cost,
            )
            march += cost if month == dt.date(2025, 3, 1) else 0
        spend_row_create(
            charge_period_start=month,
            charge_period_end=_utc(end),
            provider_name="SAP",
            service_name="SAP Concur",
            category="saas",
            billing_account_id="ba-sap",
            billing_currency="EUR",
            cost="3000",
        )
    return march


def _pdf_page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_an_executive_signs_in_and_prints_the_portfolio_brief_on_three_pages_at_most(
    transactional_db, live_server, executive, chromium_path, monkeypatch
):
    # Playwright's sync API runs an event loop in this thread; Django would refuse the ORM.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr(briefs.timezone, "localdate", lambda: GOVERNANCE_TODAY)
    march_usd = _fourteen_months_of_spend()
    governance_records_create(GOVERNANCE_TODAY)
    from playwright.sync_api import sync_playwright

    from finops_exec.exact import money_round

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))

            page.goto(f"{live_server.url}/briefs/portfolio/")
            assert urlsplit(page.url).path == "/accounts/login/"
            page.fill("#id_username", "erin.executive")
            page.fill("#id_password", "pass-erin.executive")
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/briefs/portfolio/")
            page.wait_for_selector("#trend-usd.js-plotly-plot .main-svg", timeout=15_000)
            page.wait_for_selector("#trend-eur.js-plotly-plot .main-svg", timeout=15_000)

            headline = page.inner_text(".kpi--main .kpi__value")
            bars = page.locator("#trend-usd .barlayer .trace").count()
            partial_label = page.text_content("#trend-usd .annotation-text")
            overflow = page.evaluate("document.documentElement.scrollWidth")
            pdf = page.pdf(format="A4", print_background=True)
            page.set_viewport_size({"width": 390, "height": 844})
            phone_width = page.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()

    assert headline == f"USD {money_round(march_usd):,}"
    assert bars == len(CATEGORIES)
    assert partial_label == "to 4 Apr"
    assert overflow <= 1280
    assert phone_width == 390
    assert f"{live_server.url}/static/vendor/plotly/plotly.min.js" in requests
    fetched = [urlsplit(url) for url in requests if not url.startswith(("data:", "blob:"))]
    outside = [url.geturl() for url in fetched if url.hostname not in LOCAL_HOSTS]
    assert outside == []
    assert pdf.startswith(b"%PDF")
    assert 2 <= _pdf_page_count(pdf) <= 3
