"""How far delivered FOCUS files depart from the specification, counted exactly.

The check reads the files itself, as written (before any normalisation), so it works the same
however the ingest splits them into chunks, and reports rejected deliveries too. Every check is
vectorised with pyarrow over each batch; counts cover the whole file and each finding keeps up
to 20 example data rows (numbered from 1, the header not counted).

Severity: ``error`` for a value the specification forbids, ``warning`` for a drift the ingest
corrects or a cost relationship that does not hold (which may have a reason the file does not
show).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from portfolio.focus import columns as fc
from portfolio.focus.errors import MAX_WARNING_ROWS, DeliveryRejected, storable
from portfolio.focus.normalise import (
    DECIMAL_PLACES,
    INTEGER_DIGITS,
    column_array,
    contract_applied_ids,
    datetime_parse,
    decimal_clean,
    number_read,
)
from portfolio.focus.reader import BOM, FileUnreadable, file_batches, file_header_read, text_absent

logger = logging.getLogger(__name__)

WARNING = "warning"
ERROR = "error"

# What each finding means, in words an executive reads in a brief's data-quality line.
PLAIN_WORDS: dict[str, str] = {
    "unreadable_file": "files that could not be read",
    "custom_column_prefix": "extra columns named without the x_ prefix of custom columns",
    "datetime_format": "dates and times not written in the FOCUS format",
    "not_a_number": "amounts or quantities that are not plain numbers",
    "enumeration_case": "category values spelled in a different letter case than FOCUS",
    "enumeration_invalid": "category values that FOCUS does not define",
    "null_not_allowed": "empty values in columns that must always have one",
    "commitment_status_missing": "commitment usage rows without a used or unused status",
    "commitment_status_without_id": "commitment statuses on rows without a commitment",
    "capacity_status_missing": "capacity reservation rows without a used or unused status",
    "capacity_status_without_id": "capacity reservation statuses on rows without a reservation",
    "region_pairing": "rows with a region id but no region name, or the other way round",
    "pricing_null": "usage or purchase rows without their pricing details",
    "consumed_unit_pairing": "consumed quantities without a unit, or units without a quantity",
    "list_cost_mismatch": "list costs that do not equal list unit price times quantity",
    "contracted_cost_mismatch": (
        "contracted costs that do not equal contracted unit price times quantity"
    ),
    "effective_cost_rounded": "effective costs rounded to whole currency units",
    "invalid_json": "tags or other JSON columns that are not a JSON object",
    "contract_commitment_unknown": "costs applied to a contract commitment that is not loaded",
    "implausible_date": "dates before 2000 or more than a year ahead",
    "period_order": "periods that end before or when they start",
    "currency_case": "currency codes written in lower case",
    "currency_invalid": "currency codes that are not ISO 4217 currencies",
    "number_too_large": "amounts too large to store",
    "precision_rounded": "amounts with more than 18 decimal places, rounded on loading",
    "nul_byte": "values holding a NUL byte",
}

_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_WHOLE = r"^[+-]?(?:[0-9]+\.?0*|\.0+)$"
_ISO_STRICT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
_FITS = r"^[+-]?[0-9]{0,20}(?:\.[0-9]{0,18})?$"
_TIMESTAMP = pa.timestamp("us", tz="UTC")
# Cloud billing in FOCUS form begins well after 2000; a date more than a year ahead is a typo
# or a wrong format (a day read as a year) more often than a real contract term.
_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_FUTURE = dt.timedelta(days=366)
_CURRENCIES = pa.array(sorted(fc.ISO_4217_CURRENCIES), pa.string())

# Cost relationships are checked with floats: they only decide whether two amounts are far
# apart (more than 1 % and more than a millionth), never what is stored or summed.
_RELATIVE_TOLERANCE = 0.01
_ABSOLUTE_TOLERANCE = 1e-6

# Columns that never allow null (FOCUS 1.0 to 1.3), when the file has them.
NOT_NULL = (
    "BilledCost", "BillingAccountId", "BillingAccountType", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ServiceProviderName",
    "ServiceSubcategory",
)  # fmt: skip
# Not null on Usage and Purchase rows that are not corrections of an invoiced period.
PRICED = ("PricingQuantity", "PricingUnit", "ListUnitPrice", "PricingCategory", "SkuId",
          "SkuPriceId")  # fmt: skip
SERVICE_CATEGORIES = (
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
    "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
    "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
    "Storage", "Web", "Other",
)  # fmt: skip
ENUMERATIONS = {**fc.ENUMERATIONS, "ServiceCategory": SERVICE_CATEGORIES}
JSON_COLUMNS = ("Tags", "SkuPriceDetails", "ContractApplied", "AllocatedMethodDetails",
                "AllocatedTags")  # fmt: skip

CONTRACT_COMMITMENT_MANDATORY = (
    "ContractCommitmentId", "ContractCommitmentType", "ContractCommitmentCategory",
    "ContractCommitmentCost", "ContractCommitmentQuantity", "ContractCommitmentUnit",
    "ContractCommitmentDescription", "ContractCommitmentPeriodStart",
    "ContractCommitmentPeriodEnd", "ContractId", "ContractPeriodStart", "ContractPeriodEnd",
    "BillingCurrency",
)  # fmt: skip

CommitmentsKnown = Callable[[set[str]], set[str]]


@dataclass
class Finding:
    code: str
    severity: str
    file: str
    column: str | None
    message: str
    count: int = 0
    rows: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "column": self.column,
            "message": self.message,
            "count": self.count,
            "rows": self.rows,
        }


class FindingLog:
    """Findings of one check, one per code, file, column and detail, with exact counts."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str | None, str], Finding] = {}

    def add_mask(
        self, *, code: str, severity: str, file: str, column: str | None, message: str,
        mask: pa.Array, first_row: int, detail: str = "",
    ) -> None:  # fmt: skip
        """Count the rows where ``mask`` is true (null counts as false)."""
        indices = pc.indices_nonzero(pc.fill_null(mask, False))
        if not len(indices):
            return
        rows = [first_row + i for i in indices.slice(0, MAX_WARNING_ROWS).to_pylist()]
        self.add(
            code=code, severity=severity, file=file, column=column, message=message,
            rows=rows, count=len(indices), detail=detail,
        )  # fmt: skip

    def add(
        self, *, code: str, severity: str, file: str, column: str | None, message: str,
        rows: list[int], count: int, detail: str = "",
    ) -> None:  # fmt: skip
        key = (code, file, column, detail)
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = Finding(code, severity, file, column, message)
        item.rows.extend(rows[: MAX_WARNING_ROWS - len(item.rows)])
        item.count += count

    def as_list(self) -> list[dict[str, Any]]:
        return [item.as_dict() for item in self.items.values()]


