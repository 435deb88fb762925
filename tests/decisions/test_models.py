"""Constraints of the governance models hold in the database."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from decisions.models import Action, Breach, Decision, DecisionRight, Forum, Guardrail, Option
from portfolio.models import UnitMetric

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
DETECTED = datetime.datetime(2026, 6, 1, 6, tzinfo=datetime.UTC)


def _refused(factory) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        factory()


@pytest.fixture
def decision() -> Decision:
    forum = Forum.objects.create(name="Technology Investment Board", slug="tib")
    return Decision.objects.create(title="Renew or consolidate CRM", kind="commitment",
                                   forum=forum)  # fmt: skip


def _option(decision: Decision, title: str, **fields) -> Option:
    return Option.objects.create(decision=decision, title=title, tco_amount=Decimal(1), **fields)


def test_only_one_option_per_decision_can_be_chosen(decision):
    _option(decision, "Renew", is_chosen=True)
    _option(decision, "Consolidate")

    _refused(lambda: _option(decision, "Third", is_chosen=True))
    assert decision.chosen_option.title == "Renew"


def test_another_decision_can_choose_its_own_option(decision):
    other = Decision.objects.create(title="Pick a model", kind="vendor")
    _option(decision, "Renew", is_chosen=True)

    assert _option(other, "GPT-4o", is_chosen=True).is_chosen


def test_option_costs_are_not_negative_and_quality_is_scored_from_1_to_5(decision):
    _refused(lambda: _option(decision, "Refund", run_rate_monthly=Decimal("-0.01")))
    _refused(lambda: _option(decision, "Perfect", quality_score=6))
    _option(decision, "Same")
    _refused(lambda: _option(decision, "Same"))
    option = _option(decision, "Cheap", cost_one_off=Decimal("0.000000000000000001"))
    assert Option.objects.get(pk=option.pk).cost_one_off == Decimal("0.000000000000000001")


def test_a_decided_decision_has_a_decision_date_and_an_open_one_has_none():
    _refused(lambda: Decision.objects.create(title="A", kind="vendor", status="decided"))
    _refused(lambda: Decision.objects.create(
        title="B", kind="vendor", status="proposed", decided_on=TODAY))  # fmt: skip
    decided = Decision.objects.create(title="C", kind="vendor", status="decided",
                                      decided_on=TODAY)  # fmt: skip
    assert not decided.is_open


def test_a_decision_right_needs_a_holder_and_a_non_negative_limit():
    _refused(lambda: DecisionRight.objects.create(change_kind="commitment"))
    _refused(lambda: DecisionRight.objects.create(
        persona="finance", change_kind="commitment", amount_limit=Decimal(-1)))  # fmt: skip
    right = DecisionRight.objects.create(
        persona="finance", change_kind="commitment", amount_limit=Decimal("250000")
    )
    assert str(right) == "finance: Commit capacity or contract (up to 250000 USD)"


def test_a_unit_cost_ceiling_needs_its_unit_metric_and_a_quota_its_unit():
    _refused(lambda: Guardrail.objects.create(
        name="Ceiling", kind="unit_cost_ceiling", threshold=Decimal(6)))  # fmt: skip
    _refused(lambda: Guardrail.objects.create(name="Quota", kind="quota", threshold=10))
    _refused(lambda: Guardrail.objects.create(name="Neg", kind="budget", threshold=-1))
    metric = UnitMetric.objects.create(
        name="Cost per 1M tokens", slug="t", consumed_unit="Tokens", display_unit="per 1M"
    )
    assert Guardrail.objects.create(
        name="Ceiling", kind="unit_cost_ceiling", threshold=Decimal(6), unit_metric=metric
    ).pk


def test_one_breach_per_guardrail_and_period_and_a_resolved_one_says_when():
    guardrail = Guardrail.objects.create(name="Budget", kind="budget", threshold=100)

    def breach(**fields):
        values = dict(
            guardrail=guardrail, period_start=datetime.date(2026, 5, 1),
            period_end=datetime.date(2026, 6, 1), observed_value=Decimal("120.50"),
            threshold=Decimal(100), detected_at=DETECTED,
        )  # fmt: skip
        return Breach.objects.create(**{**values, **fields})

    _refused(lambda: breach(period_end=datetime.date(2026, 5, 1)))
    _refused(lambda: breach(status="resolved"))
    _refused(lambda: breach(status="resolved", resolved_at=DETECTED - datetime.timedelta(1)))
    first = breach()
    _refused(lambda: breach())
    assert first.is_open


def test_an_action_is_overdue_only_while_open_past_its_due_date():
    late = Action.objects.create(title="Cap context", due_on=TODAY - datetime.timedelta(1))
    done = Action.objects.create(
        title="Tag transfer", due_on=TODAY - datetime.timedelta(9), status="done",
        completed_on=TODAY,
    )  # fmt: skip

    _refused(lambda: Action.objects.create(title="Done without date", status="done"))
    assert late.is_overdue(today=TODAY)
    assert not done.is_overdue(today=TODAY)
    assert not late.is_overdue(today=TODAY - datetime.timedelta(1))
