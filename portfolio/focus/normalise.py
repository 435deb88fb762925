"""From a file's header and string chunks to stored spend columns, checked and normalised.

Work is vectorised with pyarrow; the few things that need Python (date-times, JSON, enumeration
spelling) are done once per distinct value of a chunk, which repeats heavily in billing data.
Numbers stay text: they are checked against the FOCUS numeric format and stored digit for digit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio.focus import columns as fc
from portfolio.focus.errors import MAX_ERRORS, DeliveryRejected, RowError, WarningLog
from portfolio.focus.reader import BOM, text_absent
from portfolio.units import base_quantity_columns

# FOCUS numeric format: plain or E-notation; no thousands separators, symbols or units.
_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
# Money and quantities are stored as numeric(38, 18): at most 20 digits before the point and 18
# after. A value inside both limits passes as written; only the others are looked at in Python.
INTEGER_DIGITS = 20
DECIMAL_PLACES = 18
_FITS = r"^[+-]?[0-9]{0,20}(?:\.[0-9]{0,18})?$"
# A number in plain notation that fits as written, without surrounding spaces: what nearly
# every value of a real export is. A column made only of these needs no other check, so one
# pass of this pattern replaces trimming and the three patterns above.
DECIMAL_CLEAN = r"^[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})$"
_QUANTUM = decimal.Decimal(1).scaleb(-DECIMAL_PLACES)
_LIMIT = decimal.Decimal(10) ** INTEGER_DIGITS
_EXACT = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_EVEN, Emax=10**6, Emin=-(10**6))
# "12,50": a comma as decimal mark. Read as a number it would be misread, so it is refused.
_DECIMAL_COMMA = r"^[+-]?[0-9]*,[0-9]+$"
_ISO_STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_ISO_LOOSE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
# "Abgerechnete Kosten (BilledCost)": a display name with the column id in brackets.
_LOCALISED = re.compile(r"\(\s*([A-Za-z]+)\s*\)\s*$")

TIMESTAMP = pa.timestamp("us", tz="UTC")

# The stored field and type of every FOCUS column kept in its own column.
FIELD_KINDS: dict[str, str] = {
    name: fc.FOCUS_COLUMNS[column][1] for column, name in fc.FIELD_BY_COLUMN.items()
}
# Stored fields computed from other columns rather than read from one.
DERIVED_KINDS: dict[str, str] = {
    "consumed_base_quantity": fc.DECIMAL,
    "consumed_base_unit": fc.STRING,
    "contract_commitment_ids": fc.STRING,
}
FIELD_KINDS.update(DERIVED_KINDS)


@dataclass
class ColumnPlan:
    """How one file's columns map onto stored fields: which column feeds each, what is extra."""

    file: str
    version: str
    sources: dict[str, str] = field(default_factory=dict)  # stored field -> header name
    extras: list[str] = field(default_factory=list)  # header names kept in extras


def column_plan_make(*, header: list[str], file: str, warnings: WarningLog) -> ColumnPlan:
    """Map a cleaned header to stored fields; raise ``DeliveryRejected`` when it cannot load.

    A file is rejected when a header repeats a column, when headers look like translated FOCUS
    names, when it is another FOCUS dataset, or when a column every row needs is missing.
    """
    _header_check(header, file)
    canonical = [fc.canonical_name(name) for name in header]
    plan = ColumnPlan(file=file, version=fc.focus_version_detect(header))

    for name, focus_name in zip(header, canonical, strict=True):
        target = fc.FIELD_BY_COLUMN.get(focus_name)
        if focus_name == "ProviderName" and "ServiceProviderName" in canonical:
            target = None  # deprecated in 1.3: ServiceProviderName feeds provider_name
        if focus_name == "ServiceProviderName":
            target = "provider_name"
        if target is None:
            plan.extras.append(name)
            _extra_column_warn(name, file, warnings)
            continue
        plan.sources[target] = name
        if name != focus_name:
            warnings.add(
                code="renamed_column",
                message=f"{file}: column {name} is the pre-1.0 name of {focus_name}; "
                f"it was read as {focus_name}.",
                file=file,
                column=name,
            )

    _required_check(plan, canonical)
    _mandatory_warn(plan, canonical, warnings)
    return plan