@dataclass
class _Applied:
    """Rows of one file naming one ContractCommitmentId."""

    file: str
    count: int = 0
    rows: list[int] = field(default_factory=list)


def conformance_check(
    *, files: list[dict[str, Any]], commitments_known: CommitmentsKnown | None = None
) -> dict[str, Any]:
    """The conformance report of a delivery's files (``name``, ``path`` and ``format`` each).

    ``{"focus_version", "columns_missing", "columns_unrecognised", "findings": [...], "files"}``
    where each finding is ``{"code", "severity", "file", "column", "message", "count",
    "rows"}``. ``commitments_known`` gets the ContractCommitmentIds the cost rows name and
    returns those that are loaded; the others become warnings. Never raises: an unexpected
    failure is logged and reported as a finding, so it cannot stop an ingest. Reads every
    file; an ingest that reads them anyway feeds a ``ConformanceAccumulator`` instead.
    """
    return ConformanceAccumulator(files=files, commitments_known=commitments_known).report()


@dataclass
class _FileState:
    """What the accumulator knows of one file: its header, checks so far, rows seen."""

    name: str
    dataset: str = "CostAndUsage"
    version: str = ""
    checker: _FileChecker | None = None
    rows: int = 0
    complete: bool = False
    unreadable: str = ""


class ConformanceAccumulator:
    """The conformance report built from the batches an ingest reads, in one pass.

    ``add`` takes each batch of a file as read (string columns named by the file's header,
    rows numbered from ``first_row``), in file order; ``file_complete`` says a file was read
    to its end. ``report`` reads whatever the ingest did not (the rest of a file it stopped
    reading at a rejected row, a Contract Commitment file it loads by other means), so counts
    always cover whole files, rejected deliveries included. Neither method raises: a failure
    is logged and that file is read again by ``report``.
    """

    def __init__(
        self, *, files: list[dict[str, Any]], commitments_known: CommitmentsKnown | None = None
    ) -> None:
        self.files = files
        self.commitments_known = commitments_known
        self.log = FindingLog()
        self.applied: dict[str, _Applied] = {}
        self.report_data: dict[str, Any] = {
            "focus_version": "", "columns_missing": [], "columns_unrecognised": [],
            "findings": [], "files": [],
        }  # fmt: skip
        self.states: dict[int, _FileState] = {}

    def add(self, *, file_index: int, table: pa.Table, first_row: int) -> None:
        """Check one batch of rows ``first_row`` onwards of file ``file_index``."""
        try:
            state = self._next(file_index, first_row)
            if state is not None:
                self._feed(state, table, first_row)
        except Exception:
            logger.exception("conformance: a batch of file %s could not be checked", file_index)
            self._forget(file_index)

    def add_checked(
        self, *, file_index: int, checked: dict[str, Any], first_row: int, rows: int
    ) -> None:
        """Add the checks of ``rows`` rows from ``first_row`` made by ``batch_checked``.

        In file order, like ``add``; a batch out of order makes ``report`` read the file.
        """
        try:
            state = self._next(file_index, first_row)
            if state is None:
                return
            assert state.checker is not None
            if state.dataset == "CostAndUsage":
                state.checker.merge(checked)
            state.rows = first_row + rows - 1
        except Exception:
            logger.exception("conformance: checks of file %s could not be added", file_index)
            self._forget(file_index)

    def _next(self, file_index: int, first_row: int) -> _FileState | None:
        """The file's state if rows from ``first_row`` are the next to count, else None.

        Batches out of order cannot be counted exactly: the file is then read afresh.
        """
        state = self._state(file_index)
        if state.checker is None or state.unreadable or state.complete:
            return None
        if first_row != state.rows + 1:
            logger.warning("conformance: %s batch at row %s after row %s; rereading",
                           state.name, first_row, state.rows)  # fmt: skip
            self._forget(file_index)
            return None
        return state

    def file_complete(self, *, file_index: int) -> None:
        """Say that every row of file ``file_index`` was given to ``add``."""
        state = self.states.get(file_index)
        if state is not None and not state.unreadable:
            state.complete = True

    def report(self) -> dict[str, Any]:
        """The report (see ``conformance_check``); reads the rows the ingest did not."""
        report = self.report_data
        try:
            for file_index in range(len(self.files)):
                state = self._state(file_index)
                if not state.complete:
                    state = self._read_rest(file_index, state)
                if state.checker is not None:
                    state.checker.finish()
                report["files"].append(
                    {"name": state.name, "dataset": state.dataset,
                     "focus_version": state.version, "rows": state.rows}
                )  # fmt: skip
            _commitments_check(self.applied, self.commitments_known, self.log)
        except Exception:
            logger.exception("conformance check failed unexpectedly")
            self.log.add(
                code="unreadable_file", severity=ERROR, file="", column=None, rows=[], count=1,
                message="The conformance check failed unexpectedly; the error has been logged.",
            )  # fmt: skip
        versions = [f["focus_version"] for f in report["files"] if f["focus_version"]]
        report["focus_version"] = max(versions, key=fc.version_key, default="")
        # Ordered by file, then code and column: the order batches happen to find them in
        # depends on how the ingest splits the files.
        order = {entry["name"]: position for position, entry in enumerate(self.files)}
        report["findings"] = sorted(
            self.log.as_list(),
            key=lambda f: (order.get(f["file"], -1), f["code"], f["column"] or ""),
        )
        return report

    def _state(self, file_index: int) -> _FileState:
        if file_index not in self.states:
            self.states[file_index] = self._start(self.files[file_index])
        return self.states[file_index]

    def _start(self, entry: dict[str, Any]) -> _FileState:
        name, path, fmt = entry["name"], Path(entry["path"]), entry["format"]
        state = _FileState(name)
        try:
            header = file_header_read(path, fmt)
        except (FileUnreadable, DeliveryRejected) as exc:
            self._unreadable(state, _problem(name, exc))
            return state
        if fc.CONTRACT_COMMITMENT_COLUMNS & set(header):
            state.dataset, state.version = "ContractCommitment", "1.3"
            missing = [c for c in CONTRACT_COMMITMENT_MANDATORY if c not in header]
        else:
            state.version = fc.focus_version_detect(header)
            present = {fc.canonical_name(column) for column in header}
            missing = sorted(fc.MANDATORY[state.version] - present)
        unrecognised = _unrecognised(header)
        _merge(self.report_data["columns_missing"], missing)
        _merge(self.report_data["columns_unrecognised"], unrecognised)
        state.checker = _FileChecker(name, header, self.log, self.applied, unrecognised)
        return state

    def _feed(self, state: _FileState, table: pa.Table, first_row: int) -> None:
        assert state.checker is not None
        if state.dataset == "CostAndUsage":
            state.checker.check(table, first_row=first_row)
        state.rows = first_row + table.num_rows - 1

    def _forget(self, file_index: int) -> None:
        """Drop what a file's batches counted, so that ``report`` reads it whole."""
        self.states[file_index] = _FileState(self.files[file_index]["name"])
        state = self.states[file_index]
        state.unreadable = "reread"
        name = state.name
        for key in [key for key in self.log.items if key[1] == name]:
            del self.log.items[key]
        for commitment_id in [i for i, a in self.applied.items() if a.file == name]:
            del self.applied[commitment_id]

    def _read_rest(self, file_index: int, state: _FileState) -> _FileState:
        if state.unreadable == "reread":
            state = self.states[file_index] = self._start(self.files[file_index])
        if state.checker is None:
            return state
        entry = self.files[file_index]
        path, fmt = Path(entry["path"]), entry["format"]
        seen, position = state.rows, 0
        try:
            header = state.checker.header
            for table in file_batches(path, fmt, header, on_bad_line=lambda problem: None):
                start = position + 1
                position += table.num_rows
                if position <= seen:
                    continue
                if start <= seen:
                    table = table.slice(seen - start + 1)
                    start = seen + 1
                self._feed(state, table, start)
        except (FileUnreadable, DeliveryRejected) as exc:
            self._unreadable(state, _problem(state.name, exc))
        state.complete = True
        return state

    def _unreadable(self, state: _FileState, message: str) -> None:
        state.unreadable = message
        self.log.add(code="unreadable_file", severity=ERROR, file=state.name, column=None,
                     rows=[], count=1, message=message)  # fmt: skip


