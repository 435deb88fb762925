"""Bad input files are refused with file, row, column and value named, the same on every database.

Each case starts from a small clean bug-case file and changes one value or its encoding; the
expected messages, stored values and counts are worked out here with the csv and decimal
modules, independently of the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from finops_exec.exact import exact_sum
from portfolio.focus.conformance import ConformanceAccumulator, conformance_check
from portfolio.focus.reader import file_batches, file_format_detect, file_header_read
from portfolio.models import DailySpend, Delivery, SpendBlock
from portfolio.rowstore import rows_list
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR

pytestmark = pytest.mark.django_db

SMALL = BUGCASES_DIR / "B15-negative-credits-refund.csv"
REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
GCP_13 = SAMPLES_DIR / "synthetic-gcp-focus1.3.csv"
COMMITMENTS = SAMPLES_DIR / "synthetic-gcp-focus1.3-contractcommitment.csv"
NOTE = " Row numbers count data rows from 1, not counting the header."
SAVE_AS = "FOCUS files are UTF-8: export the file again as UTF-8 (in Excel: Save As, CSV UTF-8)."


def _rows(source: Path = SMALL) -> tuple[list[str], list[list[str]]]:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]], encoding="utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _copy_with(tmp_path: Path, name: str, row: int, column: str, value: str, **kw) -> Path:
    """A copy of SMALL whose data row ``row`` (1-based) has ``value`` in ``column``."""
    header, rows = _rows()
    rows[row - 1][header.index(column)] = value
    return _write(tmp_path / name, header, rows, **kw)


def _ingest(*paths: Path) -> Delivery:
    return delivery_ingest(delivery=delivery_create(paths=list(paths)))


def _rejected(delivery: Delivery) -> list[str]:
    assert delivery.status == Delivery.Status.REJECTED
    assert (SpendBlock.objects.count(), DailySpend.objects.count()) == (0, 0)
    return [error["message"] for error in delivery.errors]


def _findings(delivery_or_report, code: str) -> list[dict]:
    report = getattr(delivery_or_report, "conformance", delivery_or_report)
    return [f for f in report["findings"] if f["code"] == code]


# Numbers that do not fit numeric(38, 18) ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1e400",
        "1234567890123456789012345678901234567890",
        "-100000000000000000000",
        # An exponent beyond what Decimal holds is still just a number too large to store.
        "1e99999999999999999999",
        "-2.5E+123456789012345678901234",
    ],
)
def test_an_amount_too_large_to_store_is_rejected_naming_row_column_and_value(tmp_path, value):
    delivery = _ingest(_copy_with(tmp_path, "big.csv", 1, "BilledCost", value))

    assert _rejected(delivery) == [
        f'big.csv data row 1, column BilledCost: "{value}" is too large (at most 20 digits '
        "before the decimal point)."
    ]
    assert delivery.error_message.startswith("Rejected, nothing was stored: big.csv data row 1")
    assert _findings(delivery, "number_too_large")[0]["rows"] == [1]


def test_an_exponent_beyond_what_decimal_holds_rounds_a_tiny_amount_to_zero(tmp_path):
    delivery = _ingest(_copy_with(tmp_path, "tiny.csv", 1, "BilledCost", "7e-99999999999999999999"))

    assert delivery.status == Delivery.Status.LOADED
    first = next(row for row in rows_list(every=True) if row["source_row"] == 1)
    assert first["billed_cost"] == Decimal(0)
    assert [w["rows"] for w in delivery.warnings if w["code"] == "precision_rounded"] == [[1]]
    assert _findings(delivery, "precision_rounded")[0]["rows"] == [1]


def test_an_amount_rounded_to_the_largest_storable_one_loads(tmp_path):
    value = "99999999999999999999.9999999999999999994"
    delivery = _ingest(_copy_with(tmp_path, "edge.csv", 1, "BilledCost", value))

    assert delivery.status == Delivery.Status.LOADED
    first = next(row for row in rows_list(every=True) if row["source_row"] == 1)
    assert first["billed_cost"] == Decimal("99999999999999999999.999999999999999999")


def test_the_largest_storable_amount_loads_exactly(tmp_path):
    value = "99999999999999999999.999999999999999999"
    delivery = _ingest(_copy_with(tmp_path, "edge.csv", 1, "BilledCost", value))

    assert delivery.status == Delivery.Status.LOADED
    first = next(row for row in rows_list(every=True) if row["source_row"] == 1)
    assert first["billed_cost"] == Decimal(value)


def test_more_than_18_decimal_places_round_half_to_even_with_a_warning(tmp_path):
    header, rows = _rows()
    column = header.index("BilledCost")
    values = [
        "0.1234567890123456789012345678901234567890",
        "0.0000000000000000025",  # a tie: rounds to the even 2
        "0.0000000000000000035",  # a tie: rounds to the even 4
        "1.5e-30",
        "12.50",
    ]
    for row, value in zip(rows, values, strict=True):
        row[column] = value
    delivery = _ingest(_write(tmp_path / "fine.csv", header, rows))

    assert delivery.status == Delivery.Status.LOADED
    expected = [Decimal(v).quantize(Decimal("1e-18"), ROUND_HALF_EVEN) for v in values]
    rows = rows_list(every=True)
    assert [r["source_row"] for r in rows] == [1, 2, 3, 4, 5]
    stored = [r["billed_cost"] for r in rows]
    assert stored == expected
    assert stored[:3] == [
        Decimal("0.123456789012345679"),
        Decimal("0.000000000000000002"),
        Decimal("0.000000000000000004"),
    ]
    (warning,) = [w for w in delivery.warnings if w["code"] == "precision_rounded"]
    assert warning == {
        "code": "precision_rounded",
        "message": "fine.csv: some BilledCost values have more than 18 decimal places; they "
        "were rounded half to even to 18 places.",
        "column": "BilledCost",
        "rows": [1, 2, 3, 4],
        "file": "fine.csv",
        "count": 4,
    }
    assert _findings(delivery, "precision_rounded")[0]["rows"] == [1, 2, 3, 4]
    assert delivery.totals["USD"]["billed_cost"] == str(sum(expected)).rstrip("0")


def _big_rows(tmp_path: Path, name: str, value: str, days: list[str]) -> Path:
    """A copy of SMALL's first row once per charge day in ``days``, every cost ``value``."""
    header, rows = _rows()
    first = rows[0]
    made = []
    for index, day in enumerate(days):
        row = list(first)
        for column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
            row[header.index(column)] = value
        row[header.index("ChargePeriodStart")] = f"{day}T00:00:00Z"
        row[header.index("ChargePeriodEnd")] = f"{day}T01:00:00Z"
        row[header.index("ResourceId")] = f"res-big-{index}"
        made.append(row)
    return _write(tmp_path / name, header, made)