def _header_check(header: list[str], file: str) -> None:
    errors = []
    if fc.CONTRACT_COMMITMENT_COLUMNS & set(header):
        errors.append(
            RowError(
                file, None, None, None,
                "is a FOCUS Contract Commitment dataset, not cost and usage; it cannot be "
                "loaded as spend.",
            )
        )  # fmt: skip
    seen: set[str] = set()
    for name in header:
        canonical = fc.canonical_name(name)
        if canonical in seen:
            errors.append(RowError(file, None, name, None, "appears twice in the header."))
        seen.add(canonical)
    localised = [
        name
        for name in header
        if not fc.is_focus_name(name)
        and (match := _LOCALISED.search(name))
        and fc.is_focus_name(match.group(1))
    ]
    if localised:
        listed = "; ".join(localised)
        errors.append(
            RowError(
                file, None, None, None,
                f"has {len(localised)} unrecognised headers that look like translated FOCUS "
                f"column names: {listed}. Export the file with the FOCUS column ids as headers.",
            )
        )  # fmt: skip
    if errors:
        raise DeliveryRejected(errors)


def _extra_column_warn(name: str, file: str, warnings: WarningLog) -> None:
    if name.startswith("x_") or fc.is_focus_name(name):
        return
    warnings.add(
        code="custom_column_without_prefix",
        message=f"{file}: column {name} is not a FOCUS column and lacks the x_ prefix of "
        "custom columns; it is kept with the row's extras.",
        file=file,
        column=name,
    )


def _required_check(plan: ColumnPlan, canonical: list[str]) -> None:
    missing = [name for name in fc.REQUIRED if name not in canonical]
    if "provider_name" not in plan.sources:
        missing.append("ProviderName")
    if missing:
        raise DeliveryRejected(
            [
                RowError(
                    plan.file, None, None, None,
                    f"lacks the mandatory FOCUS columns {', '.join(missing)}; no row of the "
                    "delivery was stored.",
                )
            ]
        )  # fmt: skip


def _mandatory_warn(plan: ColumnPlan, canonical: list[str], warnings: WarningLog) -> None:
    for name in sorted(fc.MANDATORY[plan.version] - set(canonical)):
        warnings.add(
            code="missing_mandatory_column",
            message=f"{plan.file}: the column {name}, mandatory in FOCUS {plan.version}, is "
            "missing; its values are stored as null.",
            file=plan.file,
            column=name,
        )


@dataclass
class Chunk:
    """One chunk of a file being normalised: its columns and the row number of its first row."""

    plan: ColumnPlan
    table: pa.Table
    first_row: int
    warnings: WarningLog
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def error(self, index: int, field_name: str, value: Any, problem: str) -> None:
        row = self.first_row + index
        self.bad_rows.add(row)
        if len(self.errors) < MAX_ERRORS:
            column = self.plan.sources.get(field_name, field_name)
            value = None if value is None else str(value)
            self.errors.append(RowError(self.plan.file, row, column, value, problem))

    def errors_at(
        self, mask: pa.Array, field_name: str, raw: pa.Array | None, problem: str
    ) -> None:
        """Report the rows where ``mask`` is true; only the first few are described."""
        indices = pc.indices_nonzero(pc.fill_null(mask, False))
        for index in indices.slice(0, MAX_ERRORS).to_pylist():
            value = None if raw is None else raw[index].as_py()
            self.error(index, field_name, value, problem)
        self.bad_rows.update(self.first_row + i for i in indices.slice(MAX_ERRORS).to_pylist())

    def warn(self, code: str, field_name: str, mask: pa.Array, message: str) -> None:
        indices = pc.indices_nonzero(mask)
        if not len(indices):
            return
        rows = [self.first_row + i for i in indices.slice(0, 20).to_pylist()]
        column = self.plan.sources.get(field_name, field_name)
        self.warnings.add(
            code=code, message=message, file=self.plan.file, column=column, rows=rows,
            count=len(indices),
        )  # fmt: skip