def _unrecognised(header: list[str]) -> list[str]:
    return [
        c for c in header
        if not (fc.is_focus_name(c) or c.startswith("x_") or c in CONTRACT_COMMITMENT_MANDATORY)
    ]  # fmt: skip


def batch_checked(
    *, files: list[dict[str, Any]], file_index: int, table: pa.Table, first_row: int
) -> dict[str, Any]:
    """The row checks of one batch of a cost-and-usage file on their own, JSON-ready.

    What ``ConformanceAccumulator.add`` would count for the batch, for ``add_checked`` to add
    up later: the workers that load a delivery's chunks check them too, and the planner only
    reads. ``table`` has the string columns named by the file's cleaned header.
    """
    header = list(table.column_names)
    checker = _FileChecker(files[file_index]["name"], header, FindingLog(), {},
                           _unrecognised(header))  # fmt: skip
    checker.check(table, first_row=first_row)
    return checker.partial()


def _problem(name: str, exc: Exception) -> str:
    if isinstance(exc, DeliveryRejected):
        return exc.errors[0].message if exc.errors else f"{name} cannot be read."
    return f"{name} {exc}"


def _merge(target: list[str], names: Iterable[str]) -> None:
    target.extend(name for name in names if name not in target)


class _FileChecker:
    """The row checks of one cost-and-usage file, batch by batch."""

    def __init__(
        self, file: str, header: list[str], log: FindingLog, applied: dict[str, _Applied],
        unrecognised: list[str],
    ) -> None:  # fmt: skip
        self.file = file
        self.log = log
        self.applied = applied
        self.unrecognised = unrecognised
        # The first column of each canonical name; a repeated header is the ingest's error.
        self.positions: dict[str, int] = {}
        for index, column in enumerate(header):
            self.positions.setdefault(fc.canonical_name(column), index)
        self.header = header
        self.rounding: dict[str, _Rounding] = {}

    def check(self, table: pa.Table, *, first_row: int) -> None:
        self.table = table
        self.first_row = first_row
        self.columns: dict[str, pa.Array | None] = {}
        self.clean_numbers: dict[str, bool] = {}
        self.numbers: dict[str, pa.Array | None] = {}
        self.encodings: dict[str, pa.DictionaryArray] = {}
        self._prefix_check()
        self._format_checks()
        self._enumeration_checks()
        self._null_checks()
        self._pairing_checks()
        self._cost_checks()
        self._rounding_collect()
        self._json_checks()
        self._applied_collect()
        self._period_checks()
        self._currency_checks()
        self._number_fit_checks()
        self._nul_checks()

    def col(self, name: str) -> pa.Array | None:
        """The batch's column of that FOCUS name, trimmed; None when the file lacks it."""
        if name not in self.columns:
            index = self.positions.get(name)
            values = None
            if index is not None and self.clean(name):
                values = self.raw(name)  # nothing to trim, no byte-order mark
            elif index is not None:
                values = pc.utf8_trim_whitespace(column_array(self.table.column(index)))
                if index == 0:
                    # A file concatenated after its byte-order mark leaves one at a line start.
                    values = pc.replace_substring(values, BOM, "")
            self.columns[name] = values
        return self.columns[name]

    def raw(self, name: str) -> pa.Array | None:
        """The column as written, for checks of nulls alone: trimming keeps nulls in place."""
        index = self.positions.get(name)
        return None if index is None else column_array(self.table.column(index))

    def clean(self, name: str) -> bool:
        """True for a numeric column of plain numbers that fit as written, without spaces.

        Such a column has nothing to trim, no value that is not a number or does not fit,
        and no E-notation, so the checks of those come out empty and are skipped.
        """
        if name not in self.clean_numbers:
            kind = fc.FOCUS_COLUMNS.get(name, ("", ""))[1]
            values = self.raw(name) if kind == fc.DECIMAL else None
            self.clean_numbers[name] = values is not None and decimal_clean(values)
        return self.clean_numbers[name]

    def floats(self, name: str) -> pa.Array | None:
        """The column's numbers as floats, null where a value is not a number."""
        if name not in self.numbers:
            values = self.col(name)
            if values is not None and self.clean(name):
                self.numbers[name] = pc.cast(values, pa.float64())
            else:
                self.numbers[name] = _floats(values)
        return self.numbers[name]

    def whole(self, name: str) -> pa.Array:
        """``_whole`` of the column (which the caller knows the file has)."""
        values = self.col(name)
        assert values is not None
        if self.clean(name):
            # No E-notation: the pattern alone decides (see _whole).
            return pc.fill_null(pc.match_substring_regex(values, _WHOLE), False)
        return _whole(values)

    def encoded(self, name: str) -> pa.DictionaryArray:
        """The trimmed column dictionary-encoded, for checks done once per distinct value."""
        if name not in self.encodings:
            self.encodings[name] = pc.dictionary_encode(self.col(name))
        return self.encodings[name]

    def flag(
        self, code: str, severity: str, column: str | None, mask: pa.Array, message: str,
        detail: str = "",
    ) -> None:  # fmt: skip
        self.log.add_mask(
            code=code, severity=severity, file=self.file, column=column, message=message,
            mask=mask, first_row=self.first_row, detail=detail,
        )  # fmt: skip

    def _period_checks(self) -> None:
        """Periods that end before or when they start; dates far outside any billing."""
        moments: dict[str, pa.Array] = {}
        for name, (_since, kind) in fc.FOCUS_COLUMNS.items():
            if kind != fc.DATETIME or self.col(name) is None:
                continue
            encoded = self.encoded(name)
            parsed = [datetime_parse(text) for text in encoded.dictionary.to_pylist()]
            moments[name] = moment = pc.take(pa.array(parsed, _TIMESTAMP), encoded.indices)
            early = pa.scalar(_EARLIEST, _TIMESTAMP)
            late = pa.scalar(dt.datetime.now(dt.UTC) + _FUTURE, _TIMESTAMP)
            self.flag(
                "implausible_date", WARNING, name,
                pc.or_(pc.less(moment, early), pc.greater(moment, late)),
                f"{self.file}: {name} values lie before 2000 or more than a year ahead; "
                "check that the export wrote its dates correctly.",
            )  # fmt: skip
        for prefix in ("ChargePeriod", "BillingPeriod"):
            start, end = moments.get(f"{prefix}Start"), moments.get(f"{prefix}End")
            if start is None or end is None:
                continue
            self.flag(
                "period_order", ERROR, f"{prefix}End", pc.less_equal(end, start),
                f"{self.file}: {prefix}End is not after {prefix}Start; periods include their "
                "start and exclude their end, so the end must come later.",
            )  # fmt: skip

    def _currency_checks(self) -> None:
        values = self.col("BillingCurrency")
        if values is None:
            return
        upper = pc.utf8_upper(values)
        valid = pc.is_in(upper, _CURRENCIES)
        self.flag(
            "currency_case", WARNING, "BillingCurrency",
            pc.and_(valid, pc.not_equal(upper, values)),
            f"{self.file}: BillingCurrency values are ISO 4217 codes written in lower case.",
        )  # fmt: skip
        self.flag(
            "currency_invalid", ERROR, "BillingCurrency",
            pc.and_(pc.invert(valid), pc.is_valid(values)),
            f"{self.file}: BillingCurrency values are not ISO 4217 national currency codes.",
        )  # fmt: skip

    def _number_fit_checks(self) -> None:
        """Numbers beyond numeric(38, 18): too large to store, or with digits to round."""
        for name, (_since, kind) in fc.FOCUS_COLUMNS.items():
            if kind != fc.DECIMAL or self.clean(name):
                continue
            values = self.col(name)
            if values is None:
                continue
            number = pc.match_substring_regex(values, _NUMBER)
            fits = pc.match_substring_regex(values, _FITS)
            suspect = pc.fill_null(pc.and_(number, pc.invert(fits)), False)
            if not pc.any(suspect).as_py():
                continue
            encoded = pc.dictionary_encode(values)
            large, fine = [], []
            for text in encoded.dictionary.to_pylist():
                exact = number_read(text) if re.match(_NUMBER, text) else Decimal(0)
                large.append(exact.adjusted() >= INTEGER_DIGITS)
                fine.append(exact.as_tuple().exponent < -DECIMAL_PLACES)  # type: ignore[operator]
            for code, severity, flags, words in (
                ("number_too_large", ERROR, large,
                 f"have more than {INTEGER_DIGITS} digits before the decimal point and cannot "
                 "be stored"),
                ("precision_rounded", WARNING, fine,
                 f"have more than {DECIMAL_PLACES} decimal places and are rounded on loading"),
            ):  # fmt: skip
                mask = pc.take(pa.array(flags, pa.bool_()), encoded.indices)
                self.flag(code, severity, name, pc.and_(suspect, mask),
                          f"{self.file}: {name} values {words}.")  # fmt: skip

    def _nul_checks(self) -> None:
        for index, column in enumerate(self.header):
            values = self.table.column(index)
            if not pa.types.is_string(values.type) or text_absent(values, "\x00"):
                continue
            self.flag(
                "nul_byte", ERROR, column, pc.match_substring(values, "\x00"),
                f"{self.file}: {column} values hold a NUL byte, which no database stores.",
            )  # fmt: skip

    def _prefix_check(self) -> None:
        for column in self.unrecognised:
            values = self.table.column(self.header.index(column))
            self.flag(
                "custom_column_prefix", WARNING, column, pc.is_valid(values),
                f"{self.file}: column {column} is not a FOCUS column and its name lacks the x_ "
                "prefix that custom columns must have.",
            )  # fmt: skip

    def _format_checks(self) -> None:
        for name, (_since, kind) in fc.FOCUS_COLUMNS.items():
            if kind not in (fc.DATETIME, fc.DECIMAL) or self.clean(name):
                continue
            values = self.col(name)
            if values is None:
                continue
            if kind == fc.DATETIME:
                # Once per distinct value: date-times repeat on every row of a period.
                encoded = self.encoded(name)
                strict = pc.match_substring_regex(encoded.dictionary, _ISO_STRICT)
                self.flag(
                    "datetime_format", WARNING, name,
                    pc.take(pc.invert(strict), encoded.indices),
                    f"{self.file}: {name} values are not in the FOCUS date-time format "
                    "YYYY-MM-DDTHH:mm:ssZ (UTC).",
                )  # fmt: skip
            else:
                self.flag(
                    "not_a_number", ERROR, name,
                    pc.invert(pc.match_substring_regex(values, _NUMBER)),
                    f"{self.file}: {name} values are not plain or E-notation numbers (no "
                    "decimal commas, thousands separators, symbols or units).",
                )  # fmt: skip

    def _enumeration_checks(self) -> None:
        for name, allowed in ENUMERATIONS.items():
            values = self.col(name)
            if values is None:
                continue
            exact = pc.is_in(values, pa.array(allowed))
            if pc.sum(exact).as_py() == len(values) - values.null_count:
                continue  # every value is spelled as FOCUS spells it: nothing to flag
            lowered = pa.array([value.lower() for value in allowed])
            drift = pc.and_(pc.invert(exact), pc.is_in(pc.utf8_lower(values), lowered))
            self.flag(
                "enumeration_case", WARNING, name, drift,
                f"{self.file}: {name} values differ from the FOCUS values "
                f"({', '.join(allowed)}) only in letter case.",
            )  # fmt: skip
            invalid = pc.and_(pc.and_(pc.invert(exact), pc.invert(drift)), pc.is_valid(values))
            self.flag(
                "enumeration_invalid", ERROR, name, invalid,
                f"{self.file}: {name} values are none of the FOCUS values "
                f"({', '.join(allowed)}).",
            )  # fmt: skip

    def _null_checks(self) -> None:
        for name in NOT_NULL:
            values = self.raw(name)
            if values is not None and values.null_count:
                self.flag(
                    "null_not_allowed", ERROR, name, pc.is_null(values),
                    f"{self.file}: {name} is empty, but FOCUS requires a value on every row.",
                )  # fmt: skip

        category = self.col("ChargeCategory")
        charge_class = self.col("ChargeClass")
        if category is None:
            return
        priced = pc.is_in(category, pa.array(["Usage", "Purchase"]))
        if charge_class is not None:
            priced = pc.and_(priced, pc.is_null(charge_class))
        for name in PRICED:
            values = self.raw(name)
            if values is not None and values.null_count:
                self.flag(
                    "pricing_null", ERROR, name, pc.and_(priced, pc.is_null(values)),
                    f"{self.file}: {name} is empty on Usage or Purchase rows, where FOCUS "
                    "requires it.",
                )  # fmt: skip

    def _pairing_checks(self) -> None:
        category = self.col("ChargeCategory")
        usage = None if category is None else pc.equal(category, "Usage")
        for id_name, status_name, code in (
            ("CommitmentDiscountId", "CommitmentDiscountStatus", "commitment_status"),
            ("CapacityReservationId", "CapacityReservationStatus", "capacity_status"),
        ):
            ids, status = self.raw(id_name), self.raw(status_name)
            if ids is None or status is None:
                continue
            if usage is not None:
                missing = pc.and_(pc.and_(usage, pc.is_valid(ids)), pc.is_null(status))
                self.flag(
                    f"{code}_missing", ERROR, status_name, missing,
                    f"{self.file}: {status_name} is empty on Usage rows that have a "
                    f"{id_name}.",
                )  # fmt: skip
            self.flag(
                f"{code}_without_id", ERROR, status_name,
                pc.and_(pc.is_null(ids), pc.is_valid(status)),
                f"{self.file}: {status_name} is set on rows without a {id_name}.",
            )  # fmt: skip
        for first, second, code in (
            ("RegionId", "RegionName", "region_pairing"),
            ("ConsumedQuantity", "ConsumedUnit", "consumed_unit_pairing"),
        ):
            one, other = self.raw(first), self.raw(second)
            if one is None or other is None:
                continue
            self.flag(
                code, ERROR, second, pc.not_equal(pc.is_null(one), pc.is_null(other)),
                f"{self.file}: {first} and {second} must be both set or both empty; on these "
                "rows only one is.",
            )  # fmt: skip

    def _cost_checks(self) -> None:
        quantity = self.floats("PricingQuantity")
        for price, cost, code in (
            ("ListUnitPrice", "ListCost", "list_cost_mismatch"),
            ("ContractedUnitPrice", "ContractedCost", "contracted_cost_mismatch"),
        ):
            unit_price, actual = self.floats(price), self.floats(cost)
            if quantity is None or unit_price is None or actual is None:
                continue
            expected = pc.multiply(unit_price, quantity)
            gap = pc.abs(pc.subtract(expected, actual))
            scale = pc.max_element_wise(pc.abs(expected), pc.abs(actual))
            far = pc.and_(
                pc.greater(gap, pc.multiply(scale, _RELATIVE_TOLERANCE)),
                pc.greater(gap, _ABSOLUTE_TOLERANCE),
            )
            self.flag(
                code, WARNING, cost, far,
                f"{self.file}: {cost} is far from {price} x PricingQuantity (often a unit "
                "price quoted per block of units, such as per 10000 requests).",
            )  # fmt: skip

    def _rounding_collect(self) -> None:
        """Gather, per provider, rows whose EffectiveCost is whole while BilledCost is not.

        A provider is only flagged if none of its EffectiveCost values in the file has a
        fraction: one whole amount among fractional ones is a coincidence, all of them is
        rounding. Prepaid purchases (EffectiveCost 0 by rule) are left out.
        """
        effective, billed = self.col("EffectiveCost"), self.col("BilledCost")
        provider = self.col("ServiceProviderName")
        provider = provider if provider is not None else self.col("ProviderName")
        if effective is None or billed is None or provider is None:
            return
        effective_whole, billed_whole = self.whole("EffectiveCost"), self.whole("BilledCost")
        candidate = pc.and_(effective_whole, pc.invert(billed_whole))
        category = self.col("ChargeCategory")
        if category is not None:
            prepaid = pc.and_(
                pc.equal(category, "Purchase"), pc.equal(self.floats("EffectiveCost"), 0)
            )
            candidate = pc.and_(candidate, pc.invert(pc.fill_null(prepaid, False)))
        fractional = pc.and_(pc.invert(effective_whole), pc.is_valid(self.floats("EffectiveCost")))

        encoded = pc.dictionary_encode(pc.fill_null(provider, ""))
        # The providers of candidate and fractional rows, found in one pass each rather than
        # one pass per provider.
        candidates = pc.indices_nonzero(pc.fill_null(candidate, False)).to_numpy()
        owners = pc.take(encoded.indices, candidates).to_numpy()
        with_fraction = pc.indices_nonzero(pc.fill_null(fractional, False))
        fractional_owners = set(pc.take(encoded.indices, with_fraction).to_pylist())
        for position, name in enumerate(encoded.dictionary.to_pylist()):
            # Named in a message and stored as JSON, which cannot hold NUL characters.
            state = self.rounding.setdefault(storable(name), _Rounding())
            state.fractional |= position in fractional_owners
            rows = candidates[owners == position]
            state.count += len(rows)
            room = MAX_WARNING_ROWS - len(state.rows)
            state.rows += [self.first_row + int(i) for i in rows[: max(room, 0)]]

    def _json_checks(self) -> None:
        for name in JSON_COLUMNS:
            values = self.col(name)
            if values is None:
                continue
            encoded = self.encoded(name)
            bad = [not _json_object(text) for text in encoded.dictionary.to_pylist()]
            mask = pc.take(pa.array(bad, pa.bool_()), encoded.indices)
            self.flag(
                "invalid_json", ERROR, name, mask,
                f"{self.file}: {name} values are not a JSON object.",
            )  # fmt: skip

    def _applied_collect(self) -> None:
        values = self.col("ContractApplied")
        if values is None:
            return
        encoded = pc.dictionary_encode(values)
        by_id: dict[str, list[int]] = {}
        for position, text in enumerate(encoded.dictionary.to_pylist()):
            for commitment_id in contract_applied_ids(text):
                # Looked up in the database and stored as JSON: neither takes NUL characters.
                by_id.setdefault(storable(commitment_id), []).append(position)
        for commitment_id, positions in by_id.items():
            mask = pc.is_in(encoded.indices, pa.array(positions, encoded.indices.type))
            rows = pc.indices_nonzero(pc.fill_null(mask, False))
            state = self.applied.setdefault(commitment_id, _Applied(self.file))
            state.count += len(rows)
            room = max(MAX_WARNING_ROWS - len(state.rows), 0)
            state.rows += [self.first_row + i for i in rows.slice(0, room).to_pylist()]

    def partial(self) -> dict[str, Any]:
        """What the checks so far counted, JSON-ready, for ``merge``."""
        return {
            "findings": [{**item.as_dict(), "detail": key[3]}
                         for key, item in self.log.items.items()],
            "applied": {commitment_id: {"file": a.file, "count": a.count, "rows": a.rows}
                        for commitment_id, a in self.applied.items()},
            "rounding": {name: {"count": r.count, "rows": r.rows, "fractional": r.fractional}
                         for name, r in self.rounding.items()},
        }  # fmt: skip

    def merge(self, partial: dict[str, Any]) -> None:
        """Count a later batch's ``partial`` as if this checker had checked it."""
        for item in partial["findings"]:
            self.log.add(
                code=item["code"], severity=item["severity"], file=item["file"],
                column=item["column"], message=item["message"], rows=item["rows"],
                count=item["count"], detail=item["detail"],
            )  # fmt: skip
        for commitment_id, item in partial["applied"].items():
            applied = self.applied.setdefault(commitment_id, _Applied(item["file"]))
            applied.count += item["count"]
            applied.rows += item["rows"][: max(MAX_WARNING_ROWS - len(applied.rows), 0)]
        for name, item in partial["rounding"].items():
            rounding = self.rounding.setdefault(name, _Rounding())
            rounding.fractional |= item["fractional"]
            rounding.count += item["count"]
            rounding.rows += item["rows"][: max(MAX_WARNING_ROWS - len(rounding.rows), 0)]

    def finish(self) -> None:
        flagged = {name: s for name, s in self.rounding.items() if s.count and not s.fractional}
        if not flagged:
            return
        rows = sorted(row for state in flagged.values() for row in state.rows)
        by_provider = ", ".join(f"{name or 'no provider'} {s.count}" for name, s in flagged.items())
        self.log.add(
            code="effective_cost_rounded", severity=WARNING, file=self.file,
            column="EffectiveCost", rows=rows[:MAX_WARNING_ROWS],
            count=sum(state.count for state in flagged.values()),
            message=f"{self.file}: EffectiveCost is a whole number while BilledCost has "
            f"fractions, and no EffectiveCost of the provider has any ({by_provider} rows): "
            "the provider rounds it to whole currency units, so effective totals are off.",
        )  # fmt: skip


