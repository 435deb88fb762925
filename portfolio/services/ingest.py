"""FOCUS deliveries: record the files, load them all or nothing, and summarise the outcome.

A delivery is one set of files loaded in one database transaction: a single bad value anywhere
rejects the delivery and stores no row. Loading the same files again (same content hash) is a
no-op, and a newer delivery of an account's billing period supersedes the older one, so totals
never count a period twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from finops_exec.api_errors import ApplicationError
from finops_exec.exact import money_str
from portfolio.focus import columns as fc
from portfolio.focus.errors import DeliveryRejected, RowError, WarningLog
from portfolio.focus.normalise import chunk_normalise, column_plan_make, text_limits_load
from portfolio.focus.reader import (
    FileUnreadable,
    file_batches,
    file_format_detect,
    file_header_read,
    file_rows_estimate,
)
from portfolio.models import Delivery
from portfolio.services.spend_load import (
    SliceRegistry,
    billing_slices_promote,
    delivery_totals,
    monthly_spend_write,
    spend_rows_write,
)
from scopes.categorization import CategoryRules, category_rules_load, technology_category_assign

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]

_HASH_BLOCK = 8 * 1024 * 1024
_GENERIC_FAILURE = "The ingest failed unexpectedly; the error has been logged. Nothing was stored."


def delivery_create(
    *,
    paths: list[Path],
    source: str = Delivery.Source.COMMAND,
    user: Any = None,
) -> Delivery:
    """Record a queued delivery of the given files (a folder stands for all files in it).

    Each file's name, path, size, SHA-256 and detected format are kept, with a hash over all
    contents that makes a replay of the same files recognisable. Raises ``ApplicationError``
    when a path does not exist or no file is given.
    """
    files = [_file_describe(path) for path in _paths_expand(paths)]
    if not files:
        raise ApplicationError("No FOCUS file was given; name at least one file.", code="no_files")
    combined = hashlib.sha256("\n".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()
    return Delivery.objects.create(
        source=source,
        files=files,
        content_sha256=combined,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def _paths_expand(paths: list[Path]) -> list[Path]:
    expanded = []
    for path in map(Path, paths):
        if path.is_dir():
            expanded.extend(
                sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            )
        elif path.is_file():
            expanded.append(path)
        else:
            raise ApplicationError(
                f"{path} does not exist; give the path of a FOCUS file or folder.",
                code="file_not_found",
            )
    return expanded


def _file_describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return {
        "name": path.name,
        "path": str(path.resolve()),
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "format": file_format_detect(path),
    }


def delivery_create_from_uploads(*, uploads: list[UploadedFile], user: Any = None) -> Delivery:
    """Save uploaded files under ``INGEST_UPLOAD_DIR/<uuid>/`` and record a queued delivery.

    Raises ``ApplicationError`` (413) when together they exceed ``INGEST_MAX_UPLOAD_BYTES``.
    """
    upload_bytes_check(size=sum(upload.size or 0 for upload in uploads))
    folder = Path(settings.INGEST_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    paths = []
    for index, upload in enumerate(uploads):
        name = get_valid_filename(Path(upload.name or "").name) if upload.name else ""
        path = folder / (name or f"upload-{index + 1}")
        if path.exists():
            path = folder / f"{index + 1}-{path.name}"
        with path.open("wb") as handle:
            for block in upload.chunks():
                handle.write(block)
        paths.append(path)
    return delivery_create(paths=paths, source=Delivery.Source.UPLOAD, user=user)


def upload_bytes_check(*, size: int) -> None:
    """Raise a 413 ``ApplicationError`` when ``size`` exceeds the upload limit."""
    limit = settings.INGEST_MAX_UPLOAD_BYTES
    if size > limit:
        raise ApplicationError(
            f"The upload is {size} bytes, over the limit of {limit} bytes; split the delivery "
            "into smaller files or load it with the ingest_focus command.",
            code="upload_too_large",
            status_code=413,
        )


def delivery_enqueue(*, delivery: Delivery) -> None:
    """Queue the ingest once the surrounding transaction commits (at once if there is none)."""
    from portfolio.tasks import delivery_ingest_task

    transaction.on_commit(lambda: delivery_ingest_task.delay(delivery.pk))


@dataclass
class _Run:
    """What one ingest learns as it reads, kept outside the transaction that may roll back."""

    warnings: WarningLog = field(default_factory=WarningLog)
    errors: list[RowError] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    started: float = field(default_factory=time.monotonic)


def delivery_ingest(*, delivery: Delivery, progress: Progress | None = None) -> Delivery:
    """Load the delivery's files into spend, all or nothing, and record the outcome on it.

    Sets ``status`` to loaded, rejected (bad input: ``errors`` say file, row, column and
    value) or failed (unexpected: details in the log), with counts, per-currency totals,
    warnings and timings. ``progress(rows_done, rows_expected)`` is called after each chunk.
    Never raises for bad input or an unexpected error; the outcome is on the returned row.
    """
    run = _Run()
    _mark_running(delivery)
    logger.info("ingest %s: started, %s files", delivery.pk, len(delivery.files))
    try:
        original = _original_of(delivery)
        if original is not None:
            _record_duplicate(delivery, original, run)
        else:
            with transaction.atomic():
                _load(delivery, run, progress)
            _record_loaded(delivery, run)
    except DeliveryRejected as exc:
        run.errors = run.errors or exc.errors
        _record_rejected(delivery, run)
    except Exception:
        logger.exception("ingest %s: failed unexpectedly", delivery.pk)
        _record_failed(delivery, run)
    logger.info(
        "ingest %s: %s, %s rows read, %s loaded, %s rejected, %s warnings in %.1f s",
        delivery.pk, delivery.status, run.rows_read, run.rows_loaded, run.rows_rejected,
        len(delivery.warnings), time.monotonic() - run.started,
    )  # fmt: skip
    return delivery


def _mark_running(delivery: Delivery) -> None:
    # Committed before the load starts, so readers see the job running while it loads.
    expected = 0
    for entry in delivery.files:
        estimate = file_rows_estimate(Path(entry["path"]), entry["format"])
        if estimate is None:
            expected = None
            break
        expected += estimate
    delivery.status = Delivery.Status.RUNNING
    delivery.started_at = timezone.now()
    delivery.rows_expected = expected
    delivery.rows_done = 0
    delivery.save(
        update_fields=["status", "started_at", "rows_expected", "rows_done", "updated_at"]
    )


def _original_of(delivery: Delivery) -> Delivery | None:
    return (
        Delivery.objects.filter(
            content_sha256=delivery.content_sha256,
            status=Delivery.Status.LOADED,
            duplicate_of__isnull=True,
        )
        .exclude(pk=delivery.pk)
        .order_by("created_at", "id")
        .first()
    )


def _load(delivery: Delivery, run: _Run, progress: Progress | None) -> None:
    rules = category_rules_load()
    text_limits_load()
    registry = SliceRegistry(delivery)
    reporter = _ProgressReporter(delivery, progress)
    try:
        for index, entry in enumerate(delivery.files):
            _file_load(delivery, index, entry, run, rules, registry, reporter)
    finally:
        reporter.close()
    if run.errors:
        raise DeliveryRejected(run.errors)

    superseded = billing_slices_promote(registry=registry)
    rollups = monthly_spend_write(delivery=delivery)
    logger.info(
        "ingest %s: %s slices, %s superseded, %s monthly rollups",
        delivery.pk, len(registry.slices), superseded, rollups,
    )  # fmt: skip


def _file_load(
    delivery: Delivery,
    index: int,
    entry: dict[str, Any],
    run: _Run,
    rules: CategoryRules,
    registry: SliceRegistry,
    reporter: _ProgressReporter,
) -> None:
    name, path, fmt = entry["name"], Path(entry["path"]), entry["format"]
    try:
        header = file_header_read(path, fmt)
        plan = column_plan_make(header=header, file=name, warnings=run.warnings)
        run.versions.append(plan.version)

        def bad_line(problem: str) -> None:
            run.errors.append(RowError(name, None, None, None, problem))
            run.rows_rejected += 1

        first_row = 1
        for raw in file_batches(path, fmt, header, on_bad_line=bad_line):
            table, chunk = chunk_normalise(
                table=raw, plan=plan, first_row=first_row, warnings=run.warnings
            )
            first_row += raw.num_rows
            run.rows_read += raw.num_rows
            run.rows_rejected += len(chunk.bad_rows)
            run.errors.extend(chunk.errors)
            if run.errors:
                # The delivery is rejected: stop reading, nothing of it will be kept.
                raise DeliveryRejected(run.errors)
            spend_rows_write(table=_row_table(table, delivery, index, rules, registry))
            run.rows_loaded += table.num_rows
            reporter.report(run.rows_read)
    except FileUnreadable as exc:
        run.errors.append(RowError(name, None, None, None, str(exc)))
        raise DeliveryRejected(run.errors) from exc


def _row_table(
    table: pa.Table,
    delivery: Delivery,
    file_index: int,
    rules: CategoryRules,
    registry: SliceRegistry,
) -> pa.Table:
    """The chunk with the bookkeeping columns SpendRow needs besides the FOCUS ones."""
    length = table.num_rows
    categories = technology_category_assign(
        columns={name: table.column(name) for name in table.column_names}, rules=rules
    )
    table = table.append_column("billing_slice_id", registry.ids_for(table))
    table = table.append_column("technology_category_id", categories)
    table = table.append_column("delivery_id", pa.array([delivery.pk] * length, pa.int64()))
    return table.append_column("source_file", pa.array([file_index] * length, pa.int64()))


class _ProgressReporter:
    """Reports rows done to the caller and, where another connection can see it, to the row.

    Inside the delivery's transaction an update of the Delivery row is invisible to others
    until commit. On PostgreSQL a second connection writes ``rows_done`` in autocommit, so the
    API shows live progress; SQLite allows one writer, so there it is only written at the end.
    """

    def __init__(self, delivery: Delivery, progress: Progress | None) -> None:
        self.delivery = delivery
        self.progress = progress
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(connection.alias)

    def report(self, rows_done: int) -> None:
        if self.progress:
            self.progress(rows_done, self.delivery.rows_expected)
        if self.side is not None:
            table = Delivery._meta.db_table
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET rows_done = %s WHERE id = %s",
                    [rows_done, self.delivery.pk],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def _finish(delivery: Delivery, run: _Run, status: str) -> None:
    delivery.status = status
    delivery.finished_at = timezone.now()
    delivery.rows_read = run.rows_read
    delivery.rows_done = run.rows_read
    delivery.rows_rejected = run.rows_rejected
    delivery.warnings = run.warnings.as_list()
    delivery.errors = [error.as_dict() for error in run.errors]
    if run.versions:
        versions = sorted(set(run.versions), key=fc.version_key)
        delivery.focus_version = versions[-1]
    delivery.save()


def _record_loaded(delivery: Delivery, run: _Run) -> None:
    versions = set(run.versions)
    if len(versions) > 1:
        listed = ", ".join(sorted(versions, key=fc.version_key))
        run.warnings.add(
            code="mixed_focus_versions",
            message=f"The files are of different FOCUS versions ({listed}); each was read "
            "by its own version.",
        )
    delivery.rows_loaded = run.rows_loaded
    delivery.totals = {
        currency: {name: money_str(amount) for name, amount in sums.items()}
        for currency, sums in delivery_totals(delivery=delivery).items()
    }
    delivery.error_message = ""
    _finish(delivery, run, Delivery.Status.LOADED)


def _record_duplicate(delivery: Delivery, original: Delivery, run: _Run) -> None:
    run.warnings.add(
        code="duplicate_delivery",
        message=f"These files were already loaded by delivery {original.pk}; nothing was "
        "loaded again.",
    )
    delivery.duplicate_of = original
    delivery.focus_version = original.focus_version
    delivery.rows_loaded = 0
    delivery.totals = {}
    _finish(delivery, run, Delivery.Status.LOADED)


def _record_rejected(delivery: Delivery, run: _Run) -> None:
    run.rows_loaded = 0
    delivery.rows_loaded = 0
    delivery.totals = {}
    first = run.errors[0].message if run.errors else "The delivery was rejected."
    more = len(run.errors) - 1
    delivery.error_message = (
        f"Rejected, nothing was stored: {first}"
        + (f" ({more} more errors listed.)" if more > 0 else "")
        + " Row numbers count data rows from 1, not counting the header."
    )
    _finish(delivery, run, Delivery.Status.REJECTED)


def _record_failed(delivery: Delivery, run: _Run) -> None:
    run.rows_loaded = 0
    delivery.rows_loaded = 0
    delivery.totals = {}
    delivery.error_message = _GENERIC_FAILURE
    run.errors = [RowError("", None, None, None, _GENERIC_FAILURE)]
    _finish(delivery, run, Delivery.Status.FAILED)


def delivery_summary(*, delivery: Delivery) -> dict[str, Any]:
    """The outcome of an ingest as plain JSON-ready data (the command's ``--json`` line)."""
    return {
        "status": delivery.status,
        "focus_version": delivery.focus_version,
        "rows_read": delivery.rows_read,
        "rows_loaded": delivery.rows_loaded,
        "rows_rejected": delivery.rows_rejected,
        "totals": delivery.totals,
        "warnings": delivery.warnings,
        "errors": delivery.errors,
    }
