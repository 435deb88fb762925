"""Stored FOCUS rows: Parquet blocks in the database, and the reads that need single rows.

Every delivery's normalised rows are kept, chunk by chunk, as ``SpendBlock`` values: Parquet
with zstd, amounts as ``decimal128(38, 18)``, timestamps in UTC, tags and other columns as JSON
text. ``DailySpend`` holds their exact sums by the dimensions reports use; what it does not keep
(resources, SKUs, quantities, prices, invoice and commitment ids, descriptions) is read here,
block by block, so memory stays bounded by one block whatever the size of the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from portfolio.focus.normalise import FIELD_KINDS
from portfolio.models import BillingSlice, SpendBlock

logger = logging.getLogger(__name__)

COSTS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")

# The grain of DailySpend: its rows are exact sums of the stored rows per these values.
DAILY_DIMENSIONS = (
    "billing_slice_id", "charge_day", "charge_month", "whole_month", "billing_currency",
    "technology_category_id", "billing_account_id", "billing_account_name", "sub_account_id",
    "sub_account_name", "provider_name", "publisher_name", "invoice_issuer_name",
    "service_category", "service_subcategory", "service_name", "region_id", "region_name",
    "charge_category", "charge_class", "charge_frequency", "pricing_category", "pricing_unit",
    "commitment_discount_status", "tags",
)  # fmt: skip

DECIMAL = pa.decimal128(38, 18)
# Sums of stored amounts: a row holds up to 1e20, and decimal128 wraps past about 1.7e20, so
# sums read from rows are made in decimal256, exact for any number of rows.
WIDE = pa.decimal256(76, 18)
_DECIMAL_FIELDS = tuple(name for name, kind in FIELD_KINDS.items() if kind == "decimal")
# Columns a block holds besides the FOCUS fields. A row's billing slice is that of its
# delivery, billing account and billing period start; readers add ``billing_slice_id``.
BOOKKEEPING = ("technology_category_id", "source_file", "source_row", "charge_month")
STORED_COLUMNS = (*BOOKKEEPING, *FIELD_KINDS, "extras")
ROW_COLUMNS = ("billing_slice_id", *STORED_COLUMNS)
_SLICE_KEY = ("billing_account_id", "billing_period_start")


def decimals_typed(table: pa.Table) -> pa.Table:
    """The table with its amounts and quantities (decimal text) cast to ``decimal128(38, 18)``.

    The text was checked to fit numeric(38, 18) when it was normalised, so the cast is exact.
    """
    return _cast(table, _DECIMAL_FIELDS, DECIMAL)


def widened(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """The table with the ``names`` amounts in ``WIDE``, to be summed without overflow."""
    return _cast(table, names, WIDE)


def costs_typed(table: pa.Table) -> pa.Table:
    """The table with its four costs (decimal text) cast to ``decimal128(38, 18)``."""
    return _cast(table, COSTS, DECIMAL)


def _cast(table: pa.Table, names: Sequence[str], to: pa.DataType) -> pa.Table:
    for name in names:
        position = table.schema.get_field_index(name)
        if position >= 0 and table.schema.field(position).type != to:
            table = table.set_column(position, name, pc.cast(table.column(position), to))
    return table


# Prices and quantities are stored as their exact decimal text (a few repeat, most do not), the
# costs as decimal128: what sums need typed is typed once, and blocks stay small and quick to
# write. ``block_decode`` gives every amount back as decimal128.
_STORED_AS_TEXT = tuple(name for name in _DECIMAL_FIELDS if name not in COSTS)


def block_encode(table: pa.Table) -> bytes:
    """One chunk's rows as Parquet bytes, columns in ``STORED_COLUMNS``."""
    rows = _cast(costs_typed(table.select(list(STORED_COLUMNS))), _STORED_AS_TEXT, pa.string())
    dictionary = [
        field.name
        for field in rows.schema
        if pa.types.is_string(field.type) and field.name not in _STORED_AS_TEXT
    ]
    sink = pa.BufferOutputStream()
    pq.write_table(
        rows, sink, compression="zstd", compression_level=1, use_dictionary=dictionary,
        write_statistics=False,
    )  # fmt: skip
    return sink.getvalue().to_pybytes()


def block_decode(data: bytes | memoryview, columns: Sequence[str] | None = None) -> pa.Table:
    """A block's rows (``columns`` of them, or all), every amount as decimal128."""
    table = pq.read_table(pa.BufferReader(bytes(data)), columns=list(columns) if columns else None)
    return decimals_typed(table)


def _current_slice_ids() -> list[int]:
    return list(BillingSlice.objects.filter(is_current=True).values_list("pk", flat=True))


