"""FOCUS 1.3 Contract Commitment files: loaded into commitments, linked to the cost rows.

A Contract Commitment file describes each commitment of a contract (its type, Spend or Usage
category, amount or quantity, and term); cost-and-usage rows point at them through
``ContractApplied.Elements[].ContractCommitmentId``. Loading is an upsert by
ContractCommitmentId, so loading a file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone

from portfolio.focus import columns as fc
from portfolio.focus.errors import DeliveryRejected, RowError, WarningLog
from portfolio.focus.normalise import datetime_parse
from portfolio.focus.reader import file_batches
from portfolio.models import Commitment
from portfolio.rowstore import row_blocks, rows_table

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_REQUIRED = (
    "ContractCommitmentId", "ContractCommitmentType", "ContractCommitmentCategory",
    "ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd", "ContractId",
)  # fmt: skip

# ContractCommitmentType is a provider label; these are the ones with a category of our own.
_CATEGORY_BY_TYPE = {
    "committed use discount": Commitment.Category.CLOUD_DISCOUNT,
    "minimum spend": Commitment.Category.CLOUD_DISCOUNT,
    "savings plan": Commitment.Category.SAVINGS_PLAN,
    "reserved instance": Commitment.Category.RESERVATION,
    "reservation": Commitment.Category.RESERVATION,
}


def contract_commitment_file_detect(*, header: list[str]) -> bool:
    """Whether a header is a FOCUS Contract Commitment dataset rather than cost and usage."""
    return bool(fc.CONTRACT_COMMITMENT_COLUMNS & set(header))


def contract_commitment_file_load(
    *, path: Path, fmt: str, name: str, header: list[str], warnings: WarningLog
) -> bool:
    """Load ``path`` into commitments if it is a Contract Commitment file; say whether it was.

    ``contract_commitment_file_read`` then ``contract_commitments_write``, in one transaction
    (or in the caller's, when there is one).
    """
    records = contract_commitment_file_read(
        path=path, fmt=fmt, name=name, header=header, warnings=warnings
    )
    if records is None:
        return False
    with transaction.atomic():
        contract_commitments_write(records=records)
    return True


def contract_commitment_file_read(
    *, path: Path, fmt: str, name: str, header: list[str], warnings: WarningLog
) -> list[dict[str, Any]] | None:
    """The commitments of ``path`` if it is a Contract Commitment file, else None.

    Writes nothing: the ingest reads the file while planning, to reject bad values early,
    and writes the commitments in the finaliser's transaction, so they are stored only with
    the rest of the delivery. Raises ``DeliveryRejected`` naming file, row, column and value
    for a bad value; a commitment without an amount or currency (which FOCUS allows for Usage
    commitments) is skipped with a warning rather than given an invented one.
    """
    if not contract_commitment_file_detect(header=header):
        return None
    missing = [column for column in _REQUIRED if column not in header]
    if missing:
        problem = f"lacks the Contract Commitment columns {', '.join(missing)}."
        raise DeliveryRejected([RowError(name, None, None, None, problem)])

    records, errors = [], []
    row_number = 0
    for table in file_batches(path, fmt, header, on_bad_line=lambda problem: None):
        for values in table.to_pylist():
            row_number += 1
            record = _record_read(values, name, row_number, errors, warnings)
            if record is not None:
                records.append(record)
    if errors:
        raise DeliveryRejected(errors)
    return records


def contract_commitments_write(*, records: list[dict[str, Any]]) -> None:
    """Upsert the commitments read by ``contract_commitment_file_read``."""
    for record in records:
        commitment_upsert(record=record)
    if records:
        logger.info("contract commitments %s: %s loaded", records[0]["file"], len(records))


def _record_read(
    values: dict[str, Any], file: str, row: int, errors: list[RowError], warnings: WarningLog
) -> dict[str, Any] | None:
    def fail(column: str, problem: str) -> None:
        errors.append(RowError(file, row, column, values.get(column), problem))

    for column in _REQUIRED:
        if not (values.get(column) or "").strip():
            fail(column, "the value is missing; a Contract Commitment row always has one.")
    start, end = (
        _moment(values, column, fail)
        for column in ("ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd")
    )
    cost = _decimal(values, "ContractCommitmentCost", fail)
    quantity = _decimal(values, "ContractCommitmentQuantity", fail)
    currency = (values.get("BillingCurrency") or "").strip()
    if currency and not _CURRENCY.match(currency):
        fail("BillingCurrency", "is not an ISO 4217 currency code such as USD or EUR.")
    if start and end and end <= start:
        fail("ContractCommitmentPeriodEnd", "is not after ContractCommitmentPeriodStart.")
    if errors:
        return None

    commitment_id = values["ContractCommitmentId"].strip()
    if cost is None or not currency:
        warnings.add(
            code="contract_commitment_without_amount", file=file, column="ContractCommitmentCost",
            message=f"{file}: contract commitments without ContractCommitmentCost or "
            "BillingCurrency were not loaded; their amount is unknown.",
            rows=[row],
        )  # fmt: skip
        return None
    return {
        "contract_commitment_id": commitment_id,
        "contract_id": values["ContractId"].strip(),
        "type": values["ContractCommitmentType"].strip(),
        "description": (values.get("ContractCommitmentDescription") or "").strip(),
        "start": start,
        "end": end,
        "cost": cost,
        "quantity": quantity,
        "unit": (values.get("ContractCommitmentUnit") or "").strip(),
        "currency": currency,
        "file": file,
    }


def _moment(values: dict[str, Any], column: str, fail: Any) -> dt.datetime | None:
    text = values.get(column)
    if not text:
        return None
    moment = datetime_parse(text)
    if moment is None:
        fail(column, "is not a date-time.")
    return moment


def _decimal(values: dict[str, Any], column: str, fail: Any) -> Decimal | None:
    text = (values.get(column) or "").strip()
    if not text:
        return None
    if not _NUMBER.match(text):
        fail(column, "is not a number.")
        return None
    value = Decimal(text)
    if value < 0:
        fail(column, "is negative; a commitment's amount or quantity never is.")
    return value


def commitment_upsert(*, record: dict[str, Any]) -> Commitment:
    """Create or update the commitment of one Contract Commitment row, by its id.

    The term's end is exclusive; an end during a day makes that day the last one covered.
    Fields people maintain (owner, scope, payment, renewal dates, notes) are left alone.
    """
    start_date = record["start"].date()
    end = record["end"]
    end_date = end.date() if end.time() == dt.time(0) else end.date() + dt.timedelta(days=1)
    today = timezone.now().date()
    status = Commitment.Status.ACTIVE
    if start_date > today:
        status = Commitment.Status.PLANNED
    elif end_date <= today:
        status = Commitment.Status.EXPIRED

    commitment_id = record["contract_commitment_id"]
    existing = Commitment.objects.filter(contract_commitment_id=commitment_id).first()
    values = {
        "category": _CATEGORY_BY_TYPE.get(record["type"].lower(), Commitment.Category.OTHER),
        "status": status,
        "contract_id": record["contract_id"],
        "contract_commitment_type": record["type"],
        "start_date": start_date,
        "end_date": end_date,
        "currency": record["currency"],
        "total_amount": record["cost"],
        "quantity": record["quantity"],
        "quantity_unit": record["unit"][:50],
    }
    if existing is None:
        provider = _provider_of(commitment_id)
        return Commitment.objects.create(
            name=_unique_name(record),
            contract_commitment_id=commitment_id,
            provider_name=provider,
            notes=f"Loaded from the FOCUS Contract Commitment file {record['file']}.",
            **values,
        )
    for field_name, value in values.items():
        setattr(existing, field_name, value)
    existing.save()
    return existing


def _unique_name(record: dict[str, Any]) -> str:
    # Descriptions repeat across commitments ("SpendBasedCUD-1yr"); the id's last part does not.
    short_id = record["contract_commitment_id"].rstrip("/").rsplit("/", 1)[-1]
    label = record["description"] or record["type"]
    name = f"{label} ({short_id})"[:200]
    if Commitment.objects.filter(name=name).exists():
        name = f"{label[:80]} ({record['contract_commitment_id'][-110:]})"
    return name


def _provider_of(commitment_id: str) -> str:
    # The Contract Commitment dataset of 1.3 has no provider column; the cost rows applied to
    # the commitment name it, when they were loaded first.
    for provider in commitment_rows(commitment_id=commitment_id).column("provider_name"):
        if provider.as_py():
            return provider.as_py()
    return ""


def commitment_rows(*, commitment_id: str) -> pa.Table:
    """The stored cost rows whose ContractApplied names ``commitment_id``, staged ones too."""
    wanted = f"|{commitment_id}|"
    found = []
    for block in row_blocks(every=True):
        applied = pc.match_substring(block.column("contract_commitment_ids"), wanted)
        block = block.filter(pc.fill_null(applied, False))
        if block.num_rows:
            found.append(block)
    return pa.concat_tables(found) if found else rows_table(slice_ids=[])


def commitment_ids_known(ids: set[str]) -> set[str]:
    """Those of ``ids`` that are the ContractCommitmentId of a stored commitment."""
    return set(
        Commitment.objects.filter(contract_commitment_id__in=ids).values_list(
            "contract_commitment_id", flat=True
        )
    )
