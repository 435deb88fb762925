"""Exchange rates: recorded, loaded from CSV, and used to convert per-currency totals.

Totals of different currencies are never added unless a recorded rate converts them. The rate
used for a month is the one in force on the month's first day: recorded that day, or the latest
recorded before it. There is no silent default: a missing rate is an error naming the currency
and the date. Virtual currencies (credits, tokens: any PricingCurrency that is not a three-letter
ISO 4217 code) are not money and are never converted or summed with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from finops_exec.api_errors import ApplicationError
from finops_exec.exact import ExactSum, exact_sum, money_str
from portfolio.focus.errors import MAX_ERRORS, RowError
from portfolio.models import FxRate
from portfolio.rowstore import row_blocks, widened

logger = logging.getLogger(__name__)

_ISO_CODE = re.compile(r"^[A-Z]{3}$")
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_CSV_COLUMNS = ("date", "from_currency", "to_currency", "rate")
# Converted amounts are exact products; 80 digits never round a 38-digit amount times a rate.
_PRODUCT = decimal.Context(prec=80)


def currency_is_money(code: str | None) -> bool:
    """Whether ``code`` is an ISO 4217 style currency code rather than a virtual currency."""
    return bool(code) and bool(_ISO_CODE.match(code or ""))


def fx_rate_create(
    *,
    date: dt.date,
    from_currency: str,
    to_currency: str,
    rate: Decimal,
    source: str = "",
    user: Any = None,
) -> FxRate:
    """Record one rate. Raises ``ApplicationError`` for a bad value or a rate already recorded."""
    values = {"from_currency": from_currency, "to_currency": to_currency, "rate": rate}
    problems = _rate_problems(from_currency, to_currency, rate)
    if problems:
        field, problem = problems[0]
        message = f'The {field} "{values[field]}" {problem}.'
        raise ApplicationError(message, code="invalid", fields={field: [message]})
    try:
        with transaction.atomic():
            return FxRate.objects.create(
                date=date, from_currency=from_currency, to_currency=to_currency, rate=rate,
                source=source, created_by=user if user is not None and user.is_authenticated
                else None,
            )  # fmt: skip
    except IntegrityError as exc:
        message = (
            f"A {from_currency} to {to_currency} rate for {date:%Y-%m-%d} is already recorded; "
            "a day has one rate per pair."
        )
        raise ApplicationError(message, code="duplicate", fields={"date": [message]}) from exc


def _rate_problems(from_currency: str, to_currency: str, rate: Decimal) -> list[tuple[str, str]]:
    """(field, problem) pairs; each problem reads after the field's value."""
    problems = []
    for field, code in (("from_currency", from_currency), ("to_currency", to_currency)):
        if not currency_is_money(code):
            problems.append((field, "is not an ISO 4217 currency code such as USD or EUR"))
    if from_currency == to_currency:
        problems.append(("to_currency", "is the same as from_currency; a rate needs two"))
    if not rate > 0:
        problems.append(("rate", "is not a positive rate"))
    return problems


def fx_rates_load_csv(*, path: Path, source: str = "") -> int:
    """Load a CSV of rates (``date,from_currency,to_currency,rate[,source]``); all or nothing.

    A rate already recorded for the same day and pair is replaced. Returns the number of rows
    loaded. Raises ``ApplicationError`` listing each bad row by file, row, column and value;
    then nothing is stored.
    """
    rows, errors = _csv_read(path)
    if errors:
        shown = "; ".join(error.message for error in errors[:5])
        more = f" ({len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ApplicationError(
            f"No rate was loaded: {shown}{more}.",
            code="invalid_rates",
            fields={"rows": [error.as_dict() for error in errors[:MAX_ERRORS]]},
        )
    with transaction.atomic():
        for row in rows:
            FxRate.objects.update_or_create(
                date=row["date"], from_currency=row["from_currency"],
                to_currency=row["to_currency"],
                defaults={"rate": row["rate"], "source": row["source"] or source or path.name},
            )  # fmt: skip
    logger.info("fx rates %s: %s loaded", path.name, len(rows))
    return len(rows)


def _csv_read(path: Path) -> tuple[list[dict[str, Any]], list[RowError]]:
    name = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                problem = (
                    f"lacks the columns {', '.join(missing)} (needs {', '.join(_CSV_COLUMNS)})"
                )
                return [], [RowError(name, None, None, None, problem)]
            records = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [RowError(name, None, None, None, f"cannot be read ({exc})")]

    rows, errors = [], []
    for number, record in enumerate(records, start=1):
        row = _csv_row(name, number, record, errors)
        if row is not None:
            rows.append(row)
    return rows, errors


def _csv_row(
    name: str, number: int, record: dict[str, str], errors: list[RowError]
) -> dict[str, Any] | None:
    before = len(errors)
    values = {key: (record.get(key) or "").strip() for key in (*_CSV_COLUMNS, "source")}
    try:
        date = dt.date.fromisoformat(values["date"])
    except ValueError:
        errors.append(RowError(name, number, "date", values["date"], "is not a date YYYY-MM-DD"))
        date = None
    rate = Decimal(values["rate"]) if _NUMBER.match(values["rate"]) else Decimal(0)
    for column, problem in _rate_problems(values["from_currency"], values["to_currency"], rate):
        errors.append(RowError(name, number, column, values[column], problem))
    if len(errors) > before:
        return None
    return {**values, "date": date, "rate": rate}


