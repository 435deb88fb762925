"""Template filters that format brief figures for people: amounts, shares and changes.

Amounts are rounded half-even to cents for display only; the brief's data keeps every digit.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django import template
from django.db.models import QuerySet

from decisions.selectors import BreachOpen
from finops_exec.exact import money_round
from finops_exec.personas import user_has_persona
from scopes.models import Scope
from scopes.selectors import scope_list

logger = logging.getLogger(__name__)

register = template.Library()

MINUS = "-"
DASH = "\u2014"
EN_DASH = "\u2013"


def _number(value: Decimal | None) -> str:
    rounded = money_round(value)
    if rounded == 0:
        rounded = abs(rounded)
    text = f"{abs(rounded):,}"
    return f"{MINUS}{text}" if rounded < 0 else text


@register.filter
def amount(value: Decimal | None) -> str:
    """``Decimal("-1234.5")`` gives ``"-1,234.50"``."""
    return _number(value)


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    """``Decimal("1234.5")`` with ``"USD"`` gives ``"USD 1,234.50"``."""
    return f"{currency} {_number(value)}"


@register.filter
def money_abs(value: Decimal | None, currency: str) -> str:
    """The size of a change, without its sign, for sentences that say up or down."""
    return f"{currency} {_number(abs(value or Decimal(0)))}"


@register.filter
def signed_amount(value: Decimal | None) -> str:
    """``Decimal("12")`` gives ``"+12.00"``; negative amounts carry a minus sign."""
    text = _number(value)
    return text if text.startswith(MINUS) or money_round(value) == 0 else f"+{text}"


@register.filter
def percent(ratio: Decimal | None) -> str:
    """A fraction as a percentage with one decimal: ``Decimal("0.1234")`` gives ``"12.3%"``."""
    if ratio is None:
        return DASH
    rounded = money_round(ratio * 100, 1)
    if rounded == 0:
        rounded = abs(rounded)
    text = f"{abs(rounded):,}%"
    return f"{MINUS}{text}" if rounded < 0 else text


@register.filter
def signed_percent(ratio: Decimal | None) -> str:
    """A change as a signed percentage; ``"new"`` when there was nothing to compare with."""
    if ratio is None:
        return "new"
    text = percent(ratio)
    return text if text.startswith(MINUS) or money_round(ratio * 100, 1) == 0 else f"+{text}"


@register.filter
def day_range(first: datetime.date | None, last: datetime.date | None) -> str:
    """Days as people write them: ``1 December`` to ``4 December 2026`` gives
    ``"1-4 December 2026"``, with an en dash."""
    if first is None or last is None:
        return DASH
    if first == last:
        return f"{last.day} {last:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}{EN_DASH}{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} {EN_DASH} {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} {EN_DASH} {last.day} {last:%B %Y}"


@register.filter
def guardrail_value(value: Decimal | None, breach: BreachOpen) -> str:
    """A breach's observed value or threshold in the guardrail's own measure: an amount in its
    currency, a percentage, or a quantity in its unit."""
    if value is None:
        return DASH
    if breach.measure == "percent":
        return f"{money_round(value, 1):,}%"
    if breach.measure == "quantity":
        text = _number(value).removesuffix(".00")
        return f"{text} {breach.unit}".strip()
    return money(value, breach.currency) if breach.currency else _number(value)


@register.simple_tag
def nav_scopes() -> QuerySet[Scope]:
    """Active scopes for the navigation menu."""
    return scope_list(active_only=True)


@register.filter
def has_persona(user: object, persona: str) -> bool:
    """``{% if user|has_persona:"practitioner" %}`` shows practitioner-only links."""
    return user_has_persona(user, persona)  # type: ignore[arg-type]
