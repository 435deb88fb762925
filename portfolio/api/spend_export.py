"""Spreadsheet renderings of spend groups for finance: CSV and XLSX.

Both take ``{"columns": [...], "rows": [dict, ...]}`` with typed values (Decimal, int, date,
datetime, str, None). Text that a spreadsheet would run as a formula is neutralised in CSV;
amounts stay plain numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from rest_framework.renderers import BaseRenderer

from finops_exec.exact import money_str

# A spreadsheet reads a cell starting with one of these as a formula (tab and CR because some
# strip them before looking); a leading apostrophe makes the cell plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Cents always, more decimals only when the amount has them.
AMOUNT_FORMAT = "#,##0.00##########"


def csv_text_neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return money_str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().removesuffix("+00:00") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int):
        return value
    return csv_text_neutralise(str(value))


def spend_csv(*, columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text_neutralise(column) for column in columns])
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in columns])
    # The BOM lets spreadsheet programs detect UTF-8 instead of guessing a code page.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = AMOUNT_FORMAT
        return cell
    if isinstance(value, dt.datetime):
        # Excel has no time zones; spend times are UTC.
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        # Never let text become a formula, whatever it starts with.
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(sheet, value=value)


def spend_xlsx(*, columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    """A one-sheet workbook; amounts are numeric cells made from the exact Decimal.

    A spreadsheet number is a binary double: amounts keep their value to 15 significant
    digits there, which covers every real amount; the CSV and JSON carry every digit.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Spend")
    sheet.append([_xlsx_cell(sheet, column) for column in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row[column]) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class SpendCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return spend_csv(columns=data["columns"], rows=data["rows"])


class SpendXLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return spend_xlsx(columns=data["columns"], rows=data["rows"])
