"""Units of FOCUS quantities: block sizes, base units, and cost per unit taken from cost.

Providers price in blocks ("1000 Tokens", "1M Tokens", "10000 Requests"), so a quantity of 50
in "1000 Tokens" is 50000 Tokens. Summing raw quantities across SKUs priced in different blocks
is wrong; every quantity is brought to its base unit first. A unit rate is always cost divided
by the base quantity, never a unit price times a quantity, which real exports get wrong.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from finops_exec.exact import decimal_plain

# "1000 Tokens", "1M Tokens", "1.5K Requests": a block size, then the unit.
_BLOCK = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KkMm]?)\s+(\S.*?)\s*$")
_MULTIPLIERS = {"": Decimal(1), "k": Decimal(1000), "m": Decimal(1_000_000)}

# Spellings of the same base unit seen in exports, lower-cased, to the FOCUS unit format name.
_ALIASES = {
    "token": "Tokens",
    "tokens": "Tokens",
    "request": "Requests",
    "requests": "Requests",
    "hour": "Hours",
    "hours": "Hours",
    "hr": "Hours",
    "hrs": "Hours",
    "gb-mo": "GB-Months",
    "gb-month": "GB-Months",
    "gb-months": "GB-Months",
    "gb/month": "GB-Months",
    "gb months": "GB-Months",
    "gb-hour": "GB-Hours",
    "gb-hours": "GB-Hours",
    "gb hours": "GB-Hours",
}

# Wide enough that a quotient of two 38-digit amounts keeps every digit anyone reads.
_RATE_CONTEXT = decimal.Context(prec=50)


@dataclass(frozen=True)
class Unit:
    """A unit as written, split into its block size and its base unit."""

    block: Decimal
    base: str


def unit_parse(text: str | None) -> Unit | None:
    """The block size and base unit of a PricingUnit or ConsumedUnit; None for no unit."""
    if text is None or not text.strip():
        return None
    block = Decimal(1)
    name = text.strip()
    if match := _BLOCK.match(name):
        number, multiplier, name = match.groups()
        block = Decimal(number) * _MULTIPLIERS[multiplier.lower()]
    return Unit(block=block, base=_ALIASES.get(name.lower(), name))


def quantity_to_base(*, quantity: Decimal, unit: str | None) -> tuple[Decimal, str | None]:
    """``quantity`` of ``unit`` in the base unit: 50 of "1000 Tokens" is (50000, "Tokens")."""
    parsed = unit_parse(unit)
    if parsed is None:
        return quantity, None
    return _RATE_CONTEXT.multiply(quantity, parsed.block), parsed.base


def base_quantity_columns(*, quantity: pa.Array, unit: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Vectorised ``quantity_to_base`` over string columns: base quantities (text) and units.

    Only rows whose unit has a block size other than 1 are multiplied in Python; the rest keep
    the quantity's text as it was written.
    """
    encoded = pc.dictionary_encode(unit)
    parsed = [unit_parse(text) for text in encoded.dictionary.to_pylist()]
    bases = pa.array([p.base if p else None for p in parsed], pa.string())
    base_unit = pc.take(bases, encoded.indices)
    blocks = [p.block if p else Decimal(1) for p in parsed]
    scaled = pa.array([block != 1 for block in blocks], pa.bool_())
    needs = pc.fill_null(pc.take(scaled, encoded.indices), False)
    if not pc.any(needs).as_py():
        return quantity, base_unit

    values = quantity.to_pylist()
    indices = encoded.indices.to_pylist()
    for row in pc.indices_nonzero(needs).to_pylist():
        if values[row] is not None:
            product = _RATE_CONTEXT.multiply(Decimal(values[row]), blocks[indices[row]])
            values[row] = decimal_plain(product)
    return pa.array(values, pa.string()), base_unit


