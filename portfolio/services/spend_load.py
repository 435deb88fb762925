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
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from django.db import connection
from django.db.models import Count, Q, Sum

from finops_exec.exact import ExactSum
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


def billing_slices_promote(*, delivery: Delivery) -> int:
    """Make the delivery's slices current; older current slices of the same pairs step aside.

    Runs after ``monthly_spend_write``: each slice's row count comes from its rollups. Slices
    left without rows (a chunk that died after creating them) are removed. Returns the number
    of older slices superseded.
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
    if not slices:
        return 0

    same_pairs = Q()
    for item in slices:
        same_pairs |= Q(
            billing_account_id=item.billing_account_id,
            billing_period_start=item.billing_period_start,
        )
    superseded = (
        BillingSlice.objects.filter(same_pairs, is_current=True)
        .exclude(delivery=delivery)
        .update(is_current=False, superseded_by=delivery)
    )
    for item in slices:
        item.row_count = counts[item.pk]
        item.is_current = True
    BillingSlice.objects.bulk_update(slices, ["row_count", "is_current"])
    return superseded


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
    """Write the monthly rollups of the delivery's slices from its stored rows."""
    grouped = (
        SpendRow.objects.filter(delivery=delivery)
        .order_by()
        .values(*_ROLLUP_DIMENSIONS)
        .annotate(row_count=Count("id"), **{name: ExactSum(name) for name in _COSTS})
    )
    rollups = [MonthlySpend(**item) for item in grouped]
    MonthlySpend.objects.bulk_create(rollups, batch_size=1000)
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
