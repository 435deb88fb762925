"""Savings from commitments on an accrual basis, without counting prepaid purchases twice.

A commitment bought up front appears twice in FOCUS: once as the Purchase row (BilledCost paid,
EffectiveCost 0, its ListCost the whole term) and again, amortised, on the Usage rows it covers.
Comparing ListCost with EffectiveCost over both double counts the term's list price, so the
prepaid purchase rows are left out of both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from finops_exec.exact import exact_sum
from portfolio.rowstore import row_blocks, widened

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
        return exact_sum([self.list_cost, -self.effective_cost])

    @property
    def savings_vs_contracted(self) -> Decimal:
        return exact_sum([self.contracted_cost, -self.effective_cost])


_COLUMNS = ("billing_currency", "charge_category", "commitment_discount_id", "billed_cost", *_COSTS)


def commitment_savings(*, rows: Iterable[pa.Table] | None = None) -> dict[str, CommitmentSavings]:
    """Per billing currency, ListCost and ContractedCost against EffectiveCost, accrual basis.

    ``rows`` are stored rows in blocks (``row_blocks`` with at least the columns of
    ``_COLUMNS``); by default the rows of current slices. Prepaid purchase rows (BilledCost > 0
    and EffectiveCost = 0, with a CommitmentDiscountId or ChargeCategory Purchase) are left
    out; their cost is already in the covered usage rows' EffectiveCost. Null list or
    contracted costs count as nothing. The test is per row, so it reads rows, not daily sums.
    """
    totals: dict[str, dict[str, Decimal]] = {}
    prepaid: dict[str, tuple[dict[str, Decimal], int]] = {}
    for block in row_blocks(columns=_COLUMNS) if rows is None else rows:
        _add(totals, block)
        left_out = block.filter(_prepaid_mask(block))
        for currency, sums in _by_currency(left_out).items():
            known, count = prepaid.get(currency, ({name: Decimal(0) for name in _COSTS}, 0))
            for name in _COSTS:
                known[name] = exact_sum([known[name], sums[name]])
            prepaid[currency] = (known, count + int(sums["rows"]))
    result = {}
    for currency, sums in sorted(totals.items()):
        left_out = prepaid.get(currency, ({name: Decimal(0) for name in _COSTS}, 0))
        result[currency] = CommitmentSavings(
            billing_currency=currency,
            list_cost=exact_sum([sums["list_cost"], -left_out[0]["list_cost"]]),
            contracted_cost=exact_sum([sums["contracted_cost"], -left_out[0]["contracted_cost"]]),
            effective_cost=exact_sum([sums["effective_cost"], -left_out[0]["effective_cost"]]),
            prepaid_rows_left_out=left_out[1],
        )
    return result


def _prepaid_mask(block: pa.Table) -> pa.Array:
    candidate = pc.or_(
        pc.fill_null(pc.equal(block.column("charge_category"), "Purchase"), False),
        pc.is_valid(block.column("commitment_discount_id")),
    )
    zero = pa.scalar(Decimal(0), block.schema.field("billed_cost").type)
    paid_up_front = pc.and_(
        pc.fill_null(pc.greater(block.column("billed_cost"), zero), False),
        pc.fill_null(pc.equal(block.column("effective_cost"), zero), False),
    )
    return pc.and_(candidate, paid_up_front)


def _by_currency(block: pa.Table) -> dict[str, dict[str, Decimal]]:
    if not block.num_rows:
        return {}
    block = widened(block, _COSTS)
    grouped = block.group_by("billing_currency", use_threads=False).aggregate(
        [*((name, "sum") for name in _COSTS), ([], "count_all")]
    )
    return {
        item["billing_currency"]: {
            **{name: item[f"{name}_sum"] or Decimal(0) for name in _COSTS},
            "rows": Decimal(item["count_all"]),
        }
        for item in grouped.to_pylist()
    }


def _add(totals: dict[str, dict[str, Decimal]], block: pa.Table) -> None:
    for currency, sums in _by_currency(block).items():
        known = totals.setdefault(currency, {name: Decimal(0) for name in _COSTS})
        for name in _COSTS:
            known[name] = exact_sum([known[name], sums[name]])
