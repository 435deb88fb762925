"""FOCUS deliveries: record the files, load them in chunks, and make them current all at once.

How a delivery loads
    A delivery is split into chunks of consecutive rows of one file (``DeliveryChunk``). Each
    chunk is normalised and written in its own transaction, under billing slices that are not
    current yet: its rows as one Parquet block and their exact daily sums; that same
    transaction marks the chunk done. When the last chunk reports done, a finaliser takes a row
    lock on the Delivery and, in one transaction, records each slice's coverage and charge
    days, makes the delivery's slices current where they hold every charge day of the current
    slices of the same accounts and periods (which they supersede; an older or partial export
    is kept aside, with a warning), and records the totals. Readers only ever see current
    slices, so no total includes part of a delivery: a crash before the finaliser commits
    leaves staged blocks that nothing counts, and a bad value anywhere rejects the whole
    delivery and its staged blocks are removed. Loading the same files again (same content
    hash) is a no-op, checked again under the finalisers' lock so that two ingests of the same
    files at once store them once.

    With a broker, chunks run as Celery tasks on any number of workers: the planner task reads
    the files once, in bounded batches, spools each chunk as an Arrow IPC file in
    ``INGEST_SPOOL_DIR`` and queues it at once, so workers load while it is still reading.
    Each worker also runs the conformance checks on the chunks it loads and records what they
    counted with the chunk; the finaliser adds those up into the delivery's report. Without a
    broker (and for ``ingest_focus``) the same functions run in-process, chunk after chunk,
    without the spool, the checks running as the files are read. A chunk task is idempotent:
    a redelivered message finds its chunk done, or finds no row of it, because rows and the
    done mark commit together.

Why rows in Parquet blocks and daily sums beside them
    Koku keeps raw provider rows as Parquet and serves its UI from summary tables in
    PostgreSQL; the Microsoft FinOps hubs keep raw exports as Parquet per delivery. Both make
    ingest cheap by never writing raw rows one database row at a time: a row table with its
    indexes costs more than twice a bare COPY of the file before any parsing. Here each chunk's
    rows are one compressed Parquet value in the database (``SpendBlock``), so they commit in
    the chunk's transaction and need no shared file system between workers, and
    ``DailySpend`` holds their exact sums per day by every dimension a scope or category rule
    can test, tags included: briefs, scopes and most spend queries read only the sums, and the
    rest (resources, SKUs, unit costs) is read from the blocks.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import get_valid_filename

from finops_exec.api_errors import ApplicationError
from finops_exec.exact import money_str
from portfolio.focus import columns as fc
from portfolio.focus.conformance import ConformanceAccumulator, batch_checked
from portfolio.focus.errors import DeliveryRejected, RowError, WarningLog
from portfolio.focus.normalise import (
    ColumnPlan,
    chunk_normalise,
    column_plan_make,
    text_limits_load,
)
from portfolio.focus.reader import (
    CSV,
    FileUnreadable,
    file_batches,
    file_format_detect,
    file_header_read,
    file_rows_estimate,
    line_breaks_count,
    zip_archives_expand,
)
from portfolio.models import Delivery
from portfolio.models.spend import DeliveryChunk
from portfolio.services.commitments_load import (
    commitment_ids_known,
    contract_commitment_file_read,
    contract_commitments_write,
)
from portfolio.services.spend_load import (
    PreparedChunk,
    SliceKey,
    SliceRegistry,
    SumTooLarge,
    billing_slice_change_warning,
    billing_slices_measure,
    billing_slices_promote,
    spend_chunk_prepare,
    spend_chunk_write,
    spend_discard,
)
from scopes.categorization import CategoryRules, category_rules_load

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]

# 50,000 rows of a wide FOCUS file are about 40 MB of text and take a fraction of a second to
# load. The in-process ingest has three chunks in flight at once (being read, being
# normalised, being written), each with a few copies of its columns: at this size it stays
# well under 1 GB, and the per-chunk bookkeeping (one locked update of the Delivery row) and
# the sums that a chunk boundary splits in two stay small.
CHUNK_ROWS = 50_000
_HASH_BLOCK = 8 * 1024 * 1024
_SNIFF_BYTES = 8192
_GENERIC_FAILURE = "The ingest failed unexpectedly; the error has been logged. Nothing was stored."
_BROKER_DOWN = (
    "The ingest queue is not reachable, so the upload was not kept; nothing was stored. "
    "Try again in a few minutes, or load the files with the ingest_focus command."
)
# Advisory lock key shared by finalisers: promotion of the same account and period by two
# deliveries at once must not interleave.
_FINALISE_LOCK = 7_301_462_001
_COMMITMENT_DATASET = "contract_commitment"
_FINISHED = (Delivery.Status.LOADED, Delivery.Status.REJECTED, Delivery.Status.FAILED)


# Recording deliveries -----------------------------------------------------------------------


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
    files, repeated = _files_distinct([_file_describe(path) for path in _paths_expand(paths)])
    if not files:
        raise ApplicationError("No FOCUS file was given; name at least one file.", code="no_files")
    combined = hashlib.sha256("\n".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()
    return Delivery.objects.create(
        source=source,
        files=files,
        content_sha256=combined,
        warnings=repeated,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def _files_distinct(
    files: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep the first of byte-identical files: the same export given twice is read once.

    Returns the files to read and one ``duplicate_file`` warning for each file left out.
    """
    first_by_hash: dict[str, dict[str, Any]] = {}
    repeated = []
    for entry in files:
        first = first_by_hash.setdefault(entry["sha256"], entry)
        if first is not entry:
            repeated.append(
                {
                    "code": "duplicate_file",
                    "message": (
                        f"{entry['name']} has the same content as {first['name']} in this "
                        "delivery; it was read once."
                    ),
                    "column": None,
                    "rows": [],
                    "file": entry["name"],
                }
            )
    return list(first_by_hash.values()), repeated


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
    return zip_archives_expand(paths=expanded)