def chunk_normalise(
    *, table: pa.Table, plan: ColumnPlan, first_row: int, warnings: WarningLog
) -> tuple[pa.Table, Chunk]:
    """Stored-field columns for one chunk, plus the chunk with its errors and bad rows.

    The returned table has one column per stored FOCUS field (text, decimal text, UTC
    timestamps, tags and extras as JSON text), ``charge_month`` and ``source_row``.
    """
    table = table_bom_strip(table)
    chunk = Chunk(plan=plan, table=table, first_row=first_row, warnings=warnings)
    length = table.num_rows
    out: dict[str, pa.Array] = {}

    for name, kind in FIELD_KINDS.items():
        if name in DERIVED_KINDS:
            continue
        source = plan.sources.get(name)
        raw = column_array(table.column(source)) if source else pa.nulls(length, pa.string())
        if kind == fc.DECIMAL:
            out[name] = _decimal_column(chunk, name, raw)
        elif kind == fc.DATETIME:
            out[name] = _datetime_column(chunk, name, raw)
        elif name == "tags":
            out[name] = _tags_column(chunk, raw)
        else:
            out[name] = _text_column(chunk, name, raw)

    _not_null_check(chunk)
    _nul_check(chunk)
    out["billing_currency"] = _currency_column(chunk, out["billing_currency"])
    _period_order_check(chunk, out)
    out["consumed_base_quantity"], out["consumed_base_unit"] = base_quantity_columns(
        quantity=out["consumed_quantity"], unit=out["consumed_unit"]
    )
    out["contract_commitment_ids"] = _contract_commitment_ids(chunk)
    out = {name: out[name] for name in FIELD_KINDS}
    out["extras"] = _extras_column(chunk)
    out["charge_month"] = pc.cast(
        pc.floor_temporal(out["charge_period_start"], unit="month"), pa.date32()
    )
    out["source_row"] = pa.array(np.arange(first_row, first_row + length, dtype=np.int64))
    return pa.table(out), chunk


def column_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array, without a copy when it already is one chunk."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def all_match(values: pa.Array, pattern: str) -> bool:
    """True when every value that is not null matches ``pattern`` (also when none is)."""
    return pc.all(pc.match_substring_regex(values, pattern)).as_py() is not False


# The conformance check and the normaliser test the same numeric columns of a chunk one after
# the other, so the answers for the arrays tested last are kept. The key is the array's memory
# (buffer addresses, offset, length); each entry holds its array, so that memory cannot be
# freed and reused for other values while the entry names it.
_CLEAN_KNOWN: dict[tuple[Any, ...], tuple[pa.Array, bool]] = {}
_CLEAN_KNOWN_MAX = 32
_CLEAN_KNOWN_LOCK = threading.Lock()


def decimal_clean(values: pa.Array) -> bool:
    """True when every value is a plain number that fits as written (``DECIMAL_CLEAN``)."""
    key = (
        str(values.type), values.offset, len(values),
        *(0 if buffer is None else buffer.address for buffer in values.buffers()),
    )  # fmt: skip
    with _CLEAN_KNOWN_LOCK:
        known = _CLEAN_KNOWN.get(key)
    if known is not None:
        return known[1]
    clean = all_match(values, DECIMAL_CLEAN)
    with _CLEAN_KNOWN_LOCK:
        while len(_CLEAN_KNOWN) >= _CLEAN_KNOWN_MAX:
            del _CLEAN_KNOWN[next(iter(_CLEAN_KNOWN))]
        _CLEAN_KNOWN[key] = (values, clean)
    return clean