def test_a_daily_sum_beyond_what_a_total_can_hold_is_rejected_not_wrapped(tmp_path):
    path = _big_rows(tmp_path, "wrap.csv", "90000000000000000000", ["2025-03-05"] * 3)

    assert _rejected(_ingest(path)) == [
        "wrap.csv, column BilledCost: the rows of billing account ba-1001 on 2025-03-05 sum "
        "to 270000000000000000000, more than a total can hold (at most 20 digits before the "
        "decimal point)."
    ]


def test_sums_of_the_largest_amounts_over_several_days_stay_exact(tmp_path, practitioner_api):
    value = "99999999999999999999.999999999999999999"
    path = _big_rows(tmp_path, "edge-days.csv", value, ["2025-03-05", "2025-03-06"])

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.LOADED
    # 39 significant digits: more than Python's default 28, so written out, not computed.
    total = Decimal("199999999999999999999.999999999999999998")
    assert delivery.totals["USD"]["billed_cost"] == str(total)
    for group_by in ("billing_account_id", "resource_id", "day"):
        body = practitioner_api.get(f"/api/v1/spend/?group_by={group_by}").json()
        assert exact_sum(Decimal(row["billed_cost"]) for row in body["results"]) == total
    same_resource = practitioner_api.get(
        "/api/v1/spend/?group_by=billing_account_id,sku_id"
    ).json()["results"]
    assert [Decimal(row["billed_cost"]) for row in same_resource] == [total]


