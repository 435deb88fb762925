import csv
import datetime as dt
import json
from decimal import Decimal

import pytest

from finops_exec.api_errors import ApplicationError
from portfolio.models import BillingSlice, Delivery
from portfolio.selectors import (
    DIMENSIONS,
    spend_current,
    spend_for_scope,
    spend_rows_summarise,
    spend_summarise,
    spend_summarised,
    spend_totals,
    spend_unallocated,
)
from scopes.models import Dimension
from tests.conftest import BUGCASES_DIR
from tests.factories import scope_with_rules_create, spend_row_create

pytestmark = pytest.mark.django_db

D = Decimal


def _costs(value: str) -> dict[str, Decimal]:
    return {
        name: D(value) for name in ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
    }


def test_rows_of_a_superseded_slice_leave_the_current_rows():
    old = spend_row_create(cost="49.00")
    old.billing_slice.is_current = False
    old.billing_slice.save()
    new = spend_row_create(cost="31.00")

    assert list(spend_current()) == [new]
    assert spend_totals(rows=spend_current()) == {"USD": _costs("31.00")}


def test_totals_are_exact_and_per_currency():
    spend_row_create(cost="0.1")
    spend_row_create(cost="0.2")
    spend_row_create(cost="0.000000000000000001")
    spend_row_create(cost="150.00", billing_currency="EUR")

    totals = spend_totals(rows=spend_current())

    assert totals == {"EUR": _costs("150.00"), "USD": _costs("0.300000000000000001")}
    assert list(totals) == ["EUR", "USD"]


def test_totals_of_no_rows_are_empty():
    assert spend_totals(rows=spend_current()) == {}
    assert spend_summarise(rows=spend_current()) == []


def test_summarise_without_dimensions_gives_one_group_per_currency(django_assert_num_queries):
    spend_row_create(cost="100.00", billing_currency="EUR")
    spend_row_create(cost="50.00", billing_currency="EUR")
    spend_row_create(cost="80.00")

    with django_assert_num_queries(1):
        groups = spend_summarise(rows=spend_current())

    assert groups == [
        {"billing_currency": "EUR", **_costs("150.00"), "row_count": 2},
        {"billing_currency": "USD", **_costs("80.00"), "row_count": 1},
    ]


def test_summarise_groups_by_month_day_category_and_focus_columns(django_assert_num_queries):
    spend_row_create(cost="1.25", charge_period_start="2025-03-31T23:00:00", service_name="B")
    spend_row_create(cost="2.50", charge_period_start="2025-03-31T01:00:00", service_name="B")
    spend_row_create(cost="4.00", charge_period_start="2025-04-01T00:00:00", service_name="A")
    spend_row_create(cost="8.00", charge_period_start="2025-04-02", category="saas")

    with django_assert_num_queries(1):
        groups = spend_summarise(
            rows=spend_current(),
            group_by=["month", "day", "technology_category", "service_name"],
        )

    march, april = dt.date(2025, 3, 1), dt.date(2025, 4, 1)
    assert [
        (g["month"], g["day"], g["technology_category"], g["service_name"], g["billed_cost"])
        for g in groups
    ] == [
        (march, dt.date(2025, 3, 31), "Public Cloud", "B", D("3.75")),
        (april, dt.date(2025, 4, 1), "Public Cloud", "A", D("4.00")),
        (april, dt.date(2025, 4, 2), "Saas", "Example VMs", D("8.00")),
    ]
    assert list(groups[0]) == [
        "month",
        "day",
        "technology_category",
        "service_name",
        "billing_currency",
        "billed_cost",
        "effective_cost",
        "list_cost",
        "contracted_cost",
        "row_count",
    ]


def test_summarise_groups_by_tag_value_with_null_for_untagged_rows():
    spend_row_create(cost="1.00", tags={"team": "alpha"})
    spend_row_create(cost="2.00", tags={"team": "alpha", "env": "prod"})
    spend_row_create(cost="4.00", tags={"team": "beta"})
    spend_row_create(cost="8.00", tags={})
    spend_row_create(cost="16.00", tags={"2024": "yes"})

    groups = spend_summarise(rows=spend_current(), group_by=["tag:team"])
    by_year = spend_summarise(rows=spend_current(), group_by=["tag:2024"])

    assert [(g["tag:team"], g["billed_cost"], g["row_count"]) for g in groups] == [
        ("alpha", D("3.00"), 2),
        ("beta", D("4.00"), 1),
        (None, D("24.00"), 2),
    ]
    assert [(g["tag:2024"], g["billed_cost"]) for g in by_year] == [
        ("yes", D("16.00")),
        (None, D("15.00")),
    ]


def test_billing_currency_as_a_dimension_keeps_the_order_asked_for():
    spend_row_create(cost="3.00", billing_currency="EUR", provider_name="P")

    groups = spend_summarise(rows=spend_current(), group_by=["billing_currency", "provider_name"])

    assert groups == [
        {"billing_currency": "EUR", "provider_name": "P", **_costs("3.00"), "row_count": 1}
    ]