def _file_describe(path: Path) -> dict[str, Any]:
    fmt = file_format_detect(path)
    digest = hashlib.sha256()
    # Line breaks are counted in the same pass as the hash: the expected rows of a plain CSV
    # (see ``file_rows_estimate``), without reading the file once more.
    lines, last = 0, b"\n"
    # hashlib releases the GIL on large blocks: the hash of one block runs beside the count.
    with path.open("rb") as handle, ThreadPoolExecutor(1) as hasher:
        hashed = None
        while block := handle.read(_HASH_BLOCK):
            if hashed is not None:
                hashed.result()
            hashed = hasher.submit(digest.update, block)
            if fmt == CSV:
                lines += line_breaks_count(block)
                last = block[-1:]
        if hashed is not None:
            hashed.result()
    entry = {
        "name": path.name,
        "path": str(path.resolve()),
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "format": fmt,
    }
    if fmt == CSV:
        entry["rows_estimate"] = max(lines + (last != b"\n") - 1, 0)
    return entry


def delivery_create_from_uploads(*, uploads: list[UploadedFile], user: Any = None) -> Delivery:
    """Save uploaded files under ``INGEST_UPLOAD_DIR/<uuid>/`` and record a queued delivery.

    Raises ``ApplicationError``: 413 when together they exceed ``INGEST_MAX_UPLOAD_BYTES``,
    415 when a file is not text, gzip, Parquet or zip. Nothing is saved when one is refused.
    """
    upload_bytes_check(size=sum(upload.size or 0 for upload in uploads))
    for upload in uploads:
        upload_type_check(upload=upload)
    folder = Path(settings.INGEST_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    paths = []
    try:
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
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


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


def upload_type_check(*, upload: UploadedFile) -> None:
    """Raise a 415 ``ApplicationError`` unless the file starts like CSV, gzip, Parquet or zip.

    Only the first bytes are looked at: text must be UTF-8 without NUL bytes. A file that
    passes can still be rejected by the ingest, with row and column named.
    """
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    if head[:2] == b"\x1f\x8b" or head[:4] in (b"PAR1", b"PK\x03\x04"):
        return
    text_like = b"\x00" not in head
    if text_like:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the probe's end is still text.
            text_like = exc.start >= len(head) - 3
    if not text_like:
        raise ApplicationError(
            f"{upload.name} is not a CSV, gzip-compressed CSV, Parquet or zip file; send FOCUS "
            "cost-and-usage exports in one of those formats.",
            code="unsupported_media_type",
            status_code=415,
        )


# Queueing -----------------------------------------------------------------------------------


def delivery_enqueue(*, delivery: Delivery, chunk_rows: int | None = None) -> None:
    """Queue the ingest once the surrounding transaction commits (at once if there is none).

    When the broker cannot be reached the delivery is marked failed, its uploaded files are
    removed, and a 503 ``ApplicationError`` (``broker_unavailable``) is raised: an upload is
    either queued or not kept, never left queued with no job to run it.
    """
    transaction.on_commit(lambda: _publish(delivery, chunk_rows))


def _publish(delivery: Delivery, chunk_rows: int | None) -> None:
    from kombu.exceptions import OperationalError

    from portfolio.tasks import delivery_ingest_task

    try:
        delivery_ingest_task.apply_async(
            (delivery.pk,),
            {"chunk_rows": chunk_rows},
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except (OperationalError, ConnectionError) as exc:
        logger.warning("ingest %s: the broker is unreachable (%s); not queued", delivery.pk, exc)
        _uploads_remove(delivery)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED,
            finished_at=timezone.now(),
            error_message=_BROKER_DOWN,
            errors=[RowError("", None, None, None, _BROKER_DOWN).as_dict()],
        )
        raise ApplicationError(_BROKER_DOWN, code="broker_unavailable", status_code=503) from exc


def _uploads_remove(delivery: Delivery) -> None:
    if delivery.source != Delivery.Source.UPLOAD:
        return
    upload_root = Path(settings.INGEST_UPLOAD_DIR).resolve()
    for entry in delivery.files:
        folder = Path(entry["path"]).parent
        if folder.resolve().parent == upload_root:
            shutil.rmtree(folder, ignore_errors=True)


# Reading a delivery into chunks -------------------------------------------------------------


@dataclass
class _Plan:
    """What reading the files learns besides the rows: header warnings, bad lines, versions."""

    warnings: WarningLog = field(default_factory=WarningLog)
    errors: list[RowError] = field(default_factory=list)
    versions: dict[int, str] = field(default_factory=dict)
    rows_rejected: int = 0
    commitment_files: set[int] = field(default_factory=set)
    commitment_ids: set[str] = field(default_factory=set)
    # Fed the batches as they are read, so the conformance report needs no second pass.
    conformance: ConformanceAccumulator | None = None
    # The chunks are checked by the workers that load them; the finaliser adds their checks up.
    checks_deferred: bool = False


def _plan_start(delivery: Delivery) -> _Plan:
    """A new plan that carries the warnings recorded when the delivery was created."""
    plan = _Plan()
    for entry in delivery.warnings:
        plan.warnings.add(
            code=entry["code"], message=entry["message"], file=entry.get("file"),
            column=entry.get("column"), rows=entry.get("rows"), count=entry.get("count"),
        )  # fmt: skip
    return plan


@dataclass
class _ChunkSpec:
    index: int
    file_index: int
    first_row: int
    table: pa.Table


def _chunks_read(
    delivery: Delivery, plan: _Plan, chunk_rows: int, *, read_ahead: bool = False,
    check: bool = True,
) -> Iterator[_ChunkSpec]:  # fmt: skip
    """The delivery's rows as chunks of at most ``chunk_rows`` rows of one file, in order.

    Stops at the first file problem (header, unreadable content, a line of the wrong width),
    with the problem in ``plan.errors``. Each chunk goes through the conformance checks unless
    ``check`` is false (the workers that load the chunks check them). With ``read_ahead`` the
    next chunk is read in a thread meanwhile.
    """
    index = 0
    plan.conformance = ConformanceAccumulator(files=delivery.files)
    for file_index, entry in enumerate(delivery.files):
        name, path, fmt = entry["name"], Path(entry["path"]), entry["format"]

        def bad_line(problem: str, name: str = name) -> None:
            plan.errors.append(RowError(name, None, None, None, problem))
            plan.rows_rejected += 1

        try:
            header = file_header_read(path, fmt)
            commitments = contract_commitment_file_read(
                path=path, fmt=fmt, name=name, header=header, warnings=plan.warnings
            )
            if commitments is not None:
                # Checked now, written by the finaliser with the rest of the delivery.
                plan.versions[file_index] = "1.3"
                plan.commitment_files.add(file_index)
                plan.commitment_ids.update(r["contract_commitment_id"] for r in commitments)
                continue
            column_plan = column_plan_make(header=header, file=name, warnings=plan.warnings)
            plan.versions[file_index] = column_plan.version
            first_row = 1
            tables = _rebatch(file_batches(path, fmt, header, on_bad_line=bad_line), chunk_rows)
            with _Prefetch(tables) if read_ahead else contextlib.nullcontext(tables) as read:
                for table in read:
                    if plan.errors:
                        return
                    if check:
                        plan.conformance.add(
                            file_index=file_index, table=table, first_row=first_row
                        )
                    yield _ChunkSpec(index, file_index, first_row, table)
                    index += 1
                    first_row += table.num_rows
            if check and not plan.errors:
                plan.conformance.file_complete(file_index=file_index)
        except FileUnreadable as exc:
            plan.errors.append(RowError(name, None, None, None, str(exc)))
        except DeliveryRejected as exc:
            plan.errors.extend(exc.errors)
        if plan.errors:
            return


def _rebatch(tables: Iterator[pa.Table], size: int) -> Iterator[pa.Table]:
    """Tables of exactly ``size`` rows (the last one shorter) from tables of any size."""
    pending: list[pa.Table] = []
    held = 0
    for table in tables:
        pending.append(table)
        held += table.num_rows
        while held >= size:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, size).combine_chunks()
            rest = whole.slice(size)
            pending, held = ([rest] if rest.num_rows else []), rest.num_rows
    if held:
        yield pa.concat_tables(pending).combine_chunks()


