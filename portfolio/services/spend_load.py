"""Writing normalised FOCUS chunks: slices, rows as Parquet blocks, daily sums, supersession.

A chunk's rows are written in the chunk's transaction, under slices that are not current yet:
the rows as one ``SpendBlock`` (Parquet) and their exact sums per day and dimensions as
``DailySpend`` rows, both grouped by pyarrow without a Python loop per row. On PostgreSQL the
sums go in with ``COPY``; on SQLite, the embedded default, with ``bulk_create``. Promotion and
supersession run in the delivery's one final transaction and read only the sums.
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
from django.db import connection, models, transaction
from django.db.models import Count, Max, Min, Sum

from finops_exec.exact import ExactSum, decimal_plain, exact_sum, money_str
from portfolio.models import BillingSlice, DailySpend, Delivery, SpendBlock
from portfolio.models.spend import DeliveryChunk
from portfolio.rowstore import (
    COSTS,
    DAILY_DIMENSIONS,
    WIDE,
    block_encode,
    costs_typed,
    slice_ids_of,
    widened,
)
from scopes.categorization import CategoryRules, technology_category_assign

logger = logging.getLogger(__name__)

SliceKey = tuple[str, dt.datetime]
_SLICE_KEY = ["billing_account_id", "billing_period_start"]

_SQLITE_BATCH = 2_000
_COPY_BATCH = 50_000
# bulk_update writes one CASE per column over its batch: the database's work grows with the
# square of the batch, so where it is used slices are updated a few hundred at a time.
_UPDATE_BATCH = 500
# How many lacking charge days a warning names before it says how many more there are.
_DAYS_NAMED = 5


class SliceRegistry:
    """The billing slices of one delivery, created as new (account, period) pairs appear.

    Slices are created not current, in short transactions of their own: chunks loading in
    parallel share them without waiting for each other's row transactions. They become current
    only in ``billing_slices_promote``, when the whole delivery is in.
    """

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.slices: dict[SliceKey, int] = {}

    def ids_for(self, periods: list[tuple[str, dt.datetime, dt.datetime]]) -> dict[SliceKey, int]:
        """The slice id of each (account, period start, period end), creating missing slices.

        Must run outside any transaction, so that new slices commit at once. The missing ones
        are created in one statement, in key order, so that chunks creating the same slices
        never wait for each other in opposite orders; a slice another chunk created first is
        taken as it is.
        """
        missing = sorted({(account, start): end for account, start, end in periods
                          if (account, start) not in self.slices}.items())  # fmt: skip
        if missing:
            self._create(missing)
        return {(account, start): self.slices[(account, start)] for account, start, _ in periods}

    def _create(self, missing: list[tuple[SliceKey, dt.datetime]]) -> None:
        with transaction.atomic():
            _commit_without_flush()
            new = [
                BillingSlice(delivery=self.delivery, billing_account_id=account,
                             billing_period_start=start, billing_period_end=end, is_current=False)
                for (account, start), end in missing
            ]  # fmt: skip
            BillingSlice.objects.bulk_create(new, ignore_conflicts=True)
            created = BillingSlice.objects.filter(
                delivery=self.delivery,
                billing_account_id__in={account for (account, _start), _end in missing},
                billing_period_start__in={start for (_account, start), _end in missing},
            ).values_list("pk", "billing_account_id", "billing_period_start")
            for pk, account, start in created:
                self.slices[(account, start)] = pk


def slices_update(slices: list[BillingSlice], fields: list[str]) -> None:
    """Save ``fields`` of many slices at once.

    On PostgreSQL one UPDATE joins the slices to arrays of their new values. Django's
    ``bulk_update`` builds a CASE per field and slice in Python, milliseconds a slice, and the
    database's work on it grows with the square of the batch: a delivery of 20,000 billing
    accounts spent minutes there. Elsewhere (SQLite) ``bulk_update`` runs in batches.
    """
    if not slices:
        return
    if connection.vendor != "postgresql":
        BillingSlice.objects.bulk_update(slices, fields, batch_size=_UPDATE_BATCH)
        return
    quote = connection.ops.quote_name
    assignments, arrays, types = [], [[item.pk for item in slices]], ["bigint[]"]
    for position, name in enumerate(fields, start=1):
        field = BillingSlice._meta.get_field(name)
        values = [getattr(item, field.attname) for item in slices]
        if isinstance(field, models.JSONField):
            arrays.append([None if value is None else json.dumps(value) for value in values])
            types.append("text[]")
            assignments.append(f"{quote(field.column)} = v.c{position}::jsonb")
        else:
            arrays.append(values)
            types.append(f"{field.db_type(connection)}[]")
            assignments.append(f"{quote(field.column)} = v.c{position}")
    names = ", ".join(["id", *(f"c{position}" for position in range(1, len(fields) + 1))])
    table = quote(BillingSlice._meta.db_table)
    sql = (
        f"UPDATE {table} AS s SET {', '.join(assignments)} "
        f"FROM unnest({', '.join(f'%s::{kind}' for kind in types)}) AS v({names}) "
        "WHERE s.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


def _commit_without_flush() -> None:
    # Safe without waiting for the disk: nothing counts staged slices and rows until the
    # finaliser commits, and its commit waits for every earlier one. A crash before then loses
    # only chunks that a re-run loads again (a chunk's rows and its done mark commit together).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


@dataclass
class PreparedChunk:
    """A normalised chunk made ready to store, without the database: see ``spend_chunk_prepare``."""

    row_count: int
    block: bytes
    sums: pa.Table
    periods: list[tuple[str, dt.datetime, dt.datetime]]
    measures: SumsMeasures


def spend_chunk_prepare(*, table: pa.Table, file_index: int, rules: CategoryRules) -> PreparedChunk:
    """Encode a normalised chunk's rows as a Parquet block and sum them per day.

    Pure computation, so that the next chunk is prepared while the current one is written:
    technology categories from ``rules``, amounts made decimal, the block, and the daily sums
    keyed by billing account and period start (the billing slice, whose id is known only when
    the chunk is written).
    """
    length = table.num_rows
    categories = technology_category_assign(
        columns={name: table.column(name) for name in table.column_names}, rules=rules
    )
    table = table.append_column("technology_category_id", categories)
    table = table.append_column("source_file", pa.array([file_index] * length, pa.int64()))
    table = costs_typed(table)
    periods = (
        table.select(["billing_account_id", "billing_period_start", "billing_period_end"])
        .group_by(["billing_account_id", "billing_period_start"], use_threads=False)
        .aggregate([("billing_period_end", "max")])
    )
    sums = daily_sums(table)
    return PreparedChunk(
        row_count=length,
        block=block_encode(table),
        sums=sums,
        periods=[tuple(row.values()) for row in periods.to_pylist()],  # type: ignore[misc]
        measures=sums_measure(sums),
    )


@dataclass
class SumsMeasures:
    """What the finaliser needs of some daily sums, keyed by billing account and period start.

    ``slices``: per slice key, (rows, earliest ChargePeriodStart, latest ChargePeriodEnd,
    charge days as ISO dates); ``totals``: the exact cost sums per billing currency (None for
    a cost no row had).
    """

    sums: int
    slices: dict[SliceKey, tuple[int, dt.datetime, dt.datetime, list[str]]]
    totals: dict[str, dict[str, Decimal | None]]

    def as_json(self, slice_ids: dict[SliceKey, int]) -> dict[str, Any]:
        """JSON-ready, keyed by slice id: what a chunk records for the finaliser."""
        return {
            "sums": self.sums,
            "slices": {
                str(slice_ids[key]): {"rows": rows, "start": start.isoformat(),
                                      "end": end.isoformat(), "days": days}
                for key, (rows, start, end, days) in self.slices.items()
            },
            "totals": {
                currency: {name: None if value is None else decimal_plain(value)
                           for name, value in costs.items()}
                for currency, costs in self.totals.items()
            },
        }  # fmt: skip


def sums_measure(sums: pa.Table) -> SumsMeasures:
    """Rows, coverage, charge days per slice key, and cost totals per currency, of daily sums.

    A few hundred groups per chunk, so that the finaliser adds up chunks' measures instead of
    grouping the delivery's daily sums again.
    """
    per_slice = sums.group_by(list(_SLICE_KEY), use_threads=False).aggregate(
        [
            ("row_count", "sum"),
            ("charge_period_start", "min"),
            ("charge_period_end", "max"),
            ("charge_day", "distinct"),
        ]
    )
    slices = {}
    for row in per_slice.to_pylist():
        days = sorted(day.isoformat() for day in row["charge_day_distinct"])
        slices[(row["billing_account_id"], row["billing_period_start"])] = (
            row["row_count_sum"], row["charge_period_start_min"], row["charge_period_end_max"], days
        )  # fmt: skip
    # Cost sums of a whole chunk can pass decimal128's range: they are added in decimal256.
    wide = widened(sums.select(["billing_currency", *COSTS]), COSTS)
    per_currency = wide.group_by("billing_currency", use_threads=False).aggregate(
        [(name, "sum") for name in COSTS]
    )
    totals = {
        row["billing_currency"]: {name: row[f"{name}_sum"] for name in COSTS}
        for row in per_currency.to_pylist()
    }
    return SumsMeasures(sums.num_rows, slices, totals)


def sums_slices_assign(sums: pa.Table, slice_ids: dict[SliceKey, int]) -> pa.Table:
    """Daily sums keyed by account and period start, with the ``billing_slice_id`` of each."""
    ids = slice_ids_of(sums, slice_ids)
    return sums.append_column("billing_slice_id", ids)


def spend_chunk_write(
    *, delivery: Delivery, index: int, prepared: PreparedChunk, slice_ids: dict[SliceKey, int]
) -> None:
    """Store one prepared chunk: its rows as a Parquet block and their daily sums.

    ``slice_ids`` are those ``SliceRegistry.ids_for`` gave for ``prepared.periods``, before
    the chunk's transaction: created inside it, a slice would hold its unique index entry until
    the chunk commits, and two workers creating the same slices would deadlock. Runs inside
    the chunk's transaction.
    """
    if not prepared.row_count:
        return
    _commit_without_flush()
    _block_insert(delivery, index, prepared.row_count, sorted(slice_ids.values()), prepared.block)
    daily_spend_write(sums=sums_slices_assign(prepared.sums, slice_ids))


def _block_insert(
    delivery: Delivery, index: int, row_count: int, slice_ids: list[int], data: bytes
) -> None:
    if connection.vendor != "postgresql":
        SpendBlock.objects.create(
            delivery=delivery, index=index, row_count=row_count, slice_ids=slice_ids, data=data
        )
        return
    # Django binds parameters as text; a block is megabytes of bytes, sent here as binary.
    columns = ("delivery_id", "index", "row_count", "slice_ids", "data", "created_at")
    sql = (
        f"INSERT INTO {SpendBlock._meta.db_table} "
        f"({', '.join(connection.ops.quote_name(name) for name in columns)}) "
        "VALUES (%s, %s, %s, %s::jsonb, %b, now())"
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(sql, (delivery.pk, index, row_count, json.dumps(slice_ids), data))


def daily_sums(table: pa.Table) -> pa.Table:
    """The rows of ``table`` summed per ``DAILY_DIMENSIONS``: counts, cost sums, period span.

    Keyed by ``billing_account_id`` and ``billing_period_start`` in place of the billing slice
    (``sums_slices_assign`` adds its id).
    """
    start = table.column("charge_period_start")
    month = pc.floor_temporal(start, unit="month")
    following = pc.floor_temporal(pc.add(month, pa.scalar(dt.timedelta(days=32))), unit="month")
    whole_month = pc.and_(
        pc.equal(start, month), pc.greater_equal(table.column("charge_period_end"), following)
    )
    keys = [name for name in DAILY_DIMENSIONS if name != "billing_slice_id"]
    keys.append("billing_period_start")
    keyed = table.select([name for name in keys if name in table.column_names])
    keyed = keyed.append_column("charge_day", pc.cast(pc.floor_temporal(start, unit="day"),
                                                      pa.date32()))  # fmt: skip
    keyed = keyed.append_column("whole_month", whole_month)
    keyed = keyed.append_column("charge_period_start", start)
    keyed = keyed.append_column("charge_period_end", table.column("charge_period_end"))
    table = costs_typed(table)
    wide = _sums_may_overflow(table)
    for name in COSTS:
        column = table.column(name)
        keyed = keyed.append_column(name, pc.cast(column, WIDE) if wide else column)
    sums = keyed.group_by(keys, use_threads=False).aggregate(
        [
            ([], "count_all"),
            ("charge_period_start", "min"),
            ("charge_period_end", "max"),
            *((name, "sum") for name in COSTS),
        ]
    )
    sums = sums.rename_columns(
        {"count_all": "row_count", "charge_period_start_min": "charge_period_start",
         "charge_period_end_max": "charge_period_end", **{f"{n}_sum": n for n in COSTS}}
    )  # fmt: skip
    if wide:
        sums = _sums_narrowed(sums)
    return sums


# Sums are exact in decimal128(38, 18) only below its limit (about 1.7e20); the database keeps
# numeric(38, 18), below 1e20. Amounts that could reach either are summed in decimal256.
STORABLE = Decimal(10) ** 20


class SumTooLarge(Exception):
    """A daily sum that numeric(38, 18) cannot hold; ``error`` says which and how large."""

    def __init__(self, *, column: str, value: Decimal, day: dt.date, account: str) -> None:
        self.column, self.value, self.day, self.account = column, value, day, account
        super().__init__(
            f"the rows of billing account {account} on {day:%Y-%m-%d} sum to "
            f"{decimal_plain(value)}, more than a total can hold (at most 20 digits before the "
            "decimal point)."
        )


def _sums_may_overflow(table: pa.Table) -> bool:
    """Whether some group sum of the chunk could reach the storable limit."""
    largest = Decimal(0)
    for name in COSTS:
        bounds = pc.min_max(table.column(name)).as_py()
        for value in (bounds["min"], bounds["max"]):
            if value is not None:
                largest = max(largest, Decimal(value).copy_abs())
    # An upper bound: every row as large as the largest, all in one group.
    return largest * max(table.num_rows, 1) >= STORABLE / 2


def _sums_narrowed(sums: pa.Table) -> pa.Table:
    """Wide sums back to decimal128(38, 18); ``SumTooLarge`` when one cannot be stored."""
    for name in COSTS:
        column = sums.column(name)
        bounds = pc.min_max(column).as_py()
        for value in (bounds["min"], bounds["max"]):
            # copy_abs, not abs(): abs() rounds to the context's 28 digits.
            if value is not None and value.copy_abs() >= STORABLE:
                where = pc.index(column, pa.scalar(value, WIDE)).as_py()
                raise SumTooLarge(
                    column=name, value=value, day=sums.column("charge_day")[where].as_py(),
                    account=sums.column("billing_account_id")[where].as_py(),
                )  # fmt: skip
        position = sums.schema.get_field_index(name)
        sums = sums.set_column(position, name, pc.cast(column, pa.decimal128(38, 18)))
    return sums


_DAILY_FIELDS = (*DAILY_DIMENSIONS, "row_count", "charge_period_start", "charge_period_end",
                 *COSTS)  # fmt: skip


def daily_spend_write(*, sums: pa.Table) -> None:
    """Insert daily sums (``daily_sums`` columns) into DailySpend."""
    if not sums.num_rows:
        return
    if connection.vendor == "postgresql":
        _copy_sums(sums)
    else:
        _bulk_create_sums(sums)


def _copy_sums(sums: pa.Table) -> None:
    arrays = []
    for name in _DAILY_FIELDS:
        column = sums.column(name)
        if pa.types.is_timestamp(column.type):
            column = _timestamp_text(column)
        elif pa.types.is_decimal(column.type):
            column = pc.cast(column, pa.string())
        arrays.append(column)
    rows = pa.table(arrays, names=list(_DAILY_FIELDS))
    columns = ", ".join(connection.ops.quote_name(name) for name in _DAILY_FIELDS)
    sql = f"COPY {DailySpend._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    options = pcsv.WriteOptions(include_header=False)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for batch in rows.to_batches(max_chunksize=_COPY_BATCH):
            buffer = io.BytesIO()
            pcsv.write_csv(batch, buffer, write_options=options)
            copy.write(buffer.getbuffer())


def _timestamp_text(column: pa.ChunkedArray) -> pa.Array:
    # Billing times repeat heavily, so each distinct value is formatted once.
    encoded = pc.dictionary_encode(column.combine_chunks())
    text = pc.strftime(encoded.dictionary, format="%Y-%m-%dT%H:%M:%SZ", locale="C")
    return pc.take(text, encoded.indices)


def _bulk_create_sums(sums: pa.Table) -> None:
    for batch in sums.select(list(_DAILY_FIELDS)).to_batches(max_chunksize=_SQLITE_BATCH):
        rows = []
        for values in batch.to_pylist():
            values["tags"] = json.loads(values["tags"]) if values["tags"] else {}
            rows.append(DailySpend(**values))
        DailySpend.objects.bulk_create(rows)


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


def billing_slices_promote(*, delivery: Delivery, measures: DeliveryMeasures) -> list[SliceChange]:
    """Make the delivery's slices current where they have every charge day of the current slice.

    Runs after ``billing_slices_measure``, whose ``measures`` give each slice's row count; its
    coverage and charge days were recorded there. A slice supersedes the current slice of its
    account and period only when its charge days (distinct UTC dates of ChargePeriodStart)
    include every charge day of the current one: a restatement (the same days) or a fuller
    month-to-date export. Comparing the span from first to last charge instead would let an
    export with a missing day, or one whose month-long fee row stretches its span, replace a
    fuller one. An older, smaller or disjoint export stays stored but not current, so loading
    files out of order never loses spend. Slices left without rows (a chunk that died after
    creating them) are removed. Must run under the finaliser's lock, so two deliveries never
    promote the same account and period at once.
    """
    counts = measures.rows_by_slice
    slices = list(BillingSlice.objects.filter(delivery=delivery))
    empty = [item.pk for item in slices if item.pk not in counts]
    BillingSlice.objects.filter(pk__in=empty).delete()
    slices = [item for item in slices if item.pk in counts]
    current = {
        (item.billing_account_id, item.billing_period_start): item
        for item in BillingSlice.objects.filter(
            is_current=True,
            billing_account_id__in={item.billing_account_id for item in slices},
            billing_period_start__in={item.billing_period_start for item in slices},
        ).exclude(delivery=delivery)
    }
    lacking_of: dict[int, tuple[str, ...]] = {}
    for item in slices:
        item.row_count = counts[item.pk]
        earlier = current.get((item.billing_account_id, item.billing_period_start))
        if earlier is None:
            item.is_current = True
            continue
        _coverage_fill(earlier)
        lacking_of[item.pk] = tuple(sorted(set(earlier.charge_days) - set(item.charge_days or ())))
        item.is_current = not lacking_of[item.pk]
    replaced = [current[(item.billing_account_id, item.billing_period_start)]
                for item in slices if item.pk in lacking_of and item.is_current]  # fmt: skip
    billed = _billed_by_currency(replaced)
    for earlier in replaced:
        earlier.is_current = False
        earlier.superseded_by = delivery
    # The earlier slices step aside first, then these become current, so the one current slice
    # per account and period constraint holds at every statement.
    slices_update(replaced, ["is_current", "superseded_by"])
    slices_update(slices, ["row_count", "is_current"])
    changes = []
    for item in slices:
        if item.pk not in lacking_of:
            continue
        earlier = current[(item.billing_account_id, item.billing_period_start)]
        amounts = billed.get(earlier.pk, {})
        changes.append(SliceChange(item.is_current, item, earlier, earlier.row_count, amounts,
                                   lacking_of[item.pk]))  # fmt: skip
    return changes


def _coverage_fill(item: BillingSlice) -> None:
    # Slices stored before coverage or charge days were recorded get them from their sums once.
    # A slice without rows gets no days: it has nothing to lose.
    if item.coverage_start is not None and item.charge_days is not None:
        return
    measured = _slices_measured(DailySpend.objects.filter(billing_slice=item)).get(item.pk)
    item.coverage_start, item.coverage_end, item.charge_days = measured or (None, None, [])
    item.save(update_fields=["coverage_start", "coverage_end", "charge_days"])


def _slices_measured(
    sums: Any,
) -> dict[int, tuple[dt.datetime, dt.datetime, list[str]]]:
    """Per slice id: earliest ChargePeriodStart, latest ChargePeriodEnd, sorted charge days.

    Charge days are the distinct UTC dates (ISO text) of the rows' ChargePeriodStart, read from
    the daily sums in one grouped query.
    """
    grouped = (
        sums.order_by()
        .values_list("billing_slice_id", "charge_day")
        .annotate(start=Min("charge_period_start"), end=Max("charge_period_end"))
    )
    measured: dict[int, _Span] = {}
    for slice_id, day, start, end in grouped:
        _span_add(measured, slice_id, day, start, end)
    return {key: (start, end, sorted(days)) for key, (start, end, days) in measured.items()}


_Span = tuple[dt.datetime, dt.datetime, set[str]]


def _span_add(
    spans: dict[int, _Span], slice_id: int, day: dt.date, start: dt.datetime, end: dt.datetime
) -> None:
    """Widen a slice's (earliest start, latest end, charge days) by one day's sums."""
    known = spans.get(slice_id)
    if known is None:
        spans[slice_id] = (start, end, {day.isoformat()})
    else:
        known[2].add(day.isoformat())
        spans[slice_id] = (min(start, known[0]), max(end, known[1]), known[2])


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


def _billed_by_currency(slices: list[BillingSlice]) -> dict[int, dict[str, Decimal]]:
    """Per slice id, its BilledCost per currency, read in one grouped query."""
    billed: dict[int, dict[str, Decimal]] = {}
    if not slices:
        return billed
    grouped = (
        DailySpend.objects.filter(billing_slice__in=[item.pk for item in slices])
        .order_by()
        .values_list("billing_slice_id", "billing_currency")
        .annotate(billed=ExactSum("billed_cost"))
    )
    for slice_id, currency, amount in grouped:
        billed.setdefault(slice_id, {})[currency] = amount or Decimal(0)
    return billed


def spend_discard(*, delivery: Delivery) -> int:
    """Remove the staged rows, sums and slices of a delivery that will not be loaded.

    Returns how many rows were removed.
    """
    blocks = SpendBlock.objects.filter(delivery=delivery)
    removed = blocks.aggregate(rows=Sum("row_count"))["rows"] or 0
    blocks.delete()
    DailySpend.objects.filter(billing_slice__delivery=delivery).delete()
    BillingSlice.objects.filter(delivery=delivery, is_current=False).delete()
    return removed


@dataclass
class DeliveryMeasures:
    """What the finaliser learns of a delivery: its daily sums, rows per slice, totals."""

    sums: int
    rows_by_slice: dict[int, int]
    totals: dict[str, dict[str, Decimal]]


def billing_slices_measure(
    *, delivery: Delivery, chunks: list[DeliveryChunk] | None = None
) -> DeliveryMeasures:
    """Record each slice's coverage and charge days; return its rows and the delivery's totals.

    Each slice's coverage (earliest ChargePeriodStart, latest ChargePeriodEnd, shown in
    messages), charge days (what supersession compares) and row count, and the delivery's
    exact per-currency totals, are added up from what each of ``chunks`` recorded when it was
    written. When a chunk recorded nothing (written before chunks did), they are read from the
    delivery's daily sums in one grouped query instead.
    """
    measured = _chunks_measured(chunks) if chunks is not None else None
    if measured is None:
        measured = _sums_measured(delivery)
    count, spans, rows_by_slice, totals = measured
    slices = list(BillingSlice.objects.filter(pk__in=spans))
    for item in slices:
        start, end, days = spans[item.pk]
        item.coverage_start, item.coverage_end, item.charge_days = start, end, sorted(days)
    slices_update(slices, ["coverage_start", "coverage_end", "charge_days"])
    return DeliveryMeasures(count, rows_by_slice, dict(sorted(totals.items())))


_Measured = tuple[int, dict[int, _Span], dict[int, int], dict[str, dict[str, Decimal]]]


def _chunks_measured(chunks: list[DeliveryChunk]) -> _Measured | None:
    spans: dict[int, _Span] = {}
    rows_by_slice: dict[int, int] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    count = 0
    for chunk in chunks:
        if not chunk.rows_loaded:
            continue
        if chunk.measures is None:
            return None
        count += chunk.measures["sums"]
        for key, measure in chunk.measures["slices"].items():
            slice_id = int(key)
            rows_by_slice[slice_id] = rows_by_slice.get(slice_id, 0) + measure["rows"]
            start = dt.datetime.fromisoformat(measure["start"])
            end = dt.datetime.fromisoformat(measure["end"])
            for day in measure["days"]:
                _span_add(spans, slice_id, dt.date.fromisoformat(day), start, end)
        for currency, costs in chunk.measures["totals"].items():
            _totals_add(totals, currency, [None if v is None else Decimal(v)
                                           for v in (costs[name] for name in COSTS)])  # fmt: skip
    return count, spans, rows_by_slice, totals


def _sums_measured(delivery: Delivery) -> _Measured:
    grouped = (
        DailySpend.objects.filter(billing_slice__delivery=delivery)
        .order_by()
        .values_list("billing_slice_id", "charge_day", "billing_currency")
        .annotate(
            start=Min("charge_period_start"),
            end=Max("charge_period_end"),
            rows=Sum("row_count"),
            sums=Count("id"),
            **{name: ExactSum(name) for name in COSTS},
        )
    )
    spans: dict[int, _Span] = {}
    rows_by_slice: dict[int, int] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    count = 0
    for slice_id, day, currency, start, end, rows, sums, *costs in grouped:
        count += sums
        rows_by_slice[slice_id] = rows_by_slice.get(slice_id, 0) + rows
        _span_add(spans, slice_id, day, start, end)
        _totals_add(totals, currency, costs)
    return count, spans, rows_by_slice, totals


def _totals_add(
    totals: dict[str, dict[str, Decimal]], currency: str, costs: list[Decimal | None]
) -> None:
    into = totals.setdefault(currency, {name: Decimal(0) for name in COSTS})
    for name, value in zip(COSTS, costs, strict=True):
        into[name] = exact_sum([into[name], value])