@dataclass
class _Rounding:
    count: int = 0
    rows: list[int] = field(default_factory=list)
    fractional: bool = False


def _commitments_check(
    applied: dict[str, _Applied], known: CommitmentsKnown | None, log: FindingLog
) -> None:
    if not applied or known is None:
        return
    loaded = known(set(applied))
    for commitment_id in sorted(set(applied) - loaded):
        state = applied[commitment_id]
        log.add(
            code="contract_commitment_unknown", severity=WARNING, file=state.file,
            column="ContractApplied", rows=state.rows, count=state.count, detail=commitment_id,
            message=f"{state.file}: ContractApplied names the contract commitment "
            f"{commitment_id}, which is not loaded; load the provider's Contract Commitment "
            "file to link these costs to it.",
        )  # fmt: skip


def _floats(values: pa.Array | None) -> pa.Array | None:
    if values is None:
        return None
    valid = pc.match_substring_regex(values, _NUMBER)
    return pc.cast(pc.if_else(valid, values, pa.scalar(None, pa.string())), pa.float64())


def _whole(values: pa.Array) -> pa.Array:
    """True where a number has no fraction; E-notation is judged by its float value."""
    plain = pc.match_substring_regex(values, _WHOLE)
    exponent = pc.match_substring_regex(values, "[eE]")
    floats = _floats(values)
    assert floats is not None
    whole_float = pc.equal(pc.floor(floats), floats)
    return pc.fill_null(pc.if_else(exponent, whole_float, plain), False)