def _mark_running(delivery: Delivery, chunk_rows: int, runner: str = "") -> None:
    # Committed before the load starts, so readers see the job running while it loads.
    expected: int | None = 0
    for entry in delivery.files:
        estimate = _rows_estimate(entry)
        if estimate is None or expected is None:
            expected = None
            continue
        expected += estimate
    delivery.status = Delivery.Status.RUNNING
    delivery.started_at = timezone.now()
    delivery.rows_expected = expected
    delivery.rows_done = 0
    delivery.chunk_rows = chunk_rows
    delivery.runner = runner[:200]
    delivery.save(
        update_fields=[
            "status", "started_at", "rows_expected", "rows_done", "chunk_rows", "runner",
            "updated_at",
        ]
    )  # fmt: skip


def _rows_estimate(entry: dict[str, Any]) -> int | None:
    """A file's data rows as counted when it was recorded, or when cheap to know now."""
    estimate = entry.get("rows_estimate")
    if estimate is None:
        estimate = file_rows_estimate(Path(entry["path"]), entry["format"])
    return estimate


def _plan_record(delivery: Delivery, plan: _Plan, chunks: int) -> bool:
    """Store what reading learnt and the chunk count; True when the finaliser may run now."""

    def known(ids: set[str]) -> set[str]:
        # The delivery's own Contract Commitment files count: they are written with its rows.
        return commitment_ids_known(ids) | (ids & plan.commitment_ids)

    accumulator = plan.conformance or ConformanceAccumulator(files=delivery.files)
    accumulator.commitments_known = known
    # With the checks left to the workers, the report is the finaliser's. When a file problem,
    # or a chunk rejected while the files were still being read, stops the delivery before
    # every chunk is checked, the report is made here, reading the files, as in-process.
    settled = Delivery.objects.filter(pk=delivery.pk, status__in=_FINISHED).exists()
    deferred = plan.checks_deferred and not plan.errors and not settled
    conformance = {} if deferred else accumulator.report()
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.is_finished:
            # A rejected chunk settled the delivery while the files were still being read.
            if conformance and not locked.conformance:
                locked.conformance = conformance
                locked.save(update_fields=["conformance", "updated_at"])
            return False
        files = list(locked.files)
        for file_index, version in plan.versions.items():
            files[file_index] = {**files[file_index], "focus_version": version}
        for file_index in plan.commitment_files:
            files[file_index] = {**files[file_index], "dataset": _COMMITMENT_DATASET}
        locked.files = files
        if locked.rows_expected is not None and plan.commitment_files:
            # Commitment files' rows load into commitments, not spend: progress leaves them out.
            counted = sum(_rows_estimate(files[index]) or 0 for index in plan.commitment_files)
            locked.rows_expected = max(locked.rows_expected - counted, 0)
        locked.chunks_total = chunks
        locked.warnings = plan.warnings.as_list()
        locked.errors = [error.as_dict() for error in plan.errors]
        locked.rows_rejected = plan.rows_rejected
        locked.conformance = conformance
        locked.save(
            update_fields=["files", "chunks_total", "warnings", "errors", "rows_rejected",
                           "conformance", "rows_expected", "updated_at"]
        )  # fmt: skip
        settled = locked.chunks.exclude(status=DeliveryChunk.Status.QUEUED).count()
        return bool(plan.errors) or settled == chunks


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


# In-process ingest --------------------------------------------------------------------------