def test_grouping_by_scope_overlaps_and_shows_the_unallocated_rest(django_assert_max_num_queries):
    spend_row_create(cost="10.00", tags={"team": "payments"}, service_name="AI Tokens")
    spend_row_create(cost="20.00", tags={"team": "payments"}, service_name="Example VMs")
    spend_row_create(cost="40.00", tags={}, service_name="AI Tokens")
    spend_row_create(cost="80.00", billing_currency="EUR")
    scope_with_rules_create("Payments", ("tag", "equals", "payments", "team"))
    scope_with_rules_create("AI", ("service_name", "starts_with", "AI "))
    scope_with_rules_create("Retired", ("service_name", "contains", "VM"), is_active=False)

    with django_assert_max_num_queries(5):
        groups = spend_summarise(rows=spend_current(), group_by=["scope"])

    assert groups == [
        {"billing_currency": "USD", **_costs("50.00"), "row_count": 2, "scope": "ai"},
        {"billing_currency": "USD", **_costs("30.00"), "row_count": 2, "scope": "payments"},
        {"billing_currency": "EUR", **_costs("80.00"), "row_count": 1, "scope": None},
    ]


def test_grouping_by_scope_and_month_crosses_them():
    spend_row_create(cost="1.00", charge_period_start="2025-03-05", tags={"team": "a"})
    spend_row_create(cost="2.00", charge_period_start="2025-04-05", tags={"team": "a"})
    spend_row_create(cost="4.00", charge_period_start="2025-04-06")
    scope_with_rules_create("Team A", ("tag", "equals", "a", "team"))

    groups = spend_summarise(rows=spend_current(), group_by=["month", "scope"])

    assert [(g["month"], g["scope"], g["billed_cost"]) for g in groups] == [
        (dt.date(2025, 3, 1), "team-a", D("1.00")),
        (dt.date(2025, 4, 1), "team-a", D("2.00")),
        (dt.date(2025, 4, 1), None, D("4.00")),
    ]


def test_rows_for_a_scope_and_unallocated_rows_partition_current_spend():
    inside = spend_row_create(cost="5.00", region_id="eu-west-1")
    outside = spend_row_create(cost="7.00", region_id=None)
    scope = scope_with_rules_create("Europe", ("region_id", "starts_with", "eu-"))

    assert list(spend_for_scope(scope=scope)) == [inside]
    assert list(spend_unallocated()) == [outside]


@pytest.mark.parametrize("name", ["colour", "tag:", "scope,", "billed_cost", "tags"])
def test_unknown_dimension_is_an_application_error_listing_the_allowed_ones(name):
    with pytest.raises(ApplicationError) as raised:
        spend_summarise(rows=spend_current(), group_by=[name])

    assert raised.value.code == "invalid_dimension"
    assert raised.value.message.startswith(f"Unknown dimension {name!r}; use one of month, day, ")
    assert raised.value.message.endswith(", tag:KEY.")
    assert raised.value.fields == {"group_by": [f"Unknown dimension {name!r}."]}


def test_repeated_dimension_is_refused():
    with pytest.raises(ApplicationError, match="The dimension 'month' is given twice"):
        spend_summarise(rows=spend_current(), group_by=["month", "month"])


def test_every_listed_dimension_can_be_grouped_by():
    spend_row_create(cost="1.00")

    for name in DIMENSIONS:
        from_rows = spend_rows_summarise(group_by=[name])
        assert sum(g["billed_cost"] for g in from_rows) == D("1.00"), name
        if spend_summarised(group_by=[name]):
            from_sums = spend_summarise(rows=spend_current(), group_by=[name])
            assert from_sums == from_rows, name


def test_the_daily_sums_keep_every_dimension_a_scope_rule_can_test():
    rule_dimensions = {value for value in Dimension.values if value != Dimension.TAG}
    assert spend_summarised(group_by=sorted(rule_dimensions))
    assert spend_summarised(group_by=["month", "day", "scope", "tag:team"])
    assert not spend_summarised(group_by=["resource_id"])


def _b18_rows() -> list[dict[str, str]]:
    with open(BUGCASES_DIR / "B18-formula-injection.csv", newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_summary_of_b18_equals_the_total_computed_from_the_file():
    source = _b18_rows()
    delivery = Delivery.objects.create(status=Delivery.Status.LOADED)
    billing_slice = BillingSlice.objects.create(
        delivery=delivery,
        billing_account_id="ba-1001",
        billing_period_start=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        billing_period_end=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
    )
    for record in source:
        spend_row_create(
            billing_slice=billing_slice,
            cost=record["BilledCost"],
            charge_description=record["ChargeDescription"],
            tags=json.loads(record["Tags"]),
        )

    totals = spend_totals(rows=spend_current())

    expected = sum((D(record["BilledCost"]) for record in source), D(0))
    assert expected == D("15.00")
    assert totals["USD"]["billed_cost"] == expected
