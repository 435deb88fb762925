"""Exchange rates: recorded, loaded from CSV, listed and created by API, used to convert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from finops_exec.api_errors import ApplicationError
from portfolio.models import FxRate
from portfolio.selectors import spend_current
from portfolio.services.fx import (
    converted_as_dict,
    fx_rate_create,
    fx_rate_in_force,
    pricing_currency_totals,
    spend_monthly_totals,
    totals_convert,
)
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import csv_rows

pytestmark = pytest.mark.django_db

URL = "/api/v1/fx-rates/"
MARCH = dt.date(2025, 3, 1)


def _ingest(path):
    return delivery_ingest(delivery=delivery_create(paths=[path]))


def test_b14_converted_with_a_recorded_rate_is_exact_and_says_which_rate():
    _ingest(BUGCASES_DIR / "B14-mixed-billing-currency.csv")
    fx_rate_create(
        date=dt.date(2025, 2, 28), from_currency="EUR", to_currency="USD",
        rate=Decimal("1.0850"), source="treasury",
    )  # fmt: skip
    totals = spend_monthly_totals(rows=spend_current(), cost="billed_cost")
    assert totals == {MARCH: {"EUR": Decimal("150.00"), "USD": Decimal("80.00")}}

    (march,) = totals_convert(totals=totals, to_currency="USD")

    assert march.total == Decimal("80.00") + Decimal("162.75")
    assert converted_as_dict([march]) == [
        {
            "month": "2025-03-01",
            "currency": "USD",
            "total": "242.75",
            "parts": [
                {"currency": "EUR", "amount": "150.00", "converted": "162.75",
                 "rate": "1.085", "rate_date": "2025-02-28"},
                {"currency": "USD", "amount": "80.00", "converted": "80.00", "rate": None,
                 "rate_date": None},
            ],
        }
    ]  # fmt: skip


def test_the_rate_in_force_is_that_of_the_day_or_the_latest_before():
    for day, rate in ((1, "1.08"), (15, "1.09")):
        fx_rate_create(date=dt.date(2025, 3, day), from_currency="EUR", to_currency="USD",
                       rate=Decimal(rate))  # fmt: skip

    def on(day: dt.date) -> Decimal:
        return fx_rate_in_force(from_currency="EUR", to_currency="USD", on=day).rate

    assert on(dt.date(2025, 3, 1)) == Decimal("1.08")
    assert on(dt.date(2025, 3, 14)) == Decimal("1.08")
    assert on(dt.date(2025, 4, 1)) == Decimal("1.09")


def test_a_missing_rate_is_an_error_naming_currency_and_date_never_one():
    with pytest.raises(ApplicationError) as caught:
        totals_convert(totals={MARCH: {"EUR": Decimal("150.00")}}, to_currency="USD")

    assert caught.value.code == "fx_rate_missing"
    assert caught.value.message == (
        "There is no EUR to USD exchange rate on or before 2025-03-01; record one at "
        "/api/v1/fx-rates/ or with load_fx_rates."
    )
    assert caught.value.fields == {"currency": ["EUR"], "date": ["2025-03-01"]}


def test_a_virtual_pricing_currency_is_never_summed_with_or_converted_to_money():
    sample = SAMPLES_DIR / "focusspec-saas-virtualcurrency-focus1.2-example.csv"
    _ingest(sample)

    tokens = sum(Decimal(r["PricingCurrencyEffectiveCost"]) for r in csv_rows(sample))
    assert pricing_currency_totals() == [
        {"pricing_currency": "Token", "is_money": False,
         "pricing_currency_effective_cost": tokens},
    ]  # fmt: skip
    with pytest.raises(ApplicationError) as caught:
        totals_convert(totals={MARCH: {"Token": Decimal("615")}}, to_currency="USD")
    assert caught.value.code == "virtual_currency"
    assert caught.value.message == (
        "Token is a virtual currency (credits or tokens), not money; it is never converted "
        "to USD or added to money."
    )


def test_load_fx_rates_loads_a_csv_and_a_replay_changes_nothing(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(
        "date,from_currency,to_currency,rate,source\n"
        "2025-03-01,EUR,USD,1.0850,ECB\n"
        "2025-03-01,GBP,USD,1.2900000000000001,\n"
    )

    call_command("load_fx_rates", str(path))
    call_command("load_fx_rates", str(path))

    rates = list(FxRate.objects.order_by("from_currency").values_list(
        "date", "from_currency", "to_currency", "rate", "source"))  # fmt: skip
    assert rates == [
        (MARCH, "EUR", "USD", Decimal("1.0850"), "ECB"),
        (MARCH, "GBP", "USD", Decimal("1.2900000000000001"), "rates.csv"),
    ]


def test_load_fx_rates_rejects_bad_rows_naming_file_row_column_and_value(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(
        "date,from_currency,to_currency,rate\n"
        "2025-03-01,EUR,USD,1.0850\n"
        "2025-13-01,EUR,USD,1.0850\n"
        "2025-03-02,Token,USD,-1\n"
    )

    with pytest.raises(CommandError) as caught:
        call_command("load_fx_rates", str(path))

    assert str(caught.value) == (
        'No rate was loaded: rates.csv data row 2, column date: "2025-13-01" is not a date '
        'YYYY-MM-DD; rates.csv data row 3, column from_currency: "Token" is not an ISO 4217 '
        'currency code such as USD or EUR; rates.csv data row 3, column rate: "-1" is not a '
        "positive rate."
    )
    assert FxRate.objects.count() == 0


def test_everyone_signed_in_lists_rates_and_practitioners_create_them(
    executive_api, practitioner_api
):
    created = practitioner_api.post(
        URL, {"date": "2025-03-01", "from_currency": "EUR", "to_currency": "USD",
              "rate": "1.0850", "source": "ECB"}, format="json",
    )  # fmt: skip
    listed = executive_api.get(URL)

    rate = FxRate.objects.get()
    expected = {
        "id": rate.pk, "date": "2025-03-01", "from_currency": "EUR", "to_currency": "USD",
        "rate": "1.085", "source": "ECB",
        "created_at": rate.created_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    assert (created.status_code, created.json()) == (201, expected)
    assert rate.created_by.username == "pat.practitioner"
    assert listed.status_code == 200
    assert listed.json()["results"] == [expected]


def test_an_executive_cannot_create_a_rate_and_a_duplicate_is_refused(
    executive_api, practitioner_api
):
    body = {"date": "2025-03-01", "from_currency": "EUR", "to_currency": "USD", "rate": "1.08"}

    refused = executive_api.post(URL, body, format="json")
    practitioner_api.post(URL, body, format="json")
    duplicate = practitioner_api.post(URL, body, format="json")

    assert refused.status_code == 403
    assert refused.json()["message"] == "Only FinOps practitioners may change this."
    assert duplicate.status_code == 400
    message = "A EUR to USD rate for 2025-03-01 is already recorded; a day has one rate per pair."
    assert duplicate.json() == {"message": message, "code": "duplicate",
                                "fields": {"date": [message]}}  # fmt: skip


def test_a_rate_in_a_virtual_currency_is_refused_by_the_api(practitioner_api):
    response = practitioner_api.post(
        URL, {"date": "2025-03-01", "from_currency": "TOK", "to_currency": "TOK", "rate": "1"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["message"] == (
        'The to_currency "TOK" is the same as from_currency; a rate needs two.'
    )
