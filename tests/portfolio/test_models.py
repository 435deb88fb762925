"""Constraints of the portfolio models hold in the database, not only in forms."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portfolio.models import (
    AllocationRule,
    AllocationTarget,
    BusinessMetric,
    Commitment,
    CostCenter,
    Forecast,
    ForecastPoint,
    Initiative,
    InitiativeStageChange,
    MetricValue,
    UnitMetric,
)
from scopes.models import Scope

pytestmark = pytest.mark.django_db

MAY = datetime.date(2026, 5, 1)
JUNE = datetime.date(2026, 6, 1)


def _refused(factory) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        factory()


@pytest.fixture
def scope() -> Scope:
    return Scope.objects.create(name="AI Assistant", slug="ai-assistant")


@pytest.fixture
def rule(scope) -> AllocationRule:
    return AllocationRule.objects.create(name="Shared", method="fixed", valid_from=MAY)


def test_an_allocation_target_is_a_scope_or_a_cost_center_never_both_or_neither(rule, scope):
    center = CostCenter.objects.create(code="cc-1", name="One")

    _refused(lambda: AllocationTarget.objects.create(rule=rule))
    _refused(lambda: AllocationTarget.objects.create(rule=rule, scope=scope, cost_center=center))
    assert AllocationTarget.objects.create(rule=rule, scope=scope, percentage=Decimal("40"))


def test_allocation_percentages_stay_between_0_and_100_and_fixed_rules_add_up_to_100(rule, scope):
    _refused(lambda: AllocationTarget.objects.create(rule=rule, scope=scope, percentage=101))
    other = Scope.objects.create(name="Search", slug="search")
    AllocationTarget.objects.create(rule=rule, scope=scope, percentage=Decimal("60"))
    AllocationTarget.objects.create(rule=rule, scope=other, percentage=Decimal("50"))

    with pytest.raises(ValidationError) as error:
        rule.clean()
    assert error.value.messages == [
        "The fixed percentages add up to 110.0000%; they may add up to 100% at most."
    ]


def test_an_allocation_rule_cannot_end_before_it_starts():
    _refused(
        lambda: AllocationRule.objects.create(
            name="Backwards", valid_from=JUNE, valid_to=datetime.date(2026, 5, 31)
        )
    )


def test_metric_values_have_one_value_per_period_and_periods_end_after_they_start():
    metric = BusinessMetric.objects.create(name="Users", slug="users", unit="users")
    MetricValue.objects.create(metric=metric, period_start=MAY, period_end=JUNE, value=10)

    _refused(lambda: MetricValue.objects.create(
        metric=metric, period_start=MAY, period_end=JUNE, value=11))  # fmt: skip
    _refused(lambda: MetricValue.objects.create(
        metric=metric, period_start=JUNE, period_end=MAY, value=11))  # fmt: skip


def test_a_unit_metric_has_exactly_one_denominator():
    metric = BusinessMetric.objects.create(name="Users", slug="users", unit="users")

    _refused(lambda: UnitMetric.objects.create(name="None", slug="none", display_unit="x"))
    _refused(lambda: UnitMetric.objects.create(
        name="Both", slug="both", display_unit="x", business_metric=metric,
        consumed_unit="Tokens"))  # fmt: skip
    tokens = UnitMetric.objects.create(
        name="Cost per 1M tokens", slug="tokens", consumed_unit="Tokens",
        denominator_scale=Decimal(1_000_000), display_unit="per 1M tokens",
    )  # fmt: skip
    assert UnitMetric.objects.get(pk=tokens.pk).denominator_scale == Decimal(1_000_000)


def test_forecasts_run_forward_from_their_actuals_and_scenarios_match_their_kind():
    def forecast(**fields):
        values = dict(name="F", as_of_month=MAY, start_month=JUNE, end_month=JUNE)
        return Forecast.objects.create(**{**values, **fields})

    _refused(lambda: forecast(end_month=MAY))
    _refused(lambda: forecast(as_of_month=JUNE))
    _refused(lambda: forecast(kind="scenario"))
    assert forecast().kind == "baseline"


def test_forecast_points_are_unique_per_month_even_without_scope_or_category(scope):
    forecast = Forecast.objects.create(
        name="Baseline", as_of_month=MAY, start_month=JUNE, end_month=JUNE
    )
    ForecastPoint.objects.create(forecast=forecast, month=JUNE, amount=Decimal("10.50"))
    ForecastPoint.objects.create(forecast=forecast, month=JUNE, scope=scope, amount=3)

    _refused(lambda: ForecastPoint.objects.create(forecast=forecast, month=JUNE, amount=1))
    _refused(lambda: ForecastPoint.objects.create(
        forecast=forecast, month=JUNE, scope=scope, amount=1))  # fmt: skip


def test_forecast_accuracy_is_read_from_actuals_exactly():
    point = ForecastPoint(amount=Decimal("90.00"), actual_amount=Decimal("120.00"))

    assert point.variance == Decimal("30.00")
    assert point.absolute_percentage_error == Decimal("25")


def test_a_forecast_point_range_must_contain_its_projection():
    point = ForecastPoint(month=JUNE, amount=Decimal(100), lower_amount=Decimal(101))

    with pytest.raises(ValidationError) as error:
        point.clean()
    assert error.value.message_dict == {"lower_amount": ["The low end exceeds the projection."]}


def _commitment(**fields) -> Commitment:
    values = dict(
        name="Savings plan", category="savings_plan", provider_name="AWS", start_date=MAY,
        end_date=datetime.date(2029, 5, 1), total_amount=Decimal("3600000.00"),
        consumed_amount=Decimal("100000.25"),
    )  # fmt: skip
    return Commitment.objects.create(**{**values, **fields})


def test_commitments_end_after_they_start_and_notice_comes_before_renewal():
    _refused(lambda: _commitment(end_date=MAY))
    _refused(lambda: _commitment(total_amount=Decimal("-1")))
    _refused(lambda: _commitment(renewal_date=JUNE, notice_date=datetime.date(2026, 6, 2)))


def test_a_commitment_reports_its_term_and_remaining_exposure_exactly():
    commitment = _commitment(notice_date=datetime.date(2026, 8, 1))

    assert commitment.term_months == 36
    assert commitment.remaining_exposure == Decimal("3499999.75")
    assert commitment.days_to_notice(today=datetime.date(2026, 7, 2)) == 30


def test_an_initiative_has_a_non_negative_budget_and_each_stage_change_moves():
    initiative = Initiative.objects.create(name="Assistant", slug="assistant", stage="pilot")

    _refused(lambda: Initiative.objects.create(name="X", slug="x", budget_amount=Decimal("-5")))
    _refused(lambda: InitiativeStageChange.objects.create(
        initiative=initiative, from_stage="pilot", to_stage="pilot",
        changed_at=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)))  # fmt: skip
    change = InitiativeStageChange.objects.create(
        initiative=initiative, from_stage="poc", to_stage="pilot",
        changed_at=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC),
    )  # fmt: skip
    assert str(change) == "Assistant: Proof of concept → Pilot"