# Bytes that cannot be stored or read --------------------------------------------------------


def test_a_nul_byte_in_a_value_is_rejected_on_every_database(tmp_path):
    delivery = _ingest(_copy_with(tmp_path, "nul.csv", 2, "ServiceName", "Example\x00VMs"))

    assert _rejected(delivery) == [
        'nul.csv data row 2, column ServiceName: "Example\\x00VMs" holds a NUL byte (shown as '
        "\\x00), which cannot be stored; remove it from the file."
    ]
    (finding,) = _findings(delivery, "nul_byte")
    assert (finding["column"], finding["rows"], finding["count"]) == ("ServiceName", [2], 1)


def test_a_nul_byte_in_a_value_that_fails_another_check_is_rejected_not_a_crash(tmp_path):
    delivery = _ingest(_copy_with(tmp_path, "nul.csv", 2, "BilledCost", "12\x00"))

    assert _rejected(delivery) == [
        'nul.csv data row 2, column BilledCost: "12\\x00" is not a number.',
        'nul.csv data row 2, column BilledCost: "12\\x00" holds a NUL byte (shown as \\x00), '
        "which cannot be stored; remove it from the file.",
    ]
    assert [error["value"] for error in delivery.errors] == ["12\\x00", "12\\x00"]


def test_a_windows_1252_file_is_rejected_naming_row_column_and_the_byte(tmp_path):
    path = _copy_with(tmp_path, "win.csv", 3, "ServiceName", "Café VMs", encoding="cp1252")

    delivery = _ingest(path)

    assert _rejected(delivery) == [
        'win.csv data row 3, column ServiceName: the byte 0xE9 in "Caf\\xe9 VMs" is not UTF-8 '
        f"(the file looks like Windows-1252 or Latin-1). {SAVE_AS}"
    ]
    assert delivery.error_message == (
        "Rejected, nothing was stored: " + delivery.errors[0]["message"] + NOTE
    )
    (finding,) = _findings(delivery, "unreadable_file")
    assert finding["message"] == delivery.errors[0]["message"]


def test_a_gzip_compressed_windows_1252_file_is_rejected_the_same_way(tmp_path):
    plain = _copy_with(tmp_path, "w.csv", 5, "ChargeDescription", "Licence ½", encoding="cp1252")
    path = tmp_path / "win.csv.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))

    assert _rejected(_ingest(path)) == [
        'win.csv.gz data row 5, column ChargeDescription: the byte 0xBD in "Licence \\xbd" is '
        f"not UTF-8 (the file looks like Windows-1252 or Latin-1). {SAVE_AS}"
    ]


