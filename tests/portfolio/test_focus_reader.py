"""Reading FOCUS files: format from content, headers, nulls, versions, date-times, numbers."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portfolio.focus.columns import canonical_name, focus_version_detect
from portfolio.focus.errors import DeliveryRejected, WarningLog
from portfolio.focus.normalise import chunk_normalise, column_plan_make, datetime_parse
from portfolio.focus.reader import (
    file_batches,
    file_format_detect,
    file_header_read,
    file_rows_estimate,
)
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import csv_rows

B01 = BUGCASES_DIR / "B01-double-bom.csv"


def _header(path):
    return file_header_read(path, file_format_detect(path))


def test_the_format_comes_from_the_content_not_the_name(tmp_path):
    hidden_gzip = tmp_path / "export.csv"
    hidden_gzip.write_bytes(gzip.compress(B01.read_bytes()))
    parquet_named_txt = tmp_path / "data.txt"
    pq.write_table(pa.table({"a": ["1"]}), parquet_named_txt)

    assert file_format_detect(hidden_gzip) == "csv.gz"
    assert file_format_detect(parquet_named_txt) == "parquet"
    assert file_format_detect(B01) == "csv"
    assert _header(hidden_gzip) == _header(B01)


def test_byte_order_marks_are_removed_from_the_header():
    assert _header(B01)[0] == "BillingAccountId"
    assert _header(SAMPLES_DIR / "focusspec-saas-virtualcurrency-focus1.2-example.csv")[0] == (
        "BilledCost"
    )


def test_every_value_is_a_string_and_null_tokens_are_null():
    path = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
    header = _header(path)

    table = next(file_batches(path, "csv", header, on_bad_line=print))

    assert set(table.schema.types) == {pa.string()}
    first = table.slice(0, 1).to_pylist()[0]
    assert first["Id"] == "11472"
    assert first["BillingAccountId"] == "1234567890123"
    assert first["AvailabilityZone"] is None
    assert first["ListUnitPrice"] == "0.0000004"
    assert file_rows_estimate(path, "csv") == 1000


@pytest.mark.parametrize(
    ("header", "version"),
    [
        (["BillingAccountId", "UsageQuantity", "Region"], "1.0-preview"),
        (["BillingAccountId", "AmortizedCost", "ChargeType"], "0.5"),
        (["BilledCost", "ContractedCost"], "1.0"),
        (["BilledCost", "SkuPriceDetails"], "1.1"),
        (["BilledCost", "InvoiceId"], "1.2"),
        (["BilledCost", "ProviderName", "ServiceProviderName"], "1.3"),
    ],
)
def test_the_version_is_found_from_the_newest_column(header, version):
    assert focus_version_detect(header) == version


def test_old_names_resolve_to_todays_names():
    assert [
        canonical_name(n)
        for n in ("UsageQuantity", "UsageUnit", "Region", "AmortizedCost", "ChargeType", "Tags")
    ] == ["ConsumedQuantity", "ConsumedUnit", "RegionId", "EffectiveCost", "ChargeCategory", "Tags"]


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-09-18T22:00:00Z", dt.datetime(2024, 9, 18, 22, tzinfo=dt.UTC)),
        ("2024-09-18 22:00:00", dt.datetime(2024, 9, 18, 22, tzinfo=dt.UTC)),
        ("2025-03-01T00:00Z", dt.datetime(2025, 3, 1, tzinfo=dt.UTC)),
        ("2025-03-03T00:00:00.250Z", dt.datetime(2025, 3, 3, 0, 0, 0, 250000, tzinfo=dt.UTC)),
        ("2025-03-04T02:00:00+02:00", dt.datetime(2025, 3, 4, tzinfo=dt.UTC)),
        ("2025-03-04T02:00:00-0130", dt.datetime(2025, 3, 4, 3, 30, tzinfo=dt.UTC)),
        ("4/1/25", dt.datetime(2025, 4, 1, tzinfo=dt.UTC)),
        ("2025-04-01", dt.datetime(2025, 4, 1, tzinfo=dt.UTC)),
        ("2025-02-30T00:00:00Z", None),
        ("yesterday", None),
    ],
)
def test_date_times_are_read_in_utc(text, moment):
    assert datetime_parse(text) == moment


def test_a_chunk_keeps_numbers_as_exact_text_and_lists_bad_values():
    header = _header(B01)
    raw = next(file_batches(B01, "csv", header, on_bad_line=print))
    costs = raw.column("BilledCost").to_pylist()
    raw = raw.set_column(header.index("BilledCost"), "BilledCost", pa.array(["35.2E-7", "x1"]))
    warnings = WarningLog()
    plan = column_plan_make(header=header, file="B01.csv", warnings=warnings)

    table, chunk = chunk_normalise(table=raw, plan=plan, first_row=1, warnings=warnings)

    assert costs == ["10.00", "2.50"]
    assert Decimal(table.column("billed_cost")[0].as_py()) == Decimal("0.00000352")
    assert [e.message for e in chunk.errors] == [
        'B01.csv data row 2, column BilledCost: "x1" is not a number.'
    ]
    assert table.column("billing_account_id").to_pylist() == ["ba-1001", "ba-1001"]
    assert table.column("tags").to_pylist() == ['{"team": "alpha"}'] * 2
    assert len(csv_rows(B01)) == 2


def test_a_header_naming_a_column_twice_is_rejected():
    with pytest.raises(DeliveryRejected) as raised:
        column_plan_make(
            header=["BillingAccountId", "UsageQuantity", "ConsumedQuantity"], file="f.csv",
            warnings=WarningLog(),
        )  # fmt: skip

    assert [e.message for e in raised.value.errors] == [
        "f.csv, column ConsumedQuantity: appears twice in the header."
    ]
