"""Units: block sizes parsed, quantities brought to base units, rates taken from cost."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from portfolio.units import Unit, base_quantity_columns, quantity_to_base, unit_parse, unit_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000 Tokens", Unit(Decimal(1000), "Tokens")),
        ("1M Tokens", Unit(Decimal(1_000_000), "Tokens")),
        ("1000000 Tokens", Unit(Decimal(1_000_000), "Tokens")),
        ("Tokens", Unit(Decimal(1), "Tokens")),
        ("Hours", Unit(Decimal(1), "Hours")),
        ("GB-Mo", Unit(Decimal(1), "GB-Months")),
        ("GB/Month", Unit(Decimal(1), "GB-Months")),
        ("10000 Requests", Unit(Decimal(10000), "Requests")),
        ("1K Requests", Unit(Decimal(1000), "Requests")),
        ("GiB/Second-Months", Unit(Decimal(1), "GiB/Second-Months")),
        ("API Requests", Unit(Decimal(1), "API Requests")),
    ],
)
def test_units_split_into_block_size_and_base_unit(text, expected):
    assert unit_parse(text) == expected


def test_no_unit_is_none():
    assert (unit_parse(None), unit_parse("  ")) == (None, None)


def test_a_quantity_of_blocks_becomes_base_units_exactly():
    assert quantity_to_base(quantity=Decimal("50"), unit="1000 Tokens") == (
        Decimal("50000"), "Tokens"
    )  # fmt: skip
    assert quantity_to_base(quantity=Decimal("2.5"), unit="1M Tokens") == (
        Decimal("2500000.0"), "Tokens"
    )  # fmt: skip


def test_columns_are_converted_only_where_the_block_is_not_one():
    quantities = pa.array(["2.5", "400", "1000000", "50", None, "7"])
    units = pa.array(["1M Tokens", "Tokens", "Tokens", "1000 Tokens", "1000 Tokens", None])

    base, unit = base_quantity_columns(quantity=quantities, unit=units)

    assert base.to_pylist() == ["2500000", "400", "1000000", "50000", None, "7"]
    assert unit.to_pylist() == ["Tokens", "Tokens", "Tokens", "Tokens", "Tokens", None]


def test_a_unit_rate_is_cost_over_base_quantity():
    assert unit_rate(cost=Decimal("1.00"), base_quantity=Decimal(25000)) == Decimal("0.00004")
    per_block = unit_rate(cost=Decimal("1.00"), base_quantity=Decimal(25000), per=Decimal(10000))
    assert per_block == Decimal("0.4")
    with pytest.raises(ZeroDivisionError):
        unit_rate(cost=Decimal("1.00"), base_quantity=Decimal(0))