def test_a_windows_1252_header_is_rejected_naming_the_column_position(tmp_path):
    header, rows = _rows()
    header[1] = "BillingAccountName\u00b4"
    delivery = _ingest(_write(tmp_path / "head.csv", header, rows, encoding="cp1252"))

    assert _rejected(delivery) == [
        'head.csv: header, column 2: the byte 0xB4 in "BillingAccountName\\xb4" is not UTF-8 '
        f"(the file looks like Windows-1252 or Latin-1). {SAVE_AS}"
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf_16_file_is_rejected_saying_to_export_utf_8(tmp_path, encoding):
    # UTF-16 is refused rather than decoded: one encoding end to end keeps the reader simple
    # and the stored text certain, and Excel offers CSV UTF-8 beside "Unicode text".
    header, rows = _rows()
    delivery = _ingest(_write(tmp_path / "u16.csv", header, rows, encoding=encoding))

    assert _rejected(delivery) == [f"u16.csv: the file is UTF-16 encoded. {SAVE_AS}"]


def test_a_gzip_file_cut_in_half_is_rejected_naming_the_last_complete_row(tmp_path):
    whole = gzip.compress(GCP_13.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    # Independently: what zlib can inflate from the half, counted in whole lines.
    inflated = zlib.decompressobj(wbits=31).decompress(whole[: len(whole) // 2])
    last_complete = inflated.count(b"\n") - 1
    assert 0 < last_complete < 100

    delivery = _ingest(path)

    assert _rejected(delivery) == [
        "cut.csv.gz: the file is cut short: its compressed data ends early (Truncated "
        f"compressed stream); the last complete row is data row {last_complete}. Send the "
        "complete file again."
    ]


# Implausible values -------------------------------------------------------------------------


def test_a_charge_period_ending_before_it_starts_is_rejected(tmp_path):
    path = _copy_with(tmp_path, "end.csv", 1, "ChargePeriodEnd", "2025-03-04T00:00:00Z")

    delivery = _ingest(path)

    assert _rejected(delivery) == [
        'end.csv data row 1, column ChargePeriodEnd: "2025-03-04T00:00:00Z" is before '
        'ChargePeriodStart "2025-03-05T00:00:00Z"; a period must end after it starts.'
    ]
    (finding,) = _findings(delivery, "period_order")
    assert (finding["severity"], finding["column"], finding["rows"]) == (
        "error", "ChargePeriodEnd", [1],
    )  # fmt: skip


def test_a_billing_period_ending_before_it_starts_is_rejected(tmp_path):
    path = _copy_with(tmp_path, "bill.csv", 4, "BillingPeriodEnd", "2025-02-01T00:00:00Z")

    assert _rejected(_ingest(path)) == [
        'bill.csv data row 4, column BillingPeriodEnd: "2025-02-01T00:00:00Z" is before '
        'BillingPeriodStart "2025-03-01T00:00:00Z"; a period must end after it starts.'
    ]


def test_an_empty_period_loads_but_is_an_error_finding(tmp_path):
    header, rows = _rows()
    start = rows[1][header.index("ChargePeriodStart")]
    delivery = _ingest(_copy_with(tmp_path, "empty.csv", 2, "ChargePeriodEnd", start))

    assert delivery.status == Delivery.Status.LOADED
    (finding,) = _findings(delivery, "period_order")
    assert (finding["rows"], finding["count"]) == ([2], 1)


def test_dates_before_2000_or_over_a_year_ahead_are_warning_findings(tmp_path):
    header, rows = _rows()
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(days=400)).strftime("%Y-%m-%dT00:00:00Z")
    rows[0][header.index("ChargePeriodStart")] = "1999-12-31T00:00:00Z"
    rows[2][header.index("ChargePeriodEnd")] = ahead
    delivery = _ingest(_write(tmp_path / "odd.csv", header, rows))

    assert delivery.status == Delivery.Status.LOADED
    found = {(f["column"], tuple(f["rows"]), f["severity"]) for f in
             _findings(delivery, "implausible_date")}  # fmt: skip
    assert found == {("ChargePeriodStart", (1,), "warning"), ("ChargePeriodEnd", (3,), "warning")}


def test_a_lower_case_currency_is_stored_in_upper_case_with_a_warning(tmp_path):
    delivery = _ingest(_copy_with(tmp_path, "usd.csv", 1, "BillingCurrency", "usd"))

    assert delivery.status == Delivery.Status.LOADED
    assert {row["billing_currency"] for row in rows_list(every=True)} == {"USD"}
    assert set(DailySpend.objects.values_list("billing_currency", flat=True)) == {"USD"}
    assert list(delivery.totals) == ["USD"]
    (warning,) = [w for w in delivery.warnings if w["code"] == "currency_case"]
    assert (warning["rows"], warning["count"]) == ([1], 1)
    assert _findings(delivery, "currency_case")[0]["rows"] == [1]


@pytest.mark.parametrize("code", ["XXX", "ABC", "XAU"])
def test_a_code_that_is_no_iso_4217_currency_is_rejected(tmp_path, code):
    delivery = _ingest(_copy_with(tmp_path, "cur.csv", 1, "BillingCurrency", code))

    assert _rejected(delivery) == [
        f'cur.csv data row 1, column BillingCurrency: "{code}" is not an ISO 4217 national '
        "currency code such as USD or EUR."
    ]
    assert _findings(delivery, "currency_invalid")[0]["rows"] == [1]


# One pass: the conformance report from the ingest's own batches ------------------------------


def _whole_table(path: Path) -> pa.Table:
    header = file_header_read(path, file_format_detect(path))
    return pa.concat_tables(file_batches(path, file_format_detect(path), header, on_bad_line=print))


def _entries(*paths: Path) -> list[dict]:
    return [{"name": p.name, "path": str(p), "format": file_format_detect(p)} for p in paths]


@pytest.mark.parametrize("batch_rows", [1, 7, 1000])
def test_batches_fed_to_the_accumulator_give_the_report_of_reading_the_files(batch_rows):
    entries = _entries(REAL, GCP_13, COMMITMENTS)
    accumulator = ConformanceAccumulator(files=entries, commitments_known=lambda ids: set())
    for file_index, entry in enumerate(entries[:2]):
        table = _whole_table(Path(entry["path"]))
        for start in range(0, table.num_rows, batch_rows):
            part = table.slice(start, batch_rows)
            accumulator.add(file_index=file_index, table=part, first_row=start + 1)
        accumulator.file_complete(file_index=file_index)

    expected = conformance_check(files=entries, commitments_known=lambda ids: set())
    assert accumulator.report() == expected
    assert [f["rows"] for f in expected["files"]] == [1000, 100, 11]


def test_a_file_read_only_in_part_is_read_to_its_end_for_the_report():
    entries = _entries(REAL)
    table = _whole_table(REAL)
    accumulator = ConformanceAccumulator(files=entries)
    accumulator.add(file_index=0, table=table.slice(0, 1234), first_row=1)

    assert accumulator.report() == conformance_check(files=entries)


def test_batches_out_of_order_are_dropped_and_the_file_read_whole():
    entries = _entries(REAL)
    table = _whole_table(REAL)
    accumulator = ConformanceAccumulator(files=entries)
    accumulator.add(file_index=0, table=table.slice(0, 10), first_row=1)
    accumulator.add(file_index=0, table=table.slice(20, 10), first_row=21)
    accumulator.file_complete(file_index=0)

    assert accumulator.report() == conformance_check(files=entries)


def test_a_delivery_rejected_early_keeps_whole_file_counts_in_its_report(tmp_path):
    header, rows = _rows(REAL)
    rows[0][header.index("BilledCost")] = "abc"
    bad = _write(tmp_path / "bad.csv", header, rows)

    delivery = delivery_ingest(delivery=delivery_create(paths=[bad]), chunk_rows=500)

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.conformance == conformance_check(
        files=_entries(bad), commitments_known=lambda ids: set()
    )
    assert delivery.conformance["files"][0]["rows"] == len(rows) == 1000


@pytest.mark.parametrize("compress", [False, True])
def test_a_row_larger_than_a_read_block_is_named_not_called_a_cut_short_file(tmp_path, compress):
    header, rows = _rows()
    huge = list(rows[0])
    huge[header.index("Tags")] = '{"note": "' + "x" * (10 * 1024 * 1024) + '"}'
    before = rows * 1000
    path = _write(tmp_path / "huge.csv", header, [*before, huge, *rows])
    if compress:
        path = tmp_path / "huge.csv.gz"
        path.write_bytes(gzip.compress((tmp_path / "huge.csv").read_bytes()))

    delivery = _ingest(path)
    # The rows read before the big one: whole read blocks, whatever their count.
    read = int(delivery.errors[0]["message"].split("after data row ")[1].split()[0])
    assert 0 <= read <= len(before)
    assert _rejected(delivery) == [
        f"{path.name}: cannot be read as CSV: a row after data row {read} is larger than "
        "2 MB. Such a row usually comes from a quote that is never closed, which makes the rest "
        "of the file one value."
    ]