def _json_object(text: str | None) -> bool:
    try:
        return text is None or isinstance(json.loads(text), dict)
    except ValueError:
        return False


def findings_summary(*, reports: Iterable[dict[str, Any]]) -> tuple[int, str | None, int]:
    """How many findings the reports hold, and the most frequent kind in plain words.

    Returns ``(findings, plain_words_of_the_kind_flagging_most_rows or None, its_rows)``. A
    kind found in several columns of one delivery (dates in four date columns) counts the rows
    of its column with the most: the same rows are usually flagged in each, and adding them up
    would count a row once per column.
    """
    findings = 0
    rows: dict[str, int] = {}
    values: dict[str, int] = {}
    for report in reports:
        widest: dict[str, int] = {}
        for finding in (report or {}).get("findings", []):
            findings += 1
            code, count = finding["code"], finding.get("count", 0)
            widest[code] = max(widest.get(code, 0), count)
            values[code] = values.get(code, 0) + count
        for code, count in widest.items():
            rows[code] = rows.get(code, 0) + count
    if not rows:
        return 0, None, 0
    # Ties go to the kind flagging more values in all: the one found in more columns.
    top = max(sorted(rows), key=lambda code: (rows[code], values[code]))
    return findings, PLAIN_WORDS.get(top, top.replace("_", " ")), rows[top]