def delivery_ingest(
    *, delivery: Delivery, progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS
) -> Delivery:
    """Load the delivery in this process, chunk after chunk, and record the outcome on it.

    Sets ``status`` to loaded, rejected (bad input: ``errors`` say file, row, column and
    value) or failed (unexpected: details in the log), with counts, per-currency totals,
    warnings and timings. ``progress(rows_done, rows_expected)`` is called after each chunk.
    Never raises for bad input or an unexpected error; the outcome is on the returned row.
    """
    started = time.monotonic()
    # A caller's own transaction must survive a failure here; without one, the connection may
    # be replaced to record the failure.
    owns_connection = not connection.in_atomic_block
    _mark_running(delivery, chunk_rows, runner=_inline_worker())
    logger.info("ingest %s: started in-process, %s files", delivery.pk, len(delivery.files))
    try:
        original = _original_of(delivery)
        if original is not None:
            delivery = _record_duplicate(delivery, original)
        else:
            _ingest_inline(delivery, progress, chunk_rows)
            delivery = delivery_finalise(delivery_id=delivery.pk)
    except Exception as exc:
        if _interrupted(exc):
            # Ctrl-C in the middle of a database call surfaces as the error it left behind.
            logger.warning("ingest %s: interrupted", delivery.pk)
            _fail_on_a_sound_connection(delivery.pk, _INTERRUPTED, owns_connection=owns_connection)
            raise KeyboardInterrupt from exc
        logger.exception("ingest %s: failed unexpectedly", delivery.pk)
        delivery = _fail_on_a_sound_connection(
            delivery.pk, _GENERIC_FAILURE, owns_connection=owns_connection
        )
    except KeyboardInterrupt:
        # Stopped by hand (Ctrl-C): nothing half-loaded may stay behind as "running".
        logger.warning("ingest %s: interrupted", delivery.pk)
        _fail_on_a_sound_connection(delivery.pk, _INTERRUPTED, owns_connection=owns_connection)
        raise
    _log_outcome(delivery, started)
    return delivery


def _ingest_inline(delivery: Delivery, progress: Progress | None, chunk_rows: int) -> None:
    plan = _plan_start(delivery)
    loader = _ChunkLoader(delivery, worker=_inline_worker())
    count = 0
    with _Prefetch(_chunks_normalised(delivery, plan, chunk_rows, loader)) as chunks:
        for spec, normalised in chunks:
            chunk = _chunk_create(delivery, spec)
            count += 1
            outcome = loader.store(chunk, normalised)
            if progress:
                progress(outcome.rows_done, delivery.rows_expected)
            if outcome.rejected:
                break
    _plan_record(delivery, plan, count)


def _chunks_normalised(
    delivery: Delivery, plan: _Plan, chunk_rows: int, loader: _ChunkLoader
) -> Iterator[tuple[_ChunkSpec, _Normalised]]:
    # Reading (with the conformance checks) runs one chunk ahead of normalising, in a thread of
    # its own: the two are the bulk of the work and both release the GIL in pyarrow.
    with _Prefetch(_chunks_read(delivery, plan, chunk_rows)) as specs:
        for spec in specs:
            normalised = loader.normalise(
                file_index=spec.file_index, first_row=spec.first_row, raw=spec.table
            )
            yield spec, normalised


class _Prefetch:
    """Runs a generator one item ahead in a thread, so reading overlaps writing.

    The in-process ingest reads, checks and normalises the next chunk (pyarrow, which releases
    the GIL) while this thread writes the current one and the database works on it: on two
    cores that hides most of one behind the other. The generator must not use the database,
    whose connections are per thread. Leaving the ``with`` block early stops the thread after
    the item it is working on.
    """

    _DONE = object()

    def __init__(self, items: Iterator[Any], ahead: int = 1) -> None:
        self._items = items
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-prefetch", daemon=True)

    def __enter__(self) -> Iterator[Any]:
        self._thread.start()
        return self._drain()

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.1)
        self._thread.join()

    def _run(self) -> None:
        try:
            for item in self._items:
                if self._stop.is_set():
                    return
                self._queue.put((item, None))
        except BaseException as exc:
            # Re-raised in the consuming thread.
            self._queue.put((None, exc))
            return
        finally:
            # A generator left early is closed here, in its own thread, so that whatever it
            # holds open (files, a nested prefetch) is released now rather than when collected.
            close = getattr(self._items, "close", None)
            if close is not None:
                close()
        self._queue.put((self._DONE, None))

    def _drain(self) -> Iterator[Any]:
        while True:
            item, error = self._queue.get()
            if error is not None:
                raise error
            if item is self._DONE:
                return
            yield item


def _fail_on_a_sound_connection(
    delivery_id: int, message: str, *, owns_connection: bool = False
) -> Delivery:
    """``delivery_fail``, on a new database connection if the failure broke the current one.

    An interrupt in the middle of a COPY or a COMMIT, or a lost server, leaves the connection
    unusable, and an interrupted COMMIT leaves Django believing a transaction is still open;
    the delivery must still be marked failed and its staged rows removed. With
    ``owns_connection`` (no transaction of the caller's is open) the connection is replaced.
    """
    try:
        return delivery_fail(delivery_id=delivery_id, message=message)
    except Exception:
        logger.warning("ingest %s: reconnecting to record the failure", delivery_id, exc_info=True)
        if owns_connection:
            _connection_replace()
        elif not connection.in_atomic_block:
            connection.close()
        return delivery_fail(delivery_id=delivery_id, message=message)


def _connection_replace() -> None:
    """Drop this thread's default connection, transaction state and all, for a fresh one."""
    broken = connections[DEFAULT_DB_ALIAS]
    raw = broken.connection
    del connections[DEFAULT_DB_ALIAS]
    if raw is not None:
        with contextlib.suppress(Exception):
            raw.close()


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while handling a KeyboardInterrupt (Ctrl-C)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__context__ or current.__cause__
    return False


