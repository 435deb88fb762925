"""Writing normalised FOCUS chunks into spend tables: slices, rows, supersession and rollups.

Rows of a chunk are written in the chunk's transaction, under slices that are not current yet;
promotion, supersession and rollups run in the delivery's one final transaction. On PostgreSQL
rows go in with ``COPY`` (CSV written by pyarrow, no Python loop per row); on SQLite, the
embedded default, with ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncDate

from finops_exec.exact import ExactSum, money_str
from portfolio.focus.normalise import FIELD_KINDS
from portfolio.models import BillingSlice, Delivery, MonthlySpend, SpendRow

logger = logging.getLogger(__name__)

SliceKey = tuple[str, dt.datetime]

# Order of the columns written for each row; matches the pyarrow table built below.
_ROW_FIELDS = (
    "delivery_id", "billing_slice_id", "source_file", "source_row", "technology_category_id",
    "charge_month", *FIELD_KINDS, "extras",
)  # fmt: skip
_DECIMAL_FIELDS = frozenset(name for name, kind in FIELD_KINDS.items() if kind == "decimal")
_JSON_FIELDS = frozenset({"tags", "extras"})
_SQLITE_BATCH = 2_000
_COPY_BATCH = 20_000
# How many lacking charge days a warning names before it says how many more there are.
_DAYS_NAMED = 5


class SliceRegistry:
    """The billing slices of one delivery, created as new (account, period) pairs appear.

    Slices are created not current, each in its own short transaction: chunks loading in
    parallel share them without waiting for each other's row transactions. They become current
    only in ``billing_slices_promote``, when the whole delivery is in.
    """

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.slices: dict[SliceKey, BillingSlice] = {}

    def ids_for(self, table: pa.Table) -> pa.Array:
        """The slice id of each row, creating the slices it needs."""
        accounts = table.column("billing_account_id").combine_chunks()
        starts = table.column("billing_period_start").combine_chunks()
        keys = pc.binary_join_element_wise(accounts, pc.cast(starts, pa.string()), "\x1f")
        encoded = pc.dictionary_encode(keys)
        ids = []
        for position in range(len(encoded.dictionary)):
            first = pc.index(encoded.indices, position).as_py()
            key = (accounts[first].as_py(), starts[first].as_py())
            ids.append(self._slice(key, table.column("billing_period_end")[first].as_py()).pk)
        return pc.take(pa.array(ids, pa.int64()), encoded.indices)

    def _slice(self, key: SliceKey, period_end: dt.datetime) -> BillingSlice:
        found = self.slices.get(key)
        if found is None:
            found, _created = BillingSlice.objects.get_or_create(
                delivery=self.delivery, billing_account_id=key[0], billing_period_start=key[1],
                defaults={"billing_period_end": period_end, "is_current": False},
            )  # fmt: skip
            self.slices[key] = found
        return found


def spend_rows_write(*, table: pa.Table) -> None:
    """Insert the rows of one prepared chunk (``_ROW_FIELDS`` columns) into SpendRow."""
    if not table.num_rows:
        return
    if connection.vendor == "postgresql":
        _copy_rows(table)
    else:
        _bulk_create_rows(table)


def _copy_rows(table: pa.Table) -> None:
    arrays = []
    for name in _ROW_FIELDS:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = _timestamp_text(column)
        arrays.append(column)
    rows = pa.table(arrays, names=list(_ROW_FIELDS))
    columns = ", ".join(connection.ops.quote_name(name) for name in _ROW_FIELDS)
    sql = f"COPY {SpendRow._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    options = pcsv.WriteOptions(include_header=False)
    # Streamed in slices so the CSV text of a whole chunk is never held at once.
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for batch in rows.to_batches(max_chunksize=_COPY_BATCH):
            buffer = io.BytesIO()
            pcsv.write_csv(batch, buffer, write_options=options)
            copy.write(buffer.getbuffer())


def _timestamp_text(column: pa.ChunkedArray) -> pa.Array:
    # Billing times repeat heavily (a few hundred distinct values in a million rows), so each
    # distinct value is formatted once: formatting every row cost over a second per column.
    encoded = pc.dictionary_encode(column.combine_chunks())
    text = pc.strftime(encoded.dictionary, format="%Y-%m-%dT%H:%M:%SZ", locale="C")
    return pc.take(text, encoded.indices)


def _bulk_create_rows(table: pa.Table) -> None:
    for batch in table.to_batches(max_chunksize=_SQLITE_BATCH):
        rows = [SpendRow(**_row_values(values)) for values in batch.to_pylist()]
        SpendRow.objects.bulk_create(rows)


def _row_values(values: dict[str, Any]) -> dict[str, Any]:
    for name in _DECIMAL_FIELDS:
        if values[name] is not None:
            values[name] = Decimal(values[name])
    for name in _JSON_FIELDS:
        values[name] = json.loads(values[name])
    return values


@dataclass(frozen=True)
class SliceChange:
    """What promotion did to the current slice of one account and period.

    ``applied`` True: the delivery's slice replaced ``earlier`` (``rows`` rows, ``billed``
    BilledCost per currency left the totals). False: ``earlier`` stays current and the
    delivery's slice was stored without counting; ``lacking`` holds the charge days of
    ``earlier`` (ISO dates, sorted) that the delivery's slice does not have.
    """

    applied: bool
    new: BillingSlice
    earlier: BillingSlice
    rows: int
    billed: dict[str, Decimal]
    lacking: tuple[str, ...] = ()


def billing_slices_promote(*, delivery: Delivery) -> list[SliceChange]:
    """Make the delivery's slices current where they have every charge day of the current slice.

    Runs after ``monthly_spend_write``: each slice's row count, coverage and charge days come
    from there. A slice supersedes the current slice of its account and period only when its
    charge days (distinct UTC dates of ChargePeriodStart) include every charge day of the
    current one: a restatement (the same days) or a fuller month-to-date export. Comparing the
    span from first to last charge instead would let an export with a missing day, or one whose
    month-long fee row stretches its span, replace a fuller one. An older, smaller or disjoint
    export stays stored but not current, so loading files out of order never loses spend.
    Slices left without rows (a chunk that died after creating them) are removed. Must run
    under the finaliser's lock, so two deliveries never promote the same account and period at
    once.
    """
    counts = dict(
        MonthlySpend.objects.filter(billing_slice__delivery=delivery)
        .order_by()
        .values_list("billing_slice_id")
        .annotate(rows=Sum("row_count"))
    )
    slices = list(BillingSlice.objects.filter(delivery=delivery))
    empty = [item.pk for item in slices if item.pk not in counts]
    BillingSlice.objects.filter(pk__in=empty).delete()
    slices = [item for item in slices if item.pk in counts]
    changes = []
    for item in slices:
        item.row_count = counts[item.pk]
        earlier = (
            BillingSlice.objects.filter(
                billing_account_id=item.billing_account_id,
                billing_period_start=item.billing_period_start,
                is_current=True,
            )
            .exclude(delivery=delivery)
            .first()
        )
        if earlier is None:
            item.is_current = True
            continue
        _coverage_fill(earlier)
        lacking = tuple(sorted(set(earlier.charge_days) - set(item.charge_days or ())))
        applied = not lacking
        billed = _billed_by_currency(earlier) if applied else {}
        if applied:
            earlier.is_current = False
            earlier.superseded_by = delivery
            earlier.save(update_fields=["is_current", "superseded_by"])
        item.is_current = applied
        changes.append(SliceChange(applied, item, earlier, earlier.row_count, billed, lacking))
    # The earlier slices step aside above, before these become current, so the one current
    # slice per account and period constraint holds at every statement.
    BillingSlice.objects.bulk_update(slices, ["row_count", "is_current"])
    return changes


def _coverage_fill(item: BillingSlice) -> None:
    # Slices stored before coverage or charge days were recorded get them from their rows once.
    # A slice without rows gets no days: it has nothing to lose.
    fields = []
    if item.coverage_start is None or item.coverage_end is None:
        span = SpendRow.objects.filter(billing_slice=item).aggregate(
            start=Min("charge_period_start"), end=Max("charge_period_end")
        )
        item.coverage_start, item.coverage_end = span["start"], span["end"]
        if item.coverage_start is not None:
            fields += ["coverage_start", "coverage_end"]
    if item.charge_days is None:
        item.charge_days = _charge_days(SpendRow.objects.filter(billing_slice=item)).get(
            item.pk, []
        )
        fields.append("charge_days")
    if fields:
        item.save(update_fields=fields)


def _charge_days(rows: Any) -> dict[int, list[str]]:
    """Per slice id, the sorted distinct UTC dates (ISO text) of the rows' ChargePeriodStart.

    One grouped query; TruncDate in UTC gives the same dates on PostgreSQL and SQLite.
    """
    grouped = (
        rows.order_by()
        .annotate(day=TruncDate("charge_period_start", tzinfo=dt.UTC))
        .values_list("billing_slice_id", "day")
        .distinct()
    )
    days: dict[int, set[str]] = {}
    for slice_id, day in grouped:
        if day is not None:
            days.setdefault(slice_id, set()).add(day.isoformat())
    return {slice_id: sorted(values) for slice_id, values in days.items()}


def _moment_text(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "unknown"


def _days_text(days: tuple[str, ...]) -> str:
    named = ", ".join(days[:_DAYS_NAMED])
    more = len(days) - _DAYS_NAMED
    return f"{named} and {more} more" if more > 0 else named


def billing_slice_change_warning(*, change: SliceChange) -> dict[str, Any]:
    """The warning of one supersession, or of an export left aside, with its details.

    ``superseded_slice`` names what was replaced; ``older_export_not_applied`` names the charge
    days of the current data the delivery lacks (the first few, then how many more).
    """
    new, earlier = change.new, change.earlier
    what = (
        f"Billing account {new.billing_account_id}, billing period "
        f"{new.billing_period_start:%Y-%m-%d}: this delivery covers "
        f"{_moment_text(new.coverage_start)} to {_moment_text(new.coverage_end)}"
    )
    theirs = (
        f"{_moment_text(earlier.coverage_start)} to {_moment_text(earlier.coverage_end)} "
        f"of delivery {earlier.delivery_id}"
    )
    if change.applied:
        amounts = ", ".join(
            f"{cur} {money_str(value)}" for cur, value in sorted(change.billed.items())
        )
        code = "superseded_slice"
        message = (
            f"{what}, with every charge day of the {theirs}, so it replaced that delivery's "
            f"{change.rows} rows (BilledCost {amounts or 'none'})."
        )
    else:
        code = "older_export_not_applied"
        message = (
            f"{what} but lacks {_days_text(change.lacking)} of the charge days of the "
            f"{theirs}, so delivery {earlier.delivery_id} stays current and this delivery's "
            f"{new.row_count} rows for it were stored but not applied. Load the files of one "
            "billing period together in one delivery."
        )
    return {
        "code": code,
        "message": message,
        "column": None,
        "rows": [],
        "billing_account_id": new.billing_account_id,
        "billing_period_start": _moment_text(new.billing_period_start),
        "coverage": [_moment_text(new.coverage_start), _moment_text(new.coverage_end)],
        "earlier_delivery": earlier.delivery_id,
        "earlier_coverage": [
            _moment_text(earlier.coverage_start),
            _moment_text(earlier.coverage_end),
        ],
        "earlier_rows": change.rows,
        "earlier_billed_cost": {cur: money_str(v) for cur, v in sorted(change.billed.items())},
        "lacking_charge_days": list(change.lacking),
    }


def _billed_by_currency(item: BillingSlice) -> dict[str, Decimal]:
    grouped = (
        MonthlySpend.objects.filter(billing_slice=item)
        .order_by()
        .values("billing_currency")
        .annotate(billed=ExactSum("billed_cost"))
    )
    return {row["billing_currency"]: row["billed"] or Decimal(0) for row in grouped}


def spend_rows_discard(*, delivery: Delivery) -> int:
    """Remove the staged rows, rollups and slices of a delivery that will not be loaded."""
    deleted, _by_model = SpendRow.objects.filter(delivery=delivery).delete()
    MonthlySpend.objects.filter(billing_slice__delivery=delivery).delete()
    BillingSlice.objects.filter(delivery=delivery, is_current=False).delete()
    return deleted


_ROLLUP_DIMENSIONS = (
    "billing_slice_id", "charge_month", "billing_currency", "technology_category_id",
    "provider_name", "service_category", "service_name", "charge_category",
)  # fmt: skip
_COSTS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")


def monthly_spend_write(*, delivery: Delivery) -> int:
    """Write the monthly rollups of the delivery's slices, each slice's coverage and charge days.

    One grouped scan of the delivery's rows gives the rollups and per slice the earliest
    ChargePeriodStart and latest ChargePeriodEnd (shown in messages); a second grouped query
    the distinct UTC charge days that supersession compares.
    """
    grouped = (
        SpendRow.objects.filter(delivery=delivery)
        .order_by()
        .values(*_ROLLUP_DIMENSIONS)
        .annotate(
            row_count=Count("id"),
            first_start=Min("charge_period_start"),
            last_end=Max("charge_period_end"),
            **{name: ExactSum(name) for name in _COSTS},
        )
    )
    rollups = []
    coverage: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for item in grouped:
        start, end = item.pop("first_start"), item.pop("last_end")
        known = coverage.get(item["billing_slice_id"])
        if known is not None:
            start, end = min(start, known[0]), max(end, known[1])
        coverage[item["billing_slice_id"]] = (start, end)
        rollups.append(MonthlySpend(**item))
    MonthlySpend.objects.bulk_create(rollups, batch_size=1000)
    days = _charge_days(SpendRow.objects.filter(delivery=delivery))
    slices = list(BillingSlice.objects.filter(pk__in=coverage))
    for item in slices:
        item.coverage_start, item.coverage_end = coverage[item.pk]
        item.charge_days = days.get(item.pk, [])
    BillingSlice.objects.bulk_update(slices, ["coverage_start", "coverage_end", "charge_days"])
    return len(rollups)


def delivery_totals(*, delivery: Delivery) -> dict[str, dict[str, Decimal]]:
    """Per billing currency, the exact sums of the four costs of the delivery's rows.

    Summed from the delivery's monthly rollups, which hold exact sums of all its rows: a few
    hundred rollups are read instead of every row again.
    """
    grouped = (
        MonthlySpend.objects.filter(billing_slice__delivery=delivery)
        .order_by()
        .values("billing_currency")
        .annotate(**{name: ExactSum(name) for name in _COSTS})
    )
    totals = {
        item["billing_currency"]: {name: item[name] or Decimal(0) for name in _COSTS}
        for item in grouped
    }
    return dict(sorted(totals.items()))