def fx_rate_in_force(*, from_currency: str, to_currency: str, on: dt.date) -> FxRate:
    """The rate recorded for ``on``, or the latest before it.

    Raises ``ApplicationError`` (code ``fx_rate_missing``) naming the pair and the date when
    there is none; never falls back to 1.
    """
    rate = (
        FxRate.objects.filter(from_currency=from_currency, to_currency=to_currency, date__lte=on)
        .order_by("-date")
        .first()
    )
    if rate is None:
        message = (
            f"There is no {from_currency} to {to_currency} exchange rate on or before "
            f"{on:%Y-%m-%d}; record one at /api/v1/fx-rates/ or with load_fx_rates."
        )
        raise ApplicationError(
            message,
            code="fx_rate_missing",
            fields={"currency": [from_currency], "date": [on.isoformat()]},
        )
    return rate


@dataclass(frozen=True)
class ConvertedPart:
    """One currency's amount of a month, and how it became the reporting currency."""

    currency: str
    amount: Decimal
    converted: Decimal
    rate: Decimal | None  # None when already in the reporting currency
    rate_date: dt.date | None


@dataclass(frozen=True)
class ConvertedTotal:
    """A month's total in the reporting currency, with each part and the rate it used."""

    month: dt.date
    currency: str
    total: Decimal
    parts: tuple[ConvertedPart, ...]


def totals_convert(
    *, totals: Mapping[dt.date, Mapping[str, Decimal]], to_currency: str
) -> list[ConvertedTotal]:
    """Convert per-month, per-currency totals to ``to_currency`` with recorded rates.

    ``totals`` maps each month (its first day) to amounts by currency. Each amount is
    multiplied exactly by the rate in force on the month's first day. Raises
    ``ApplicationError`` for a virtual currency or a missing rate.
    """
    if not currency_is_money(to_currency):
        raise ApplicationError(
            f'"{to_currency}" is not an ISO 4217 currency code to report in.',
            code="invalid_currency",
        )
    result = []
    for month in sorted(totals):
        parts = tuple(
            _part(currency, amount, to_currency, month.replace(day=1))
            for currency, amount in sorted(totals[month].items())
        )
        total = sum((part.converted for part in parts), Decimal(0))
        result.append(ConvertedTotal(month=month, currency=to_currency, total=total, parts=parts))
    return result


def _part(currency: str, amount: Decimal, to_currency: str, on: dt.date) -> ConvertedPart:
    if not currency_is_money(currency):
        raise ApplicationError(
            f"{currency} is a virtual currency (credits or tokens), not money; it is never "
            f"converted to {to_currency} or added to money.",
            code="virtual_currency",
            fields={"currency": [currency]},
        )
    if currency == to_currency:
        return ConvertedPart(currency, amount, amount, None, None)
    rate = fx_rate_in_force(from_currency=currency, to_currency=to_currency, on=on)
    converted = _PRODUCT.multiply(amount, rate.rate)
    return ConvertedPart(currency, amount, converted, rate.rate, rate.date)


def spend_monthly_totals(
    *, rows: QuerySet, cost: str = "effective_cost"
) -> dict[dt.date, dict[str, Decimal]]:
    """Per charge month and billing currency, the exact sum of ``cost`` over ``rows``."""
    grouped = (
        rows.order_by().values("charge_month", "billing_currency").annotate(total=ExactSum(cost))
    )
    totals: dict[dt.date, dict[str, Decimal]] = defaultdict(dict)
    for item in grouped:
        totals[item["charge_month"]][item["billing_currency"]] = item["total"] or Decimal(0)
    return dict(totals)


def pricing_currency_totals(*, rows: Iterable[pa.Table] | None = None) -> list[dict[str, Any]]:
    """PricingCurrencyEffectiveCost summed per PricingCurrency, each marked money or virtual.

    ``rows`` are stored rows in blocks with the columns ``pricing_currency`` and
    ``pricing_currency_effective_cost``; by default the rows of current slices. A virtual
    currency (``Token``, credits) is summed only with itself, never with money.
    """
    columns = ("pricing_currency", "pricing_currency_effective_cost")
    totals: dict[str, Decimal] = {}
    for block in row_blocks(columns=columns) if rows is None else rows:
        priced = block.filter(pc.is_valid(block.column("pricing_currency")))
        if not priced.num_rows:
            continue
        priced = widened(priced, ["pricing_currency_effective_cost"])
        grouped = priced.group_by("pricing_currency", use_threads=False).aggregate(
            [("pricing_currency_effective_cost", "sum")]
        )
        for item in grouped.to_pylist():
            value = item["pricing_currency_effective_cost_sum"] or Decimal(0)
            currency = item["pricing_currency"]
            totals[currency] = exact_sum([totals.get(currency), value])
    return [
        {
            "pricing_currency": currency,
            "is_money": currency_is_money(currency),
            "pricing_currency_effective_cost": totals[currency],
        }
        for currency in sorted(totals)
    ]


def converted_as_dict(totals: Iterable[ConvertedTotal]) -> list[dict[str, Any]]:
    """Converted totals as JSON-ready data; amounts and rates as exact decimal strings.

    Amounts keep at least two decimals and every further one that carries value; rates keep
    exactly the digits that carry value, whatever the database pads them with.
    """
    return [
        {
            "month": item.month.isoformat(),
            "currency": item.currency,
            "total": money_str(item.total),
            "parts": [
                {
                    "currency": part.currency,
                    "amount": money_str(part.amount),
                    "converted": money_str(part.converted),
                    "rate": None if part.rate is None else format(part.rate.normalize(), "f"),
                    "rate_date": None if part.rate_date is None else part.rate_date.isoformat(),
                }
                for part in item.parts
            ],
        }
        for item in totals
    ]