def _inline_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _log_outcome(delivery: Delivery, started: float) -> None:
    logger.info(
        "ingest %s: %s, %s rows read, %s loaded, %s rejected, %s warnings in %.1f s",
        delivery.pk, delivery.status, delivery.rows_read, delivery.rows_loaded,
        delivery.rows_rejected, len(delivery.warnings), time.monotonic() - started,
    )  # fmt: skip


# Distributed ingest -------------------------------------------------------------------------


def delivery_plan(
    *,
    delivery: Delivery,
    chunk_rows: int | None = None,
    dispatch: Callable[[int], Any] | None = None,
) -> bool:
    """Read the delivery's files into spooled chunks and queue one task per chunk.

    ``dispatch(chunk_id)`` sends a chunk to the workers (default: the chunk task). Returns
    True when the finaliser should run now (nothing to load, a file problem, or every chunk
    already done on a replanned delivery). Replanning after a crash gives the same chunks:
    chunks already done are not queued again.
    """
    if dispatch is None:
        from portfolio.tasks import delivery_chunk_task

        dispatch = delivery_chunk_task.delay
    size = chunk_rows or delivery.chunk_rows or CHUNK_ROWS
    _mark_running(delivery, size)
    original = _original_of(delivery)
    if original is not None:
        _record_duplicate(delivery, original)
        return False
    logger.info("ingest %s: planning chunks of %s rows", delivery.pk, size)

    plan = _plan_start(delivery)
    spool = _spool_dir(delivery)
    spool.mkdir(parents=True, exist_ok=True)
    count = 0
    # The planner is the one serial part of a chunked delivery, and workers wait for what it
    # spools: it only reads, a chunk ahead, and the workers check the chunks they load.
    plan.checks_deferred = True
    for spec in _chunks_read(delivery, plan, size, read_ahead=True, check=False):
        chunk = _chunk_create(delivery, spec)
        count += 1
        if chunk.status != DeliveryChunk.Status.QUEUED:
            continue
        _spool_write(spool / f"{spec.index}.arrow", spec.table)
        dispatch(chunk.pk)
        if Delivery.objects.filter(pk=delivery.pk, status__in=_FINISHED).exists():
            logger.info("ingest %s: settled while planning, reading stopped", delivery.pk)
            break
    logger.info("ingest %s: %s chunks queued", delivery.pk, count)
    return _plan_record(delivery, plan, count)


def delivery_chunk_run(*, chunk_id: int, worker: str) -> bool:
    """Load one spooled chunk; True when it was the last one and the finaliser should run."""
    chunk = DeliveryChunk.objects.select_related("delivery").filter(pk=chunk_id).first()
    if chunk is None or chunk.status != DeliveryChunk.Status.QUEUED:
        return False
    if chunk.delivery.is_finished:
        return False
    path = _spool_dir(chunk.delivery) / f"{chunk.index}.arrow"
    with pa.memory_map(str(path)) as source:
        table = ipc.open_file(source).read_all()
    checks = _chunk_checked(chunk, table)
    return _ChunkLoader(chunk.delivery, worker=worker).load(chunk, table, checks=checks).finalise


def _chunk_checked(chunk: DeliveryChunk, table: pa.Table) -> dict[str, Any] | None:
    """The conformance checks of a spooled chunk; None (the finaliser reads the file) on failure."""
    try:
        return batch_checked(files=chunk.delivery.files, file_index=chunk.file_index,
                             table=table, first_row=chunk.first_row)  # fmt: skip
    except Exception:
        logger.exception("ingest %s: chunk %s could not be checked", chunk.delivery_id,
                         chunk.index)  # fmt: skip
        return None


def _spool_dir(delivery: Delivery) -> Path:
    root = getattr(settings, "INGEST_SPOOL_DIR", None) or Path(settings.MEDIA_ROOT) / "spool"
    # The creation time keeps apart deliveries of the same id in different databases that
    # share one spool folder (benchmarks, test runs next to a development site).
    return Path(root) / f"delivery-{delivery.pk}-{delivery.created_at:%Y%m%d%H%M%S%f}"


def _spool_write(path: Path, table: pa.Table) -> None:
    # Written aside and renamed, so a reader never maps a half-written chunk. Uncompressed:
    # a spooled chunk lives for seconds, and compressing it cost the planner and every worker
    # more time than the disk saves.
    partial = path.with_suffix(".partial")
    options = ipc.IpcWriteOptions(compression=None)
    sink = pa.OSFile(str(partial), "wb")
    with sink, ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    partial.replace(path)


def _chunk_create(delivery: Delivery, spec: _ChunkSpec) -> DeliveryChunk:
    chunk, _created = DeliveryChunk.objects.get_or_create(
        delivery=delivery,
        index=spec.index,
        defaults={
            "file_index": spec.file_index,
            "first_row": spec.first_row,
            "row_count": spec.table.num_rows,
        },
    )
    return chunk


# Loading one chunk --------------------------------------------------------------------------


@dataclass
class _Outcome:
    rows_done: int = 0
    rejected: bool = False
    finalise: bool = False


@dataclass
class _Normalised:
    """A chunk after ``chunk_normalise``: ready to store, or the errors that reject it."""

    prepared: PreparedChunk | None
    warnings: WarningLog
    errors: list[RowError]
    bad_rows: int


class _ChunkAlreadySettled(Exception):
    """Another run settled this chunk or its delivery first: this run's rows roll back."""