def table_bom_strip(table: pa.Table) -> pa.Table:
    """Remove byte-order marks inside values, left by files concatenated after their BOM."""
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if text_absent(column, BOM):
            continue
        if pc.any(pc.match_substring(column, BOM)).as_py():
            table = table.set_column(index, name, pc.replace_substring(column, BOM, ""))
    return table


def _decimal_column(chunk: Chunk, name: str, raw: pa.Array) -> pa.Array:
    if decimal_clean(raw):
        # Nothing to trim, report or rewrite: the checks below would all come out empty.
        return raw
    text = pc.utf8_trim_whitespace(raw)
    comma = pc.match_substring_regex(text, _DECIMAL_COMMA)
    chunk.errors_at(
        comma, name, raw,
        "has a comma as decimal mark; FOCUS numbers use a point (12.50). The file was not "
        "loaded so that no amount is misread; export it with a point as decimal mark.",
    )  # fmt: skip
    number = pc.match_substring_regex(text, _NUMBER)
    bad = pc.and_(pc.invert(number), pc.invert(comma))
    chunk.errors_at(bad, name, raw, "is not a number.")
    fits = pc.fill_null(pc.match_substring_regex(text, _FITS), False)
    return _decimal_fit(chunk, name, text, pc.and_(number, pc.invert(fits)))


_EXPONENT = re.compile(r"^([+-]?)([0-9.]*)[eE]([+-]?)[0-9]+$")


def number_read(text: str) -> decimal.Decimal:
    """A FOCUS number as a Decimal, even one whose exponent Decimal cannot hold.

    ``1e99999999999999999999`` stands for a number far too large to store and
    ``1e-99999999999999999999`` for one that rounds to zero; both are returned as a value that
    says so (1E+1000, 1E-1000, with the sign), so that they are rejected or rounded like any
    other, never an unexpected failure.
    """
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        parts = _EXPONENT.match(text.strip())
        if parts is None:
            raise
        sign, mantissa, exponent_sign = parts.groups()
        if not mantissa.strip(".0"):
            return decimal.Decimal(0)
        return decimal.Decimal(f"{sign}1E{'-' if exponent_sign == '-' else '+'}1000")


def _decimal_fit(chunk: Chunk, name: str, text: pa.Array, suspect: pa.Array) -> pa.Array:
    """Numbers made to fit numeric(38, 18) the same way on every database.

    More than 18 decimal places are rounded half to even to 18, with a ``precision_rounded``
    warning: PostgreSQL would round them itself and SQLite keep 28 significant digits, so
    totals would differ by database. Rounding is chosen over rejection because such digits
    come from unit-price arithmetic in exports and lie far below any amount that is billed.
    More than 20 digits before the point cannot be stored, and reject the row. E-notation
    that needs either is rewritten as plain digits; other values are kept as written.
    """
    suspect = pc.fill_null(suspect, False)
    if not pc.any(suspect).as_py():
        return text
    indices = pc.indices_nonzero(suspect).to_pylist()
    values = pc.take(text, pa.array(indices, pa.int64())).to_pylist()
    fixed: dict[int, str] = {}
    rounded: list[int] = []
    for index, value in zip(indices, values, strict=True):
        exact = number_read(value)
        if exact.adjusted() < -DECIMAL_PLACES - 1:
            fitted = decimal.Decimal(0)  # far below the last place: rounds to zero
        elif exact.adjusted() < INTEGER_DIGITS:
            fitted = exact.quantize(_QUANTUM, context=_EXACT)
        else:
            fitted = _LIMIT
        if fitted.copy_abs() >= _LIMIT:  # abs() would round to the context's 28 digits
            chunk.error(
                index, name, value,
                f"is too large (at most {INTEGER_DIGITS} digits before the decimal point).",
            )  # fmt: skip
            continue
        if fitted != exact:
            rounded.append(index)
        fixed[index] = format(fitted.normalize(_EXACT) if fitted else decimal.Decimal(0), "f")
    positions = pa.array(range(len(text)), pa.int64())
    if rounded:
        column = chunk.plan.sources.get(name, name)
        mask = pc.is_in(positions, pa.array(rounded, pa.int64()))
        chunk.warn(
            "precision_rounded", name, mask,
            f"{chunk.plan.file}: some {column} values have more than {DECIMAL_PLACES} decimal "
            f"places; they were rounded half to even to {DECIMAL_PLACES} places.",
        )  # fmt: skip
    if not fixed:
        return text
    ordered = sorted(fixed)
    mask = pc.is_in(positions, pa.array(ordered, pa.int64()))
    return pc.replace_with_mask(text, mask, pa.array([fixed[i] for i in ordered], pa.string()))


