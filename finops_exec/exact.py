"""Exact decimals (money and quantities) stored and summed on PostgreSQL and SQLite.

PostgreSQL ``numeric`` is exact, so money columns there are ``numeric(38, 18)`` and sums run in
SQL. SQLite has no decimal type: a ``decimal`` column silently becomes a 15-digit float and its
``SUM`` adds floats. On SQLite, money is therefore stored as text and summed by
``FINOPS_DECIMAL_SUM``, a Python aggregate registered on every new connection. Either way, every
amount read back is a ``Decimal`` with all the digits that were written.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.backends.signals import connection_created
from django.dispatch import receiver

MONEY_MAX_DIGITS = 38
MONEY_DECIMAL_PLACES = 18

# Wide enough that summing millions of 38-digit amounts never rounds. Python's default
# context keeps 28 significant digits, fewer than numeric(38, 18) holds: every sum or
# normalisation of stored amounts in Python goes through this one.
SUM_CONTEXT = decimal.Context(prec=80)


def exact_sum(values: Iterable[Decimal | None]) -> Decimal:
    """The sum of ``values`` (None counts as nothing) without rounding any digit."""
    total = Decimal(0)
    for value in values:
        if value is not None:
            total = SUM_CONTEXT.add(total, value)
    return total


class ExactDecimalField(models.DecimalField):
    """A Decimal column (money or quantity) that keeps every digit on both supported databases."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_digits") == MONEY_MAX_DIGITS:
            del kwargs["max_digits"]
        if kwargs.get("decimal_places") == MONEY_DECIMAL_PLACES:
            del kwargs["decimal_places"]
        return name, path, args, kwargs

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({self.max_digits}, {self.decimal_places})"

    def get_internal_type(self) -> str:
        # Not "DecimalField": the SQLite backend would run its float-based decimal converter.
        return "ExactDecimalField"

    def rel_db_type(self, connection: Any) -> str | None:
        return self.db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return format(Decimal(value), "f")
        return Decimal(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(str(value))


class ExactSum(models.Sum):
    """``SUM`` of an exact decimal column that stays exact on SQLite too."""

    def __init__(self, *expressions: Any, **extra: Any) -> None:
        extra.setdefault("output_field", ExactDecimalField())
        super().__init__(*expressions, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function="FINOPS_DECIMAL_SUM", **extra_context)


class _DecimalSum:
    """SQLite aggregate: adds text amounts as Decimals and returns the sum as text."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is None:
            return
        amount = Decimal(str(value))
        self.total = amount if self.total is None else SUM_CONTEXT.add(self.total, amount)

    def finalize(self) -> str | None:
        return None if self.total is None else format(self.total, "f")


@receiver(connection_created)
def _register_sqlite_decimal_sum(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("FINOPS_DECIMAL_SUM", 1, _DecimalSum)


def decimal_plain(value: Decimal) -> str:
    """Every digit of ``value`` as plain text, without trailing zeros or exponent.

    Unlike ``normalize()``, never rounds to the context's precision.
    """
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_str(value: Decimal | None, places: int = 2) -> str:
    """Render an amount exactly: at least ``places`` decimals, more only when they carry value.

    ``Decimal("12.5")`` gives ``"12.50"``; ``Decimal("20.520227000")`` gives ``"20.520227"``.
    """
    if value is None:
        value = Decimal(0)
    normalized = value.normalize(SUM_CONTEXT)
    exponent = normalized.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent < places:
        normalized = normalized.quantize(Decimal(1).scaleb(-places), context=SUM_CONTEXT)
    text = format(normalized, "f")
    return "0." + "0" * places if text.startswith("-0") and Decimal(text) == 0 else text


def money_round(value: Decimal | None, places: int = 2) -> Decimal:
    """Round half-even to ``places`` decimals for display; never use it before summing."""
    return (value or Decimal(0)).quantize(
        Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN
    )