class _ChunkLoader:
    """Normalises chunks of one delivery and writes each in its own transaction."""

    def __init__(self, delivery: Delivery, *, worker: str) -> None:
        text_limits_load()
        self.delivery = delivery
        self.worker = worker
        self.rules: CategoryRules = category_rules_load()
        self.registry = SliceRegistry(delivery)
        self.plans: dict[tuple[int, tuple[str, ...]], ColumnPlan] = {}

    def load(
        self, chunk: DeliveryChunk, raw: pa.Table, *, checks: dict[str, Any] | None = None
    ) -> _Outcome:
        normalised = self.normalise(file_index=chunk.file_index, first_row=chunk.first_row,
                                    raw=raw)  # fmt: skip
        return self.store(chunk, normalised, checks=checks)

    def normalise(self, *, file_index: int, first_row: int, raw: pa.Table) -> _Normalised:
        """Check, normalise and encode one chunk; touches no database."""
        entry = self.delivery.files[file_index]
        warnings = WarningLog()
        table, result = chunk_normalise(
            table=raw,
            plan=self._column_plan(file_index, entry["name"], raw.column_names),
            first_row=first_row,
            warnings=warnings,
        )
        if result.errors:
            return _Normalised(None, warnings, result.errors, len(result.bad_rows))
        try:
            prepared = spend_chunk_prepare(table=table, file_index=file_index, rules=self.rules)
        except SumTooLarge as exc:
            column = self._column_plan(file_index, entry["name"], raw.column_names).sources
            error = RowError(entry["name"], None, column.get(exc.column, exc.column), None,
                             str(exc))  # fmt: skip
            return _Normalised(None, warnings, [error], 0)
        return _Normalised(prepared, warnings, [], 0)

    def store(
        self, chunk: DeliveryChunk, normalised: _Normalised, *, checks: dict[str, Any] | None = None
    ) -> _Outcome:
        """Write a normalised chunk and mark it done (or rejected) in one transaction.

        ``checks`` (``batch_checked`` of its rows) are recorded with it for the finaliser.
        """
        slice_ids = {}
        if normalised.prepared is not None:
            slice_ids = self.registry.ids_for(normalised.prepared.periods)
        return self._settle(chunk, normalised, slice_ids, checks)

    def _column_plan(self, file_index: int, name: str, header: list[str]) -> ColumnPlan:
        # Header warnings were recorded once by the planner; this log is thrown away.
        key = (file_index, tuple(header))
        if key not in self.plans:
            self.plans[key] = column_plan_make(header=header, file=name, warnings=WarningLog())
        return self.plans[key]

    def _settle(
        self,
        chunk: DeliveryChunk,
        normalised: _Normalised,
        slice_ids: dict[SliceKey, int],
        checks: dict[str, Any] | None,
    ) -> _Outcome:
        measures = None
        try:
            with transaction.atomic():
                if normalised.prepared is not None:
                    spend_chunk_write(
                        delivery=self.delivery, index=chunk.index,
                        prepared=normalised.prepared, slice_ids=slice_ids,
                    )  # fmt: skip
                    measures = normalised.prepared.measures.as_json(slice_ids)
                return self._record(
                    chunk, normalised.warnings, normalised.errors, normalised.bad_rows, measures,
                    checks,
                )  # fmt: skip
        except _ChunkAlreadySettled:
            logger.info("ingest %s: chunk %s was settled by another run", chunk.delivery_id,
                        chunk.index)  # fmt: skip
            return _Outcome()

    def _record(
        self,
        chunk: DeliveryChunk,
        warnings: WarningLog,
        errors: list[RowError],
        bad_rows: int,
        measures: dict[str, Any] | None,
        checks: dict[str, Any] | None,
    ) -> _Outcome:
        # The Delivery row lock orders chunk commits against the finaliser and each other.
        delivery = Delivery.objects.select_for_update().get(pk=chunk.delivery_id)
        fresh = DeliveryChunk.objects.select_for_update().get(pk=chunk.pk)
        if delivery.is_finished or fresh.status != DeliveryChunk.Status.QUEUED:
            raise _ChunkAlreadySettled
        fresh.status = DeliveryChunk.Status.REJECTED if errors else DeliveryChunk.Status.DONE
        fresh.rows_loaded = 0 if errors else fresh.row_count
        fresh.rows_rejected = bad_rows
        fresh.worker = self.worker[:200]
        fresh.attempts += 1
        fresh.warnings = warnings.as_list()
        fresh.errors = [error.as_dict() for error in errors]
        fresh.measures = measures
        fresh.checks = checks
        fresh.finished_at = timezone.now()
        fresh.save()

        done = delivery.rows_done + fresh.row_count
        Delivery.objects.filter(pk=delivery.pk).update(
            rows_done=F("rows_done") + fresh.row_count, updated_at=timezone.now()
        )
        settled = delivery.chunks.exclude(status=DeliveryChunk.Status.QUEUED).count()
        planned = delivery.chunks_total is not None and settled == delivery.chunks_total
        return _Outcome(rows_done=done, rejected=bool(errors), finalise=bool(errors) or planned)


# Finishing ----------------------------------------------------------------------------------


def delivery_finalise(*, delivery_id: int) -> Delivery:
    """Settle the delivery in one transaction: loaded (slices current) or rejected (discarded).

    Idempotent: a finished delivery is returned as it is. Called when the last chunk is done,
    when a chunk or file was rejected, or by the in-process ingest at its end.
    """
    # Before the locks: adding up the chunks' checks may have to read a file whose chunks were
    # not all checked.
    conformance = _conformance_of_chunks(delivery_id)
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.is_finished:
            return delivery
        _finalise_lock()
        if conformance is not None and not delivery.conformance:
            delivery.conformance = conformance
        chunks = list(delivery.chunks.order_by("index"))
        warnings, errors = _gather(delivery, chunks)
        delivery.rows_read = sum(chunk.row_count for chunk in chunks)
        delivery.rows_rejected += sum(chunk.rows_rejected for chunk in chunks)
        delivery.rows_loaded = sum(chunk.rows_loaded for chunk in chunks)
        # Under the lock, a delivery of the same files that finished in the meantime (two
        # ingests started at once) is seen: this one becomes its replay.
        original = None if errors else _original_of(delivery)
        if original is not None:
            spend_discard(delivery=delivery)
            _record_duplicate(delivery, original)
        elif errors or (errors := _commitments_apply(delivery)):
            spend_discard(delivery=delivery)
            _record_rejected(delivery, warnings, errors)
        else:
            measures = billing_slices_measure(delivery=delivery, chunks=chunks)
            changes = billing_slices_promote(delivery=delivery, measures=measures)
            _record_loaded(
                delivery, warnings,
                [billing_slice_change_warning(change=change) for change in changes],
                measures.totals,
            )  # fmt: skip
            logger.info("ingest %s: %s daily sums, %s current slices met", delivery.pk,
                        measures.sums, len(changes))  # fmt: skip
    _spool_remove(delivery)
    return delivery