def _distinct(raw: pa.Array) -> tuple[list[Any], pa.Array]:
    encoded = pc.dictionary_encode(raw)
    return encoded.dictionary.to_pylist(), encoded.indices


def _datetime_column(chunk: Chunk, name: str, raw: pa.Array) -> pa.Array:
    values, indices = _distinct(raw)
    parsed: list[dt.datetime | None] = []
    strict: list[bool] = []
    for value in values:
        moment = datetime_parse(value)
        parsed.append(moment)
        strict.append(bool(_ISO_STRICT.match(value)))
    result = pc.take(pa.array(parsed, TIMESTAMP), indices)

    failed = pc.fill_null(pc.and_(pc.is_null(result), pc.is_valid(raw)), False)
    chunk.errors_at(failed, name, raw, "is not a date-time.")
    loose = pc.fill_null(pc.take(pa.array(strict, pa.bool_()), indices), True)
    loose = pc.and_(pc.invert(loose), pc.invert(failed))
    column = chunk.plan.sources.get(name, name)
    chunk.warn(
        "nonconformant_datetime", name, loose,
        f"{chunk.plan.file}: some {column} values are not in the FOCUS date-time format "
        "YYYY-MM-DDTHH:mm:ssZ; they were read as UTC (with their offset, if any).",
    )  # fmt: skip
    return result


def datetime_parse(value: str) -> dt.datetime | None:
    """A date-time in UTC from ISO 8601 variants or US ``M/D/YY``, or None if unreadable."""
    value = value.strip()
    if match := _ISO_LOOSE.match(value):
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            moment = dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                int(second or 0), micro, tzinfo=_zone(zone),
            )  # fmt: skip
        except ValueError:
            return None
        return moment.astimezone(dt.UTC)
    if match := _US_DATE.match(value):
        month, day, year, hour, minute, second = match.groups()
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
        try:
            return dt.datetime(
                full_year, int(month), int(day), int(hour or 0), int(minute or 0),
                int(second or 0), tzinfo=dt.UTC,
            )  # fmt: skip
        except ValueError:
            return None
    return None


def _zone(zone: str | None) -> dt.tzinfo:
    if zone in (None, "Z", "UTC"):
        return dt.UTC
    assert zone is not None
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    sign = -1 if zone[0] == "-" else 1
    return dt.timezone(dt.timedelta(minutes=sign * minutes))


def _text_column(chunk: Chunk, name: str, raw: pa.Array) -> pa.Array:
    column = chunk.plan.sources.get(name)
    allowed = fc.ENUMERATIONS.get(fc.canonical_name(column)) if column else None
    if allowed:
        raw = _enumeration_column(chunk, name, raw, allowed)
    limit = TEXT_LIMITS.get(name)
    # A value has at most as many characters as bytes: counting characters is for columns
    # whose longest value has more bytes than the limit.
    if limit and (pc.max(pc.binary_length(raw)).as_py() or 0) > limit:
        too_long = pc.greater(pc.utf8_length(raw), limit)
        chunk.errors_at(too_long, name, raw, f"is longer than {limit} characters.")
    return raw


