"""Savings from commitments on an accrual basis, without counting prepaid purchases twice.

A commitment bought up front appears twice in FOCUS: once as the Purchase row (BilledCost paid,
EffectiveCost 0, its ListCost the whole term) and again, amortised, on the Usage rows it covers.
Comparing ListCost with EffectiveCost over both double counts the term's list price, so the
prepaid purchase rows are left out of both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from finops_exec.exact import ExactSum

_COSTS = ("list_cost", "contracted_cost", "effective_cost")


@dataclass(frozen=True)
class CommitmentSavings:
    """Accrual-basis sums of one currency and the savings they give."""

    billing_currency: str
    list_cost: Decimal
    contracted_cost: Decimal
    effective_cost: Decimal
    prepaid_rows_left_out: int

    @property
    def savings_vs_list(self) -> Decimal:
        return self.list_cost - self.effective_cost

    @property
    def savings_vs_contracted(self) -> Decimal:
        return self.contracted_cost - self.effective_cost


def commitment_savings(*, rows: QuerySet) -> dict[str, CommitmentSavings]:
    """Per billing currency, ListCost and ContractedCost against EffectiveCost, accrual basis.

    Prepaid purchase rows (BilledCost > 0 and EffectiveCost = 0, with a CommitmentDiscountId or
    ChargeCategory Purchase) are left out; their cost is already in the covered usage rows'
    EffectiveCost. Null list or contracted costs count as nothing.
    """
    totals = _sums(rows)
    prepaid = _prepaid(rows)
    result = {}
    for currency, sums in sorted(totals.items()):
        left_out = prepaid.get(currency, ({name: Decimal(0) for name in _COSTS}, 0))
        result[currency] = CommitmentSavings(
            billing_currency=currency,
            list_cost=sums["list_cost"] - left_out[0]["list_cost"],
            contracted_cost=sums["contracted_cost"] - left_out[0]["contracted_cost"],
            effective_cost=sums["effective_cost"] - left_out[0]["effective_cost"],
            prepaid_rows_left_out=left_out[1],
        )
    return result


def _sums(rows: QuerySet) -> dict[str, dict[str, Decimal]]:
    grouped = (
        rows.order_by()
        .values("billing_currency")
        .annotate(**{name: ExactSum(name) for name in _COSTS})
    )
    return {
        item["billing_currency"]: {name: item[name] or Decimal(0) for name in _COSTS}
        for item in grouped
    }


def _prepaid(rows: QuerySet) -> dict[str, tuple[dict[str, Decimal], int]]:
    # Amounts are text on SQLite, so "> 0" cannot be asked of the database; the candidates
    # (purchases and rows of a commitment) are few next to usage, and are checked here.
    candidates = rows.filter(
        Q(charge_category="Purchase") | Q(commitment_discount_id__isnull=False)
    ).values_list("billing_currency", "billed_cost", *_COSTS)
    found: dict[str, tuple[dict[str, Decimal], int]] = {}
    for currency, billed, *costs in candidates.iterator():
        if not (billed > 0 and costs[2] == 0):
            continue
        sums, count = found.get(currency, ({name: Decimal(0) for name in _COSTS}, 0))
        for name, value in zip(_COSTS, costs, strict=True):
            sums[name] += value or Decimal(0)
        found[currency] = (sums, count + 1)
    return found