def _conformance_of_chunks(delivery_id: int) -> dict[str, Any] | None:
    """The conformance report added up from the checks the workers recorded with the chunks.

    None when the planner made the report (in-process, or a file problem) or has not recorded
    every chunk yet (a rejected chunk settles the delivery while the files are still read).
    A file with a chunk that was not checked (never loaded, or its check failed) is read again
    by the accumulator, so counts always cover whole files.
    """
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.is_finished or delivery.conformance:
        return None
    chunks = list(delivery.chunks.order_by("index"))
    if delivery.chunks_total is None or len(chunks) != delivery.chunks_total:
        return None
    accumulator = ConformanceAccumulator(files=delivery.files)
    own = _own_commitment_ids(delivery)
    accumulator.commitments_known = lambda ids: commitment_ids_known(ids) | (ids & own)
    unchecked = {chunk.file_index for chunk in chunks if chunk.checks is None}
    for chunk in chunks:
        if chunk.checks is not None:
            accumulator.add_checked(file_index=chunk.file_index, checked=chunk.checks,
                                    first_row=chunk.first_row, rows=chunk.row_count)  # fmt: skip
    for file_index in {chunk.file_index for chunk in chunks} - unchecked:
        accumulator.file_complete(file_index=file_index)
    return accumulator.report()


def _own_commitment_ids(delivery: Delivery) -> set[str]:
    """The ContractCommitmentIds of the delivery's own Contract Commitment files."""
    ids: set[str] = set()
    for entry in delivery.files:
        if entry.get("dataset") != _COMMITMENT_DATASET:
            continue
        path, fmt = Path(entry["path"]), entry["format"]
        with contextlib.suppress(FileUnreadable, DeliveryRejected):
            records = contract_commitment_file_read(
                path=path, fmt=fmt, name=entry["name"], header=file_header_read(path, fmt),
                warnings=WarningLog(),
            )  # fmt: skip
            ids.update(record["contract_commitment_id"] for record in records or [])
    return ids


def _commitments_apply(delivery: Delivery) -> list[dict[str, Any]]:
    """Write the delivery's Contract Commitment files in the finaliser's transaction.

    The files were checked while planning; they are read again here (they are small) so that
    no commitment is stored unless the whole delivery is. Returns the errors, if a file has
    changed or gone since.
    """
    for entry in delivery.files:
        if entry.get("dataset") != _COMMITMENT_DATASET:
            continue
        path, fmt, name = Path(entry["path"]), entry["format"], entry["name"]
        try:
            records = contract_commitment_file_read(
                path=path, fmt=fmt, name=name, header=file_header_read(path, fmt),
                warnings=WarningLog(),
            )  # fmt: skip
        except FileUnreadable as exc:
            return [RowError(name, None, None, None, str(exc)).as_dict()]
        except DeliveryRejected as exc:
            return [error.as_dict() for error in exc.errors]
        contract_commitments_write(records=records or [])
    return []


def _finalise_lock() -> None:
    """Serialise finalisers: duplicate checks and supersession see each other's outcome.

    On PostgreSQL a transaction-level advisory lock, released at commit; SQLite's
    IMMEDIATE transactions already let one writer in at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FINALISE_LOCK])


def _gather(
    delivery: Delivery, chunks: list[DeliveryChunk]
) -> tuple[WarningLog, list[dict[str, Any]]]:
    warnings = WarningLog()
    for entry in [*delivery.warnings, *(w for chunk in chunks for w in chunk.warnings)]:
        warnings.add(
            code=entry["code"], message=entry["message"], file=entry.get("file"),
            column=entry.get("column"), rows=entry.get("rows"), count=entry.get("count", 0),
        )  # fmt: skip
    errors = [*delivery.errors, *(e for chunk in chunks for e in chunk.errors)]
    return warnings, errors


def delivery_fail(*, delivery_id: int, message: str = _GENERIC_FAILURE) -> Delivery:
    """Mark an unfinished delivery failed and remove everything it staged; idempotent."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.is_finished:
            return delivery
        _record_failed(delivery, message)
    _spool_remove(delivery)
    logger.warning("ingest %s: failed, staged rows removed", delivery.pk)
    return delivery


def _record_failed(delivery: Delivery, message: str) -> None:
    # Runs under the Delivery row lock.
    spend_discard(delivery=delivery)
    delivery.status = Delivery.Status.FAILED
    delivery.finished_at = timezone.now()
    delivery.rows_loaded = 0
    delivery.totals = {}
    delivery.error_message = message
    delivery.errors = [RowError("", None, None, None, message).as_dict()]
    delivery.save()


_INTERRUPTED = "The ingest was interrupted before it finished; nothing of it was stored."
_STALE_MESSAGE = (
    "The ingest stopped making progress (its worker was lost); nothing of it was stored. "
    "Load the files again."
)


_ORPHANED = (
    "The process loading this delivery stopped before it finished (it was killed or crashed); "
    "nothing of it was stored. Load the files again."
)