def _enumeration_column(
    chunk: Chunk, name: str, raw: pa.Array, allowed: tuple[str, ...]
) -> pa.Array:
    values, indices = _distinct(raw)
    by_lower = {value.lower(): value for value in allowed}
    fixed = [by_lower.get(value.lower(), value) for value in values]
    drifted = [value != canon for value, canon in zip(values, fixed, strict=True)]
    unknown = [canon not in allowed for canon in fixed]
    column = chunk.plan.sources[name]
    drift_mask = pc.fill_null(pc.take(pa.array(drifted, pa.bool_()), indices), False)
    chunk.warn(
        "enumeration_case", name, drift_mask,
        f"{chunk.plan.file}: some {column} values differ from the FOCUS values only in letter "
        f"case; they were stored as {', '.join(allowed)} spell them.",
    )  # fmt: skip
    chunk.warn(
        "unknown_enumeration_value", name,
        pc.fill_null(pc.take(pa.array(unknown, pa.bool_()), indices), False),
        f"{chunk.plan.file}: some {column} values are none of {', '.join(allowed)}; they were "
        "stored as given.",
    )  # fmt: skip
    return pc.take(pa.array(fixed, pa.string()), indices)


def _not_json(word: str) -> Any:
    # NaN and Infinity are JavaScript, not JSON: Python reads them, databases refuse them.
    raise ValueError(f"{word} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is beyond what JSON numbers hold")
    return number


def _tags_column(chunk: Chunk, raw: pa.Array) -> pa.Array:
    values, indices = _distinct(raw)
    texts: list[str] = []
    broken: list[bool] = []
    for value in values:
        try:
            parsed = json.loads(value, parse_constant=_not_json, parse_float=_finite_float)
        except ValueError:
            parsed = None
        text = json.dumps(parsed, ensure_ascii=False) if isinstance(parsed, dict) else None
        # JSON allows a NUL character in strings; a database JSON value does not.
        ok = text is not None and "\\u0000" not in text
        texts.append(text if ok else "{}")
        broken.append(not ok)
    result = pc.fill_null(pc.take(pa.array(texts, pa.string()), indices), "{}")
    invalid = pc.fill_null(pc.take(pa.array(broken, pa.bool_()), indices), False)
    if pc.any(invalid).as_py():
        chunk.warn(
            "invalid_tags", "tags", invalid,
            f"{chunk.plan.file}: some Tags values are not a JSON object; those rows have no "
            "tags and keep the original text in their extras under Tags.",
        )  # fmt: skip
        chunk.table = chunk.table.append_column("_invalid_tags", pc.if_else(invalid, raw, None))
    return result


def _contract_commitment_ids(chunk: Chunk) -> pa.Array:
    """The ContractCommitmentIds of each row's ContractApplied, as ``|id1|id2|`` (or null)."""
    length = chunk.table.num_rows
    if "ContractApplied" not in chunk.plan.extras:
        return pa.nulls(length, pa.string())
    values, indices = _distinct(chunk.table.column("ContractApplied").combine_chunks())
    joined = []
    for value in values:
        ids = contract_applied_ids(value)
        joined.append("|" + "|".join(ids) + "|" if ids else None)
    return pc.take(pa.array(joined, pa.string()), indices)


def contract_applied_ids(value: str | None) -> list[str]:
    """The ContractCommitmentIds a ContractApplied value names, in order, without repeats.

    Reads the 1.3 ``{"Elements": [...]}`` form and the flat form of early drafts (one object,
    or a list of them, with ``ContractCommitmentId`` in any letter case). Invalid JSON names
    none; the conformance report counts those rows.
    """
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return []
    if isinstance(parsed, dict):
        parsed = parsed.get("Elements", [parsed])
    if not isinstance(parsed, list):
        return []
    ids: list[str] = []
    for element in parsed:
        if not isinstance(element, dict):
            continue
        found = {key.lower(): item for key, item in element.items()}.get("contractcommitmentid")
        if found is not None and str(found) not in ids:
            ids.append(str(found))
    return ids