def unit_rate(*, cost: Decimal, base_quantity: Decimal, per: Decimal = Decimal(1)) -> Decimal:
    """Cost of ``per`` base units: cost / base quantity * per, exact to 50 digits.

    Raises ``ZeroDivisionError`` for a zero quantity: a rate of nothing is undefined.
    """
    if base_quantity == 0:
        raise ZeroDivisionError("a unit rate needs a non-zero quantity")
    return _RATE_CONTEXT.multiply(_RATE_CONTEXT.divide(cost, base_quantity), per).normalize()


def row_unit_rate(
    *, row: Mapping[str, Any], per: Decimal = Decimal(1)
) -> tuple[Decimal, str] | None:
    """A stored row's effective cost per ``per`` base units of what it consumed, with the unit.

    ``row`` is a stored row as a dict. None when the row has no consumed quantity in a known
    unit, or a zero quantity.
    """
    quantity, unit = row["consumed_base_quantity"], row["consumed_base_unit"]
    if quantity is None or not unit or quantity == 0:
        return None
    rate = unit_rate(cost=row["effective_cost"], base_quantity=quantity, per=per)
    return rate, unit


@dataclass(frozen=True)
class UnitCost:
    """The cost of one group per ``per`` base units, with the sums it comes from."""

    key: str | None
    billing_currency: str
    effective_cost: Decimal
    base_quantity: Decimal
    cost_per: Decimal


def unit_costs(
    *, rows: Iterable[pa.Table], base_unit: str, per: Decimal, group_by: str | None = None
) -> list[UnitCost]:
    """Effective cost per ``per`` ``base_unit`` (e.g. per 1M Tokens), per currency and group.

    ``rows`` are stored rows in blocks (``portfolio.rowstore.row_blocks``) with at least
    ``billing_currency``, ``effective_cost``, ``consumed_base_quantity``, ``consumed_base_unit``
    and the ``group_by`` column. Only rows consumed in ``base_unit`` count, after their block
    sizes were applied; rows of different currencies are never mixed. ``group_by`` is a stored
    column such as ``sku_id``; without it the result is the blended rate.
    """
    keys = ["billing_currency"] + ([group_by] if group_by else [])
    partials = []
    for block in rows:
        block = block.filter(
            pc.and_(
                pc.fill_null(pc.equal(block.column("consumed_base_unit"), base_unit), False),
                pc.is_valid(block.column("consumed_base_quantity")),
            )
        )
        if not block.num_rows:
            continue
        # Summed in decimal256: stored amounts reach 1e20, beyond which decimal128 wraps.
        wide = pa.decimal256(76, 18)
        block = block.set_column(
            block.schema.get_field_index("effective_cost"), "effective_cost",
            pc.cast(block.column("effective_cost"), wide),
        ).set_column(
            block.schema.get_field_index("consumed_base_quantity"), "consumed_base_quantity",
            pc.cast(block.column("consumed_base_quantity"), wide),
        )  # fmt: skip
        partials.append(
            block.select([*keys, "effective_cost", "consumed_base_quantity"])
            .group_by(keys, use_threads=False)
            .aggregate([("effective_cost", "sum"), ("consumed_base_quantity", "sum")])
        )
    if not partials:
        return []
    merged = (
        pa.concat_tables(partials)
        .group_by(keys, use_threads=False)
        .aggregate([("effective_cost_sum", "sum"), ("consumed_base_quantity_sum", "sum")])
    )
    result = []
    for item in merged.to_pylist():
        cost, quantity = item["effective_cost_sum_sum"], item["consumed_base_quantity_sum_sum"]
        if not quantity:
            continue
        result.append(
            UnitCost(
                key=item.get(group_by) if group_by else None,
                billing_currency=item["billing_currency"],
                effective_cost=cost,
                base_quantity=quantity,
                cost_per=unit_rate(cost=cost, base_quantity=quantity, per=per),
            )
        )
    return sorted(result, key=lambda u: (u.billing_currency, u.key or ""))