def row_blocks(
    *,
    columns: Sequence[str] | None = None,
    slice_ids: Iterable[int] | None = None,
    delivery_id: int | None = None,
    every: bool = False,
) -> Iterator[pa.Table]:
    """The stored rows block by block, in delivery and chunk order.

    By default the rows of current billing slices (the rows every total is made of); or those
    of ``slice_ids``; with ``delivery_id``, all rows of that delivery, current or not; with
    ``every``, all stored rows, staged and superseded ones included.
    """
    wanted = None
    blocks = SpendBlock.objects.order_by("delivery_id", "index")
    if delivery_id is not None:
        blocks = blocks.filter(delivery_id=delivery_id)
    elif not every:
        wanted = set(_current_slice_ids() if slice_ids is None else slice_ids)
        if not wanted:
            return
        deliveries = BillingSlice.objects.filter(pk__in=wanted).values("delivery_id")
        blocks = blocks.filter(delivery_id__in=deliveries)
    read = [name for name in (columns or ROW_COLUMNS) if name != "billing_slice_id"]
    read = list(dict.fromkeys([*read, *_SLICE_KEY]))
    slices: dict[int, dict[tuple[str, Any], int]] = {}
    rows = blocks.values_list("pk", "delivery_id", "slice_ids")
    for block_id, block_delivery, block_slices in rows.iterator():
        if wanted is not None and not wanted.intersection(block_slices):
            continue
        if block_delivery not in slices:
            slices[block_delivery] = _slices_of(block_delivery)
        # One block's bytes at a time: the store may be far larger than memory.
        data = SpendBlock.objects.filter(pk=block_id).values_list("data", flat=True).get()
        table = block_decode(data, read)
        table = table.append_column("billing_slice_id", slice_ids_of(table, slices[block_delivery]))
        if wanted is not None and not wanted.issuperset(block_slices):
            mask = pc.is_in(table.column("billing_slice_id"), pa.array(sorted(wanted), pa.int64()))
            table = table.filter(mask)
        yield table.select(list(columns) if columns else list(ROW_COLUMNS))


def _slices_of(delivery_id: int) -> dict[tuple[str, Any], int]:
    found = BillingSlice.objects.filter(delivery_id=delivery_id)
    return {
        (account, start): pk
        for pk, account, start in found.values_list(
            "pk", "billing_account_id", "billing_period_start"
        )
    }


def slice_ids_of(table: pa.Table, slices: dict[tuple[str, Any], int]) -> pa.Array:
    """Each row's billing slice id, from its account and period start (few distinct pairs).

    ``slices`` maps (billing account id, billing period start) to the slice id.
    """
    accounts = pc.dictionary_encode(table.column("billing_account_id").combine_chunks())
    starts = pc.dictionary_encode(table.column("billing_period_start").combine_chunks())
    width = max(len(starts.dictionary), 1)
    pairs = pc.add(
        pc.multiply(pc.cast(accounts.indices, pa.int64()), width),
        pc.cast(starts.indices, pa.int64()),
    )
    encoded = pc.dictionary_encode(pairs)
    ids = [
        slices.get((accounts.dictionary[pair // width].as_py(),
                    starts.dictionary[pair % width].as_py()))
        for pair in encoded.dictionary.to_pylist()
    ]  # fmt: skip
    return pc.take(pa.array(ids, pa.int64()), encoded.indices)


def rows_table(**filters: Any) -> pa.Table:
    """All rows ``row_blocks`` yields, as one table (for small reads and checks)."""
    columns = filters.get("columns") or ROW_COLUMNS
    tables = list(row_blocks(**filters))
    if not tables:
        return block_decode(_empty_block(), columns).slice(0, 0)
    return pa.concat_tables(tables)


def _empty_block() -> bytes:
    empty = {name: pa.nulls(0, _block_type(name)) for name in ROW_COLUMNS}
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(empty), sink)
    return sink.getvalue().to_pybytes()


def _block_type(name: str) -> pa.DataType:
    kind = FIELD_KINDS.get(name)
    if kind == "decimal":
        return DECIMAL
    if kind == "datetime":
        return pa.timestamp("us", tz="UTC")
    if name in ("billing_slice_id", "technology_category_id", "source_file", "source_row"):
        return pa.int64()
    if name == "charge_month":
        return pa.date32()
    return pa.string()


def rows_list(**filters: Any) -> list[dict[str, Any]]:
    """The rows as dicts: amounts Decimal, times aware UTC datetimes, tags and extras dicts."""
    rows = rows_table(**filters).to_pylist()
    for row in rows:
        for name in ("tags", "extras"):
            if name in row:
                row[name] = json.loads(row[name]) if row[name] else {}
    return rows