def _not_null_check(chunk: Chunk) -> None:
    names = [fc.FIELD_BY_COLUMN[column] for column in fc.REQUIRED] + ["provider_name"]
    for name in names:
        values = chunk.table.column(chunk.plan.sources[name])
        if not values.null_count:
            continue
        missing = pc.is_null(values)
        chunk.errors_at(missing, name, None, "the value is missing; this column is never null.")


def _currency_column(chunk: Chunk, currency: pa.Array) -> pa.Array:
    """BillingCurrency in upper case; a code that is no ISO 4217 currency rejects the row.

    ``usd`` is plainly USD, so letter case is corrected with a ``currency_case`` warning. A
    code outside the ISO 4217 list (``XXX`` the placeholder, ``ABC``) is rejected: totals are
    kept per currency, and converting or comparing an amount in an unknown one is guesswork.
    """
    trimmed = pc.utf8_trim_whitespace(currency)
    upper = pc.utf8_upper(trimmed)
    known = pa.array(sorted(fc.ISO_4217_CURRENCIES), pa.string())
    valid = pc.is_in(upper, known)
    drift = pc.fill_null(pc.and_(valid, pc.not_equal(upper, currency)), False)
    chunk.warn(
        "currency_case", "billing_currency", drift,
        f"{chunk.plan.file}: some BillingCurrency values are not written as the upper-case "
        "ISO 4217 code; they were stored in upper case (usd as USD).",
    )  # fmt: skip
    bad = pc.and_(pc.invert(valid), pc.is_valid(currency))
    problem = "is not an ISO 4217 national currency code such as USD or EUR."
    chunk.errors_at(bad, "billing_currency", currency, problem)
    return pc.if_else(valid, upper, currency)


def _period_order_check(chunk: Chunk, out: dict[str, pa.Array]) -> None:
    """Reject rows whose period ends before it starts.

    FOCUS periods are half-open, start inclusive and end exclusive, so an end before the start
    is impossible, and it would spread cost over negative days. An end equal to the start (an
    empty period) is left to the conformance report, since some exports write it for
    one-off charges.
    """
    for prefix, label in (("charge_period", "ChargePeriod"), ("billing_period", "BillingPeriod")):
        start, end = out[f"{prefix}_start"], out[f"{prefix}_end"]
        backwards = pc.fill_null(pc.less(end, start), False)
        if not pc.any(backwards).as_py():
            continue
        start_raw = chunk.table.column(chunk.plan.sources[f"{prefix}_start"]).combine_chunks()
        end_raw = chunk.table.column(chunk.plan.sources[f"{prefix}_end"]).combine_chunks()
        for index in pc.indices_nonzero(backwards).slice(0, MAX_ERRORS).to_pylist():
            chunk.error(
                index, f"{prefix}_end", end_raw[index].as_py(),
                f"is before {label}Start \"{start_raw[index].as_py()}\"; a period must end "
                "after it starts.",
            )  # fmt: skip
        extra = pc.indices_nonzero(backwards).slice(MAX_ERRORS).to_pylist()
        chunk.bad_rows.update(chunk.first_row + i for i in extra)


