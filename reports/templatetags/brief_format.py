"""Template filters that format brief figures for people: amounts, shares and changes.

Amounts are rounded half-even to cents for display only; the brief's data keeps every digit.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django import template
from django.db.models import QuerySet

from finops_exec.exact import money_round
from scopes.models import Scope
from scopes.selectors import scope_list

logger = logging.getLogger(__name__)

register = template.Library()

MINUS = "-"
DASH = "\u2014"


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


@register.simple_tag
def nav_scopes() -> QuerySet[Scope]:
    """Active scopes for the navigation menu."""
    return scope_list(active_only=True)