def deliveries_orphaned_fail() -> list[int]:
    """Fail the deliveries whose in-process loader on this machine is gone; return their ids.

    An ingest run in-process (``ingest_focus``, or an upload without workers) that is killed
    leaves its delivery running, with no worker or broker to notice. Its runner names the
    process; when that process no longer exists the delivery is failed and its staged rows
    freed at once. Deliveries of other machines are left to ``deliveries_stale_fail``.
    """
    host = socket.gethostname()
    running = Delivery.objects.filter(
        status__in=[Delivery.Status.QUEUED, Delivery.Status.RUNNING], runner__startswith=f"{host}:"
    ).values_list("pk", "runner")
    failed = []
    for pk, runner in list(running):
        if not _process_alive(int(runner.rsplit(":", 1)[1])):
            delivery = delivery_fail(delivery_id=pk, message=_ORPHANED)
            if delivery.error_message == _ORPHANED:
                failed.append(pk)
    return failed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def deliveries_stale_fail(
    *, idle_seconds: float, planning_seconds: float | None = None
) -> list[int]:
    """Fail the unfinished deliveries that stopped making progress; return their ids.

    A worker killed mid-chunk leaves its delivery running: the message of the chunk it held
    comes back only after the broker's visibility timeout. This fails such a delivery, frees
    its staged rows and says so on the row; loading the files again then loads them whole.

    Progress is the latest change of the delivery row or of any of its chunks (chunks are
    created as the planner reads and settled as workers load them). A planned delivery is
    stale after ``idle_seconds`` without progress, unless another delivery's chunks settled
    meanwhile: workers busy on it will get to this one's queued chunks. A delivery still
    queued or being planned gets ``planning_seconds`` (default ``idle_seconds``), as its
    planner may read for long without a new chunk. Safe to run often and from several
    places: each delivery is checked again under its row lock, which every chunk commit
    also takes, so a delivery that moved in between is left alone.
    """
    planning = idle_seconds if planning_seconds is None else planning_seconds
    now = timezone.now()
    candidates = Delivery.objects.filter(
        status__in=[Delivery.Status.QUEUED, Delivery.Status.RUNNING],
        updated_at__lt=now - timezone.timedelta(seconds=min(idle_seconds, planning)),
    ).values_list("pk", flat=True)
    failed = []
    for pk in list(candidates):
        if _stale_fail(pk, now, idle_seconds, planning):
            failed.append(pk)
    return failed


def _stale_fail(pk: int, now: Any, idle_seconds: float, planning_seconds: float) -> bool:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=pk).first()
        if delivery is None or delivery.is_finished:
            return False
        last_chunk = delivery.chunks.aggregate(latest=Max("updated_at"))["latest"]
        latest = max(delivery.updated_at, last_chunk or delivery.updated_at)
        planned = delivery.status == Delivery.Status.RUNNING and delivery.chunks_total is not None
        limit = now - timezone.timedelta(seconds=idle_seconds if planned else planning_seconds)
        if latest >= limit:
            return False
        if planned and _others_progressing(delivery, limit):
            return False
        _record_failed(delivery, _STALE_MESSAGE)
    _spool_remove(delivery)
    logger.warning("ingest %s: no progress since %s, failed and staged rows removed", pk, latest)
    return True


def _others_progressing(delivery: Delivery, since: Any) -> bool:
    return (
        DeliveryChunk.objects.filter(
            updated_at__gte=since, delivery__status=Delivery.Status.RUNNING
        )
        .exclude(delivery=delivery)
        .exists()
    )


def _spool_remove(delivery: Delivery) -> None:
    shutil.rmtree(_spool_dir(delivery), ignore_errors=True)


def _finish(
    delivery: Delivery,
    warnings: WarningLog,
    status: str,
    more: list[dict[str, Any]] | None = None,
) -> None:
    delivery.status = status
    delivery.finished_at = timezone.now()
    delivery.rows_done = delivery.rows_read
    delivery.warnings = warnings.as_list() + (more or [])
    versions = sorted({e["focus_version"] for e in delivery.files if e.get("focus_version")},
                      key=fc.version_key)  # fmt: skip
    if versions:
        delivery.focus_version = versions[-1]
    delivery.save()


def _record_loaded(
    delivery: Delivery,
    warnings: WarningLog,
    slice_warnings: list[dict[str, Any]],
    totals: dict[str, dict[str, Decimal]],
) -> None:
    versions = {e["focus_version"] for e in delivery.files if e.get("focus_version")}
    if len(versions) > 1:
        listed = ", ".join(sorted(versions, key=fc.version_key))
        warnings.add(
            code="mixed_focus_versions",
            message=f"The files are of different FOCUS versions ({listed}); each was read "
            "by its own version.",
        )
    has_commitments = any(e.get("dataset") == _COMMITMENT_DATASET for e in delivery.files)
    if not delivery.rows_read and not has_commitments:
        warnings.add(
            code="no_rows",
            message="The files hold no data rows; the delivery loaded nothing.",
        )
    delivery.totals = {
        currency: {name: money_str(amount) for name, amount in sums.items()}
        for currency, sums in totals.items()
    }
    delivery.error_message = ""
    delivery.errors = []
    _finish(delivery, warnings, Delivery.Status.LOADED, slice_warnings)


def _record_duplicate(delivery: Delivery, original: Delivery) -> Delivery:
    warnings = WarningLog()
    warnings.add(
        code="duplicate_delivery",
        message=f"These files were already loaded by delivery {original.pk}; nothing was "
        "loaded again.",
    )
    delivery.duplicate_of = original
    delivery.rows_loaded = 0
    delivery.totals = {}
    delivery.files = [
        {**entry, "focus_version": original.focus_version} for entry in delivery.files
    ]
    _finish(delivery, warnings, Delivery.Status.LOADED)
    return delivery


def _record_rejected(
    delivery: Delivery, warnings: WarningLog, errors: list[dict[str, Any]]
) -> None:
    delivery.rows_loaded = 0
    delivery.totals = {}
    delivery.errors = errors
    first = errors[0]["message"] if errors else "The delivery was rejected."
    more = len(errors) - 1
    numbered = any(error.get("row") is not None for error in errors)
    delivery.error_message = (
        f"Rejected, nothing was stored: {first}"
        + (f" ({more} more errors listed.)" if more > 0 else "")
        + (" Row numbers count data rows from 1, not counting the header." if numbered else "")
    )
    _finish(delivery, warnings, Delivery.Status.REJECTED)


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