def _nul_check(chunk: Chunk) -> None:
    """Reject values holding a NUL byte: PostgreSQL cannot store one, SQLite would.

    Refused on both so that a file loads or not whatever the database.
    """
    for index, name in enumerate(chunk.table.column_names):
        chunked = chunk.table.column(index)
        if name.startswith("_") or not pa.types.is_string(chunked.type):
            continue
        if text_absent(chunked, "\x00"):
            continue
        column = chunked.combine_chunks()
        found = pc.fill_null(pc.match_substring(column, "\x00"), False)
        if not pc.any(found).as_py():
            continue
        rows = pc.indices_nonzero(found)
        for position in rows.slice(0, MAX_ERRORS).to_pylist():
            value = column[position].as_py().replace("\x00", "\\x00")
            row = chunk.first_row + position
            chunk.bad_rows.add(row)
            if len(chunk.errors) < MAX_ERRORS:
                chunk.errors.append(
                    RowError(
                        chunk.plan.file, row, name, value,
                        "holds a NUL byte (shown as \\x00), which cannot be stored; remove it "
                        "from the file.",
                    )
                )  # fmt: skip
        chunk.bad_rows.update(chunk.first_row + i for i in rows.slice(MAX_ERRORS).to_pylist())


def _extras_column(chunk: Chunk) -> pa.Array:
    """Each row's extra columns as one JSON object text, leaving out null values."""
    names = list(chunk.plan.extras)
    if "_invalid_tags" in chunk.table.column_names:
        names.append("_invalid_tags")
    length = chunk.table.num_rows
    if not names:
        return pa.repeat(pa.scalar("{}", pa.string()), length)
    if len(names) == 1:
        # The usual case: each object is {"Name":value} or {}, made once per distinct value.
        key = json.dumps("Tags" if names[0] == "_invalid_tags" else names[0])
        values = column_array(chunk.table.column(names[0]))
        encoded = pc.dictionary_encode(values)
        if 2 * len(encoded.dictionary) > len(values):
            objects = _json_objects(key, values)
        else:
            objects = pc.take(_json_objects(key, encoded.dictionary), encoded.indices)
        return pc.fill_null(objects, "{}")
    parts = []
    for name in names:
        key = json.dumps("Tags" if name == "_invalid_tags" else name)
        values = column_array(chunk.table.column(name))
        quoted = _json_quote_distinct(values)
        parts.append(pc.binary_join_element_wise("," + key + ":", quoted, ""))
    parts = [pc.fill_null(part, "") for part in parts]
    joined = pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]
    body = pc.utf8_slice_codeunits(joined, 1)
    return pc.binary_join_element_wise("{", body, "}", "")


_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_OTHER_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _json_objects(key: str, values: pa.Array) -> pa.Array:
    """``{key:value}`` for each value, the value quoted by ``json_quote``; null stays null."""
    return pc.binary_join_element_wise("{" + key + ":", json_quote(values), "}", "")


def _json_quote_distinct(values: pa.Array) -> pa.Array:
    """``json_quote`` of each value, done once per distinct value when values repeat.

    The same result: the distinct values are the column's values, so the choice between the
    two ways of quoting falls the same way, and each value is quoted on its own.
    """
    encoded = pc.dictionary_encode(values)
    if 2 * len(encoded.dictionary) > len(values):
        return json_quote(values)
    return pc.take(json_quote(encoded.dictionary), encoded.indices)


def json_quote(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal (nulls stay null), vectorised."""
    if pc.any(pc.match_substring_regex(values, _OTHER_CONTROL)).as_py():
        quoted = [None if v is None else json.dumps(v) for v in values.to_pylist()]
        return pa.array(quoted, pa.string())
    for old, new in _JSON_ESCAPES:
        values = pc.replace_substring(values, old, new)
    return pc.binary_join_element_wise('"', values, '"', "")


def _text_limits() -> dict[str, int]:
    # Rows are stored as Parquet, without length limits; the columns the daily sums keep have
    # database lengths, and a longer value is an error of its row rather than of the COPY.
    from portfolio.models import DailySpend

    return {
        f.name: f.max_length
        for f in DailySpend._meta.concrete_fields
        if getattr(f, "max_length", None) and f.get_internal_type() == "CharField"
    }


TEXT_LIMITS: dict[str, int] = {}


def text_limits_load() -> None:
    """Read the CharField lengths of DailySpend once the app registry is ready."""
    if not TEXT_LIMITS:
        TEXT_LIMITS.update(_text_limits())
