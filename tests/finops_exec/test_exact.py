from decimal import Decimal

import pytest

from finops_exec.exact import ExactSum, money_str
from scopes.models import TechnologyCategory


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.5"), "12.50"),
        (Decimal("20.520227000"), "20.520227"),
        (Decimal("-3"), "-3.00"),
        (Decimal("0E-18"), "0.00"),
        (Decimal("-0.000"), "0.00"),
        (Decimal("1E+3"), "1000.00"),
        (None, "0.00"),
    ],
)
def test_money_str_keeps_every_significant_digit_and_at_least_cents(value, expected):
    assert money_str(value) == expected


@pytest.mark.django_db
def test_sums_of_many_small_amounts_are_exact_on_every_database():
    from django.utils import timezone

    from portfolio.models import BillingSlice, DailySpend, Delivery

    category = TechnologyCategory.objects.create(name="Public Cloud", slug="public-cloud")
    delivery = Delivery.objects.create()
    now = timezone.now()
    billing_slice = BillingSlice.objects.create(
        delivery=delivery, billing_account_id="a", billing_period_start=now, billing_period_end=now
    )
    amounts = [Decimal("0.1"), Decimal("0.2"), Decimal("0.00000000040"), Decimal("35.2E-7")]
    amounts += [Decimal("0.12298357220000")] * 7
    # Daily sums are the table every total is read from; one sum per amount, told apart by region.
    DailySpend.objects.bulk_create(
        DailySpend(
            billing_slice=billing_slice,
            technology_category=category,
            charge_day=now.date(),
            charge_month=now.date().replace(day=1),
            billing_account_id="a",
            billing_currency="USD",
            charge_period_start=now,
            charge_period_end=now,
            charge_category="Usage",
            billed_cost=amount,
            effective_cost=amount,
            list_cost=amount,
            contracted_cost=amount,
            provider_name="P",
            service_category="Compute",
            service_name="S",
            region_id=f"r{i}",
            row_count=1,
        )
        for i, amount in enumerate(amounts, start=1)
    )

    total = DailySpend.objects.aggregate(total=ExactSum("billed_cost"))["total"]

    assert total == sum(amounts, Decimal(0))
    assert money_str(total) == "1.1608885258"
    assert DailySpend.objects.get(region_id="r3").billed_cost == Decimal("0.0000000004")


def test_money_text_and_python_sums_keep_more_digits_than_the_default_context():
    from finops_exec.exact import exact_sum

    largest = Decimal("99999999999999999999.999999999999999999")
    double = Decimal("199999999999999999999.999999999999999998")
    assert money_str(largest) == "99999999999999999999.999999999999999999"
    assert exact_sum([largest, largest, None]) == double
    # What the default context gives: rounded to 28 digits.
    assert largest + largest != double
