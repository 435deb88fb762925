"""Chunked ingest: chunks load apart, in any order, and the delivery becomes current at once."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from portfolio.focus_generator import focus_file_generate
from portfolio.models import BillingSlice, Commitment, DailySpend, Delivery, SpendBlock
from portfolio.models.spend import DeliveryChunk
from portfolio.rowstore import rows_table
from portfolio.selectors import spend_current, spend_totals
from portfolio.services.ingest import (
    delivery_chunk_run,
    delivery_create,
    delivery_enqueue,
    delivery_finalise,
    delivery_ingest,
    delivery_plan,
)
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR, services_required
from tests.portfolio.focus_files import csv_rows, csv_totals, csv_write

PROJECT_DIR = Path(__file__).resolve().parents[2]
REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool_dir(tmp_path, settings):
    settings.INGEST_SPOOL_DIR = tmp_path / "spool"
    return settings.INGEST_SPOOL_DIR


def rows_stored(delivery: Delivery | None = None) -> int:
    """How many rows are stored, of ``delivery`` or of all, current or not."""
    blocks = SpendBlock.objects.all() if delivery is None else delivery.blocks.all()
    return blocks.aggregate(n=Sum("row_count"))["n"] or 0


def rows_duplicated() -> list[tuple[int, int, int]]:
    """(delivery, source file, source row) stored more than once."""
    seen: set[tuple[int, int, int]] = set()
    twice = []
    for delivery_id in (
        SpendBlock.objects.order_by().values_list("delivery_id", flat=True).distinct()
    ):
        rows = rows_table(delivery_id=delivery_id, columns=["source_file", "source_row"])
        for file, row in zip(*(rows.column(n).to_pylist() for n in rows.column_names), strict=True):
            key = (delivery_id, file, row)
            if key in seen:
                twice.append(key)
            seen.add(key)
    return twice


def _totals_as_strings(totals):
    return {cur: {name: str(value) for name, value in sums.items()} for cur, sums in totals.items()}


def test_a_delivery_in_many_chunks_loads_exactly_the_files_totals():
    delivery = delivery_ingest(delivery=delivery_create(paths=[REAL]), chunk_rows=150)

    assert delivery.status == Delivery.Status.LOADED
    assert (delivery.rows_read, delivery.rows_loaded, delivery.rows_done) == (1000, 1000, 1000)
    assert delivery.chunks_total == 7
    assert list(delivery.chunks.values_list("first_row", "row_count", "status")) == [
        (1, 150, "done"), (151, 150, "done"), (301, 150, "done"), (451, 150, "done"),
        (601, 150, "done"), (751, 150, "done"), (901, 100, "done"),
    ]  # fmt: skip
    assert spend_totals(rows=spend_current()) == csv_totals(REAL)
    assert rows_stored(delivery) == 1000
    rows = rows_table(delivery_id=delivery.pk, columns=["source_row"])
    assert rows.column("source_row").to_pylist() == list(range(1, 1001))


def test_chunks_loaded_in_reverse_order_count_nowhere_until_the_finaliser_runs(spool_dir):
    delivery = delivery_create(paths=[REAL])

    queued = []
    assert delivery_plan(delivery=delivery, chunk_rows=400, dispatch=queued.append) is False
    chunks = list(DeliveryChunk.objects.filter(delivery=delivery).order_by("-index"))
    assert [chunk.row_count for chunk in chunks] == [200, 400, 400]
    assert queued == [chunk.pk for chunk in reversed(chunks)]
    (folder,) = spool_dir.iterdir()
    assert folder.name.startswith(f"delivery-{delivery.pk}-")
    assert sorted(p.name for p in folder.iterdir()) == [
        "0.arrow", "1.arrow", "2.arrow",
    ]  # fmt: skip

    assert delivery_chunk_run(chunk_id=chunks[0].pk, worker="w1") is False
    assert delivery_chunk_run(chunk_id=chunks[1].pk, worker="w2") is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.rows_done) == (Delivery.Status.RUNNING, 600)
    assert rows_stored(delivery) == 600
    assert rows_table(delivery_id=delivery.pk).num_rows == 600
    assert spend_totals(rows=spend_current()) == {}

    assert delivery_chunk_run(chunk_id=chunks[2].pk, worker="w1") is True
    delivery = delivery_finalise(delivery_id=delivery.pk)

    assert delivery.status == Delivery.Status.LOADED
    assert spend_totals(rows=spend_current()) == csv_totals(REAL)
    assert delivery.totals == _totals_as_strings(csv_totals(REAL))
    assert sorted(delivery.chunks.values_list("worker", flat=True)) == ["w1", "w1", "w2"]
    assert not folder.exists()


def test_a_chunk_delivered_twice_is_loaded_once(spool_dir):
    delivery = delivery_create(paths=[REAL])
    delivery_plan(delivery=delivery, chunk_rows=600, dispatch=lambda chunk_id: None)
    first, second = DeliveryChunk.objects.filter(delivery=delivery).order_by("index")

    delivery_chunk_run(chunk_id=first.pk, worker="w1")
    assert delivery_chunk_run(chunk_id=first.pk, worker="w2") is False
    assert delivery_chunk_run(chunk_id=second.pk, worker="w1") is True
    delivery = delivery_finalise(delivery_id=delivery.pk)
    again = delivery_finalise(delivery_id=delivery.pk)

    assert again.status == Delivery.Status.LOADED
    assert rows_stored(delivery) == 1000
    assert rows_duplicated() == []
    assert spend_totals(rows=spend_current()) == csv_totals(REAL)


def test_a_bad_row_in_a_late_chunk_rejects_the_delivery_and_discards_the_early_chunks(tmp_path):
    rows = csv_rows(REAL)
    rows[949]["BilledCost"] = "twelve"
    path = csv_write(tmp_path / "bad.csv", rows)

    delivery = delivery_ingest(delivery=delivery_create(paths=[path]), chunk_rows=300)

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.errors[0]["message"] == (
        'bad.csv data row 950, column BilledCost: "twelve" is not a number.'
    )
    assert list(delivery.chunks.values_list("status", flat=True)) == [
        "done", "done", "done", "rejected",
    ]  # fmt: skip
    assert rows_stored() == 0
    assert BillingSlice.objects.count() == 0
    assert DailySpend.objects.count() == 0


def test_a_newer_chunked_delivery_supersedes_the_older_one_whole():
    older = delivery_ingest(delivery=delivery_create(paths=[REAL]), chunk_rows=500)
    slices = set(BillingSlice.objects.filter(delivery=older).values_list("pk", flat=True))

    newer = delivery_create(paths=[REAL])
    newer.content_sha256 = "restated"
    newer.save()
    newer = delivery_ingest(delivery=newer, chunk_rows=300)

    assert newer.status == Delivery.Status.LOADED
    assert not BillingSlice.objects.filter(pk__in=slices, is_current=True).exists()
    assert spend_totals(rows=spend_current()) == csv_totals(REAL)


# Real workers ------------------------------------------------------------------------------


def _skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(reason)
    pytest.skip(reason)


def worker_env() -> dict[str, str]:
    test_db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{test_db['USER'] or 'postgres'}@{test_db['HOST'] or '127.0.0.1'}:"
        f"{test_db['PORT'] or 5432}/{test_db['NAME']}"
    )
    env.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
    return env


def worker_start(name: str, *, pool: str = "solo") -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "finops_exec", "worker", f"--pool={pool}",
            "--concurrency=1", "-Q", "default,ingest", "--without-heartbeat", "--without-gossip",
            "--without-mingle", "-l", "warning", "-n", f"{name}-{os.getpid()}@%h",
        ],
        cwd=PROJECT_DIR, env=worker_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def worker_stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def workers_ready(count: int, timeout: float = 60) -> None:
    from finops_exec.celery import app

    deadline = time.monotonic() + timeout
    while len(app.control.ping(timeout=1.0)) < count:
        assert time.monotonic() < deadline, f"{count} workers did not answer"


def queues_purge() -> None:
    from finops_exec.celery import app

    app.control.purge()


def services_check() -> None:
    if not settings.CELERY_BROKER_URL:
        _skip_or_fail("REDIS_URL is not set: no broker for real workers.")
    if connection.vendor != "postgresql":
        _skip_or_fail("Worker processes cannot share the in-memory SQLite test database.")


def wait_finished(delivery: Delivery, timeout: float = 180) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.is_finished:
            return delivery
        time.sleep(0.3)
    raise AssertionError(f"ingest {delivery.pk} did not finish: {delivery.status}")


@pytest.fixture
def shared_spool(tmp_path, monkeypatch):
    # Workers are other processes: they must see the same spool folder as this one.
    spool = tmp_path / "spool"
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(tmp_path))
    monkeypatch.setattr(settings, "MEDIA_ROOT", tmp_path)
    return spool


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_share_the_chunks_of_one_delivery_and_the_totals_are_exact(
    tmp_path, shared_spool
):
    services_check()
    path = tmp_path / "focus.csv"
    focus_file_generate(rows=12_000, path=path, seed=3, months=3)
    queues_purge()
    workers = [worker_start("one"), worker_start("two")]
    try:
        workers_ready(2)
        delivery = delivery_create(paths=[path])
        delivery_enqueue(delivery=delivery, chunk_rows=500)
        delivery = wait_finished(delivery)
    finally:
        for worker in workers:
            worker_stop(worker)

    assert delivery.status == Delivery.Status.LOADED, delivery.errors
    assert delivery.chunks_total == 24
    hosts = {host.split("@")[0] for host in delivery.chunks.values_list("worker", flat=True)}
    assert hosts == {f"one-{os.getpid()}", f"two-{os.getpid()}"}
    assert rows_stored(delivery) == 12_000
    assert rows_duplicated() == []
    assert spend_totals(rows=spend_current()) == csv_totals(path)


def test_a_file_cut_short_stops_the_planner_and_rejects_the_delivery(spool_dir, tmp_path):
    whole = gzip.compress(REAL.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    # Independently: what zlib can inflate from the half, counted in whole lines.
    last_complete = (
        zlib.decompressobj(wbits=31).decompress(whole[: len(whole) // 2]).count(b"\n") - 1
    )
    assert 100 < last_complete < 1000
    delivery = delivery_create(paths=[path])

    assert delivery_plan(delivery=delivery, chunk_rows=100, dispatch=lambda chunk_id: None)
    delivery = delivery_finalise(delivery_id=delivery.pk)

    assert delivery.status == Delivery.Status.REJECTED
    assert [error["message"] for error in delivery.errors] == [
        "cut.csv.gz: the file is cut short: its compressed data ends early (Truncated "
        f"compressed stream); the last complete row is data row {last_complete}. Send the "
        "complete file again."
    ]
    assert rows_stored() == 0
    assert not BillingSlice.objects.exists()


def _loaded_by_workers(paths: list[Path], chunk_rows: int, unchecked: int | None = None) -> dict:
    """Plan and load ``paths`` chunk by chunk as workers do; the delivery's conformance report.

    ``unchecked``: the index of a chunk whose checks are dropped before the finaliser runs.
    """
    delivery = delivery_create(paths=paths)
    delivery_plan(delivery=delivery, chunk_rows=chunk_rows, dispatch=lambda chunk_id: None)
    assert Delivery.objects.get(pk=delivery.pk).conformance == {}
    for chunk in DeliveryChunk.objects.filter(delivery=delivery).order_by("index"):
        delivery_chunk_run(chunk_id=chunk.pk, worker="w1")
    if unchecked is not None:
        DeliveryChunk.objects.filter(delivery=delivery, index=unchecked).update(checks=None)
    delivery = delivery_finalise(delivery_id=delivery.pk)
    assert delivery.status == Delivery.Status.LOADED
    return delivery.conformance


def _loaded_in_process(paths: list[Path]) -> dict:
    Delivery.objects.all().delete()
    Commitment.objects.all().delete()
    delivery = delivery_ingest(delivery=delivery_create(paths=paths))
    assert delivery.status == Delivery.Status.LOADED
    return delivery.conformance


GCP_13 = SAMPLES_DIR / "synthetic-gcp-focus1.3.csv"
GCP_13_COMMITMENTS = SAMPLES_DIR / "synthetic-gcp-focus1.3-contractcommitment.csv"


@pytest.mark.parametrize(
    ("paths", "chunk_rows", "unchecked"),
    [
        ([REAL], 97, None),
        ([REAL], 97, 4),
        ([GCP_13, GCP_13_COMMITMENTS], 7, None),
        ([BUGCASES_DIR / name for name in ("B01-double-bom.csv", "B04-datetime-variants.csv",
                                           "B13-missing-and-extra-columns.csv")], 2, None),
    ],
    ids=["real", "real-one-chunk-unchecked", "commitments", "bug-cases"],
)  # fmt: skip
def test_the_workers_checks_add_up_to_the_report_an_in_process_ingest_makes(
    spool_dir, paths, chunk_rows, unchecked
):
    by_workers = _loaded_by_workers(paths, chunk_rows, unchecked)

    in_process = _loaded_in_process(paths)

    assert by_workers == in_process
    assert [entry["name"] for entry in by_workers["files"]] == [path.name for path in paths]


def _with_nul_commitment_ids(tmp_path: Path) -> Path:
    rows = csv_rows(GCP_13)
    for row in rows[::4]:
        row["ContractApplied"] = '{"Elements":[{"ContractCommitmentId":"c\\u0000id"}]}'
    return csv_write(tmp_path / "nul-ids.csv", rows)


def test_a_nul_in_a_commitment_id_is_reported_the_same_by_workers_and_in_process(
    spool_dir, tmp_path
):
    path = _with_nul_commitment_ids(tmp_path)

    by_workers = _loaded_by_workers([path], 7)
    in_process = _loaded_in_process([path])

    assert by_workers == in_process
    unknown = [f for f in by_workers["findings"] if f["code"] == "contract_commitment_unknown"]
    assert [f["count"] for f in unknown if "c\\x00id" in f["message"]] == [25]
    assert "unreadable_file" not in {f["code"] for f in by_workers["findings"]}


def test_a_chunk_rejected_while_the_planner_reads_leaves_the_planner_to_make_the_report(
    spool_dir, tmp_path
):
    rows = csv_rows(REAL)
    rows[3]["BilledCost"] = "12,50"
    path = csv_write(tmp_path / "bad.csv", rows)
    delivery = delivery_create(paths=[path])

    def run_at_once(chunk_id: int) -> None:
        if delivery_chunk_run(chunk_id=chunk_id, worker="w1"):
            delivery_finalise(delivery_id=delivery.pk)

    delivery_plan(delivery=delivery, chunk_rows=100, dispatch=run_at_once)
    by_workers = Delivery.objects.get(pk=delivery.pk)
    in_process = delivery_ingest(delivery=delivery_create(paths=[path]))

    assert by_workers.status == in_process.status == Delivery.Status.REJECTED
    assert by_workers.conformance == in_process.conformance
    assert "not_a_number" in {f["code"] for f in by_workers.conformance["findings"]}
