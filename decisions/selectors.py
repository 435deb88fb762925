"""Reads over governance: decisions waiting, open guardrail breaches and overdue actions.

Each function returns plain frozen records, ready for a brief or an API to show, so callers
never walk relations themselves. ``scope`` narrows every read to what belongs to one scope:
decisions and actions by their scope, breaches by their guardrail's scope.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Prefetch

from decisions.models import Action, Breach, Decision, Guardrail, Option
from finops_exec.personas import person_name
from scopes.models import Scope

logger = logging.getLogger(__name__)

OPEN_DECISION_STATUSES = (
    Decision.Status.PROPOSED,
    Decision.Status.IN_REVIEW,
    Decision.Status.DEFERRED,
)
OPEN_BREACH_STATUSES = (Breach.Status.OPEN, Breach.Status.ACKNOWLEDGED)
OPEN_ACTION_STATUSES = (Action.Status.OPEN, Action.Status.IN_PROGRESS)


@dataclass(frozen=True)
class DecisionWaiting:
    """An open decision with what a reader needs to chase it.

    The cheapest option is the one with the lowest monthly run-rate; it is None when the
    decision has no options or its options are priced in different currencies, which cannot be
    compared.
    """

    id: int
    title: str
    status: str
    forum: str
    decider: str
    scope: str
    due_on: datetime.date | None
    options_count: int
    cheapest_option: str | None
    cheapest_run_rate: Decimal | None
    cheapest_currency: str


@dataclass(frozen=True)
class BreachOpen:
    """An open or acknowledged guardrail breach: what was observed against what was allowed.

    ``measure`` says how to read the two values: ``money`` (in ``currency``), ``percent`` or
    ``quantity`` (in ``unit``). ``is_floor`` is true when the threshold is a minimum.
    """

    id: int
    guardrail: str
    kind: str
    scope: str
    period_start: datetime.date
    observed_value: Decimal
    threshold: Decimal
    measure: str
    currency: str
    unit: str
    is_floor: bool
    owner: str
    status: str


@dataclass(frozen=True)
class ActionOverdue:
    id: int
    title: str
    owner: str
    scope: str
    due_on: datetime.date
    days_overdue: int


def decisions_waiting(*, scope: Scope | None = None) -> list[DecisionWaiting]:
    """Open decisions (proposed, in review or deferred), the soonest due first, undated last."""
    options = Prefetch("options", queryset=Option.objects.order_by("id"))
    decisions = (
        Decision.objects.filter(status__in=OPEN_DECISION_STATUSES)
        .select_related("forum", "decider", "scope")
        .prefetch_related(options)
        .order_by(F("due_on").asc(nulls_last=True), "id")
    )
    if scope is not None:
        decisions = decisions.filter(scope=scope)
    return [_decision_waiting(decision) for decision in decisions]


def _decision_waiting(decision: Decision) -> DecisionWaiting:
    # Sorted here, not in SQL: SQLite stores exact decimals as text, which sorts as text.
    options = sorted(
        decision.options.all(), key=lambda option: (option.run_rate_monthly, option.pk)
    )
    comparable = len({option.currency for option in options}) == 1
    cheapest = options[0] if options and comparable else None
    return DecisionWaiting(
        id=decision.pk,
        title=decision.title,
        status=decision.get_status_display(),
        forum=decision.forum.name if decision.forum else "",
        decider=person_name(decision.decider),
        scope=decision.scope.name if decision.scope else "",
        due_on=decision.due_on,
        options_count=len(options),
        cheapest_option=cheapest.title if cheapest else None,
        cheapest_run_rate=cheapest.run_rate_monthly if cheapest else None,
        cheapest_currency=cheapest.currency if cheapest else "",
    )


def breaches_open(*, scope: Scope | None = None) -> list[BreachOpen]:
    """Open and acknowledged breaches, the most recently detected first."""
    breaches = (
        Breach.objects.filter(status__in=OPEN_BREACH_STATUSES)
        .select_related(
            "owner", "guardrail__owner", "guardrail__scope", "guardrail__technology_category"
        )
        .order_by("-detected_at", "-id")
    )
    if scope is not None:
        breaches = breaches.filter(guardrail__scope=scope)
    return [_breach_open(breach) for breach in breaches]


def _breach_open(breach: Breach) -> BreachOpen:
    guardrail = breach.guardrail
    is_floor = guardrail.kind == Guardrail.Kind.COMMITMENT_COVERAGE_FLOOR
    if is_floor:
        measure = "percent"
    elif guardrail.kind == Guardrail.Kind.QUOTA:
        measure = "quantity"
    else:
        measure = "money"
    return BreachOpen(
        id=breach.pk,
        guardrail=guardrail.name,
        kind=guardrail.get_kind_display(),
        scope=_guardrail_scope(guardrail),
        period_start=breach.period_start,
        observed_value=breach.observed_value,
        threshold=breach.threshold,
        measure=measure,
        currency=breach.currency or guardrail.currency,
        unit=guardrail.quota_unit,
        is_floor=is_floor,
        # The breach names who must act; without one, the guardrail's owner answers for it.
        owner=person_name(breach.owner or guardrail.owner),
        status=breach.get_status_display(),
    )


def _guardrail_scope(guardrail: Guardrail) -> str:
    if guardrail.scope is not None:
        return guardrail.scope.name
    if guardrail.technology_category is not None:
        return f"All {guardrail.technology_category.name}"
    return "Whole portfolio"


def actions_overdue(*, today: datetime.date, scope: Scope | None = None) -> list[ActionOverdue]:
    """Open or in-progress actions due before ``today``, the longest overdue first."""
    actions = (
        Action.objects.filter(status__in=OPEN_ACTION_STATUSES, due_on__lt=today)
        .select_related("owner", "scope")
        .order_by("due_on", "id")
    )
    if scope is not None:
        actions = actions.filter(scope=scope)
    return [
        ActionOverdue(
            id=action.pk,
            title=action.title,
            owner=person_name(action.owner),
            scope=action.scope.name if action.scope else "",
            due_on=action.due_on,
            days_overdue=(today - action.due_on).days,
        )
        for action in actions
        if action.due_on is not None
    ]
