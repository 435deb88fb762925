"""Writing normalised FOCUS chunks into spend tables: slices, rows, supersession and rollups.

Everything here runs inside the delivery's transaction. On PostgreSQL rows go in with ``COPY``
(CSV written by pyarrow, no Python loop per row); on SQLite, the embedded default, with
``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections import Counter
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from django.db import connection
from django.db.models import Count, Q

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


class SliceRegistry:
    """The billing slices of one delivery, created as new (account, period) pairs appear.

    Slices are created not current; ``billing_slices_promote`` makes them current at the end,
    after the older slices of the same pairs stepped aside.
    """

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.slices: dict[SliceKey, BillingSlice] = {}
        self.counts: Counter[int] = Counter()

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
        counts = pc.value_counts(encoded.indices)
        for item in counts.to_pylist():
            self.counts[ids[item["values"]]] += item["counts"]
        return pc.take(pa.array(ids, pa.int64()), encoded.indices)

    def _slice(self, key: SliceKey, period_end: dt.datetime) -> BillingSlice:
        found = self.slices.get(key)
        if found is None:
            found = self.slices[key] = BillingSlice.objects.create(
                delivery=self.delivery, billing_account_id=key[0], billing_period_start=key[1],
                billing_period_end=period_end, is_current=False,
            )  # fmt: skip
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
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ", locale="C")
        arrays.append(column)
    buffer = io.BytesIO()
    pcsv.write_csv(
        pa.table(arrays, names=list(_ROW_FIELDS)), buffer,
        write_options=pcsv.WriteOptions(include_header=False),
    )  # fmt: skip
    columns = ", ".join(connection.ops.quote_name(name) for name in _ROW_FIELDS)
    sql = f"COPY {SpendRow._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(buffer.getbuffer())


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


def billing_slices_promote(*, registry: SliceRegistry) -> int:
    """Make the delivery's slices current; older current slices of the same pairs step aside.

    Returns the number of older slices superseded.
    """
    if not registry.slices:
        return 0
    same_pairs = Q()
    for account, start in registry.slices:
        same_pairs |= Q(billing_account_id=account, billing_period_start=start)
    superseded = (
        BillingSlice.objects.filter(same_pairs, is_current=True)
        .exclude(delivery=registry.delivery)
        .update(is_current=False, superseded_by=registry.delivery)
    )
    for billing_slice in registry.slices.values():
        billing_slice.row_count = registry.counts[billing_slice.pk]
        billing_slice.is_current = True
    BillingSlice.objects.bulk_update(registry.slices.values(), ["row_count", "is_current"])
    return superseded


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
    """Per billing currency, the exact sums of the four costs of the delivery's stored rows."""
    grouped = (
        SpendRow.objects.filter(delivery=delivery)
        .order_by()
        .values("billing_currency")
        .annotate(**{name: ExactSum(name) for name in _COSTS})
    )
    totals = {
        item["billing_currency"]: {name: item[name] or Decimal(0) for name in _COSTS}
        for item in grouped
    }
    return dict(sorted(totals.items()))
