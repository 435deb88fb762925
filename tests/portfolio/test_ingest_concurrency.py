"""Ingests that run at the same time, and deliveries whose worker was lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from finops_exec.exact import ExactSum
from portfolio.focus_generator import focus_file_generate
from portfolio.models import BillingSlice, DailySpend, Delivery
from portfolio.models.spend import DeliveryChunk
from portfolio.rowstore import rows_table
from portfolio.selectors import spend_current, spend_totals
from portfolio.services.ingest import (
    _fail_on_a_sound_connection,
    deliveries_stale_fail,
    delivery_chunk_run,
    delivery_create,
    delivery_finalise,
    delivery_plan,
)
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR, services_required
from tests.portfolio.focus_files import csv_totals
from tests.portfolio.test_ingest_parallel import rows_stored, worker_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
STALE_MESSAGE = (
    "The ingest stopped making progress (its worker was lost); nothing of it was stored. "
    "Load the files again."
)


@pytest.fixture
def spool_dir(tmp_path, settings):
    settings.INGEST_SPOOL_DIR = tmp_path / "spool"
    return settings.INGEST_SPOOL_DIR


def _staged(path: Path, chunk_rows: int = 400) -> Delivery:
    """A delivery planned into chunks and fully loaded, waiting for its finaliser."""
    delivery = delivery_create(paths=[path])
    delivery_plan(delivery=delivery, chunk_rows=chunk_rows, dispatch=lambda chunk_id: None)
    for chunk in DeliveryChunk.objects.filter(delivery=delivery).order_by("index"):
        delivery_chunk_run(chunk_id=chunk.pk, worker="w")
    return delivery


def _age(delivery: Delivery, minutes: float) -> None:
    moment = timezone.now() - timezone.timedelta(minutes=minutes)
    Delivery.objects.filter(pk=delivery.pk).update(updated_at=moment)
    DeliveryChunk.objects.filter(delivery=delivery).update(updated_at=moment)


# The finaliser under its lock ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_files_staged_twice_at_once_load_once_and_the_later_is_a_replay(spool_dir):
    first = _staged(REAL)
    second = _staged(REAL)
    assert rows_stored() == 2000

    first = delivery_finalise(delivery_id=first.pk)
    second = delivery_finalise(delivery_id=second.pk)

    assert (first.status, second.status) == ("loaded", "loaded")
    assert (first.duplicate_of_id, second.duplicate_of_id) == (None, first.pk)
    assert second.warnings == [
        {
            "code": "duplicate_delivery",
            "message": f"These files were already loaded by delivery {first.pk}; nothing was "
            "loaded again.",
            "column": None,
            "rows": [],
        }
    ]
    assert (second.rows_loaded, second.totals) == (0, {})
    assert rows_stored() == 1000
    assert rows_stored(first) == 1000
    assert not BillingSlice.objects.filter(delivery=second).exists()
    assert spend_totals(rows=spend_current()) == csv_totals(REAL)


# Lost workers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_planned_delivery_without_progress_is_failed_and_its_rows_freed(spool_dir):
    delivery = delivery_create(paths=[REAL])
    delivery_plan(delivery=delivery, chunk_rows=400, dispatch=lambda chunk_id: None)
    first = DeliveryChunk.objects.get(delivery=delivery, index=0)
    delivery_chunk_run(chunk_id=first.pk, worker="lost")
    _age(delivery, minutes=13)

    assert deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60) == [delivery.pk]

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_message) == ("failed", STALE_MESSAGE)
    assert rows_stored() == 0
    assert not DailySpend.objects.exists()
    assert BillingSlice.objects.count() == 0
    # Running it again finds nothing more to do.
    assert deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60) == []


@pytest.mark.django_db
def test_a_delivery_whose_chunks_moved_recently_is_left_running(spool_dir):
    delivery = delivery_create(paths=[REAL])
    delivery_plan(delivery=delivery, chunk_rows=400, dispatch=lambda chunk_id: None)
    _age(delivery, minutes=30)
    chunk = DeliveryChunk.objects.get(delivery=delivery, index=1)
    delivery_chunk_run(chunk_id=chunk.pk, worker="busy")
    # The chunk commit moved the delivery; a chunk alone moving counts as well.
    Delivery.objects.filter(pk=delivery.pk).update(
        updated_at=timezone.now() - timezone.timedelta(minutes=30)
    )

    assert deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60) == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.RUNNING


@pytest.mark.django_db
def test_a_delivery_waiting_behind_another_that_progresses_is_left_running(spool_dir):
    waiting = delivery_create(paths=[REAL])
    delivery_plan(delivery=waiting, chunk_rows=400, dispatch=lambda chunk_id: None)
    _age(waiting, minutes=20)
    busy = delivery_create(paths=[BUGCASES_DIR / "B08-mtd-export-run2.csv"])
    busy.content_sha256 = "other"
    busy.save()
    delivery_plan(delivery=busy, chunk_rows=1, dispatch=lambda chunk_id: None)
    delivery_chunk_run(chunk_id=DeliveryChunk.objects.get(delivery=busy, index=0).pk, worker="busy")

    assert deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60) == []

    _age(busy, minutes=20)
    assert sorted(deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60)) == [
        waiting.pk,
        busy.pk,
    ]


@pytest.mark.django_db
def test_a_delivery_still_being_planned_gets_the_planners_time(spool_dir):
    delivery = delivery_create(paths=[REAL])
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.RUNNING)
    _age(delivery, minutes=30)

    assert deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60) == []

    _age(delivery, minutes=66)
    assert deliveries_stale_fail(idle_seconds=12 * 60, planning_seconds=65 * 60) == [delivery.pk]


# Two real processes -------------------------------------------------------------------------


def _postgres_check() -> None:
    if connection.vendor != "postgresql":
        reason = "Two processes cannot share the in-memory SQLite test database."
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)


def _ingest_in_parallel(*paths: Path, chunk_rows: int) -> list[int]:
    """Run ``manage.py ingest_focus`` for each path at once; return their exit statuses."""
    env = worker_env()
    commands = [
        subprocess.Popen(
            [sys.executable, "manage.py", "ingest_focus", str(path), f"--chunk-rows={chunk_rows}"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for path in paths
    ]
    statuses = []
    for command in commands:
        _out, err = command.communicate(timeout=300)
        assert command.returncode == 0, err.decode()
        statuses.append(command.returncode)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_the_same_file_ingested_by_two_processes_at_once_is_stored_once(tmp_path):
    _postgres_check()
    path = tmp_path / "focus.csv"
    focus_file_generate(rows=20_000, path=path, seed=8, months=2)

    assert _ingest_in_parallel(path, path, chunk_rows=2_000) == [0, 0]

    deliveries = list(Delivery.objects.order_by("finished_at"))
    assert [d.status for d in deliveries] == ["loaded", "loaded"]
    assert [d.duplicate_of_id for d in deliveries] == [None, deliveries[0].pk]
    assert deliveries[1].rows_loaded == 0
    assert rows_stored() == 20_000
    assert rows_stored(deliveries[0]) == 20_000
    assert rows_table().num_rows == 20_000
    assert spend_totals(rows=spend_current()) == csv_totals(path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_two_month_to_date_exports_ingested_at_once_keep_the_fuller_one(attempt):
    _postgres_check()
    run1 = BUGCASES_DIR / "B08-mtd-export-run1.csv"
    run2 = BUGCASES_DIR / "B08-mtd-export-run2.csv"

    assert _ingest_in_parallel(run1, run2, chunk_rows=1) == [0, 0]

    assert list(Delivery.objects.values_list("status", flat=True)) == ["loaded", "loaded"]
    current = spend_current()
    assert current.aggregate(n=Sum("row_count"))["n"] == 3
    assert rows_table().num_rows == 3
    assert current.aggregate(total=ExactSum("billed_cost"))["total"] == Decimal("31.00")
    assert rows_stored() == 5
    fuller = Delivery.objects.get(files__0__name="B08-mtd-export-run2.csv")
    assert list(
        BillingSlice.objects.filter(is_current=True).values_list("delivery", flat=True)
    ) == [fuller.pk]


def _ingest_focus_under_way(path: Path) -> tuple[subprocess.Popen, Delivery]:
    """``manage.py ingest_focus`` started on ``path``, once it has stored some rows."""
    command = subprocess.Popen(
        [sys.executable, "manage.py", "ingest_focus", str(path), "--chunk-rows=1000"],
        cwd=PROJECT_DIR, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "the ingest never got under way"
        assert command.poll() is None, "the ingest ended before it could be stopped"
        delivery = Delivery.objects.order_by("-id").first()
        if delivery is not None and delivery.rows_done > 0:
            return command, delivery
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_on_ingest_focus_fails_the_delivery_and_leaves_nothing_staged(tmp_path):
    _postgres_check()
    path = tmp_path / "focus.csv"
    focus_file_generate(rows=60_000, path=path, seed=9, months=2)
    command, delivery = _ingest_focus_under_way(path)

    command.send_signal(signal.SIGINT)
    _out, err = command.communicate(timeout=60)

    delivery.refresh_from_db()
    assert command.returncode != 0, err.decode()
    assert delivery.status == Delivery.Status.FAILED, err.decode()
    assert (delivery.status, delivery.error_message) == (
        Delivery.Status.FAILED,
        "The ingest was interrupted before it finished; nothing of it was stored.",
    )
    assert rows_stored(delivery) == 0
    assert not DailySpend.objects.filter(billing_slice__delivery=delivery).exists()
    assert not BillingSlice.objects.filter(delivery=delivery).exists()


@pytest.mark.django_db(transaction=True)
def test_a_killed_ingest_focus_is_failed_by_the_next_run_which_loads_exactly(tmp_path):
    _postgres_check()
    path = tmp_path / "focus.csv"
    focus_file_generate(rows=60_000, path=path, seed=10, months=2)
    command, killed = _ingest_focus_under_way(path)
    command.kill()
    command.communicate(timeout=60)
    killed.refresh_from_db()
    assert killed.status == Delivery.Status.RUNNING
    assert rows_stored(killed) > 0
    assert not BillingSlice.objects.filter(delivery=killed, is_current=True).exists()

    rerun = subprocess.run(
        [sys.executable, "manage.py", "ingest_focus", str(path)],
        cwd=PROJECT_DIR, env=worker_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert rerun.returncode == 0, rerun.stderr
    assert f"delivery {killed.pk}: its earlier run was killed; marked failed" in rerun.stderr
    killed.refresh_from_db()
    assert killed.status == Delivery.Status.FAILED
    assert killed.error_message.startswith("The process loading this delivery stopped")
    assert rows_stored(killed) == 0
    assert spend_totals(rows=spend_current()) == csv_totals(path)


@pytest.mark.django_db(transaction=True)
def test_an_ingest_interrupted_during_a_commit_is_still_recorded_as_failed():
    _postgres_check()
    delivery = delivery_create(paths=[SAMPLES_DIR / "synthetic-gcp-focus1.3.csv"])
    # What Ctrl-C in the middle of a COMMIT leaves: Django inside an atomic block that never
    # ended, and the connection still busy with a command.
    stuck = transaction.atomic()
    stuck.__enter__()
    connection.connection.pgconn.send_query(b"SELECT pg_sleep(0.2)")

    recorded = _fail_on_a_sound_connection(delivery.pk, "interrupted", owns_connection=True)

    assert (recorded.status, recorded.error_message) == (Delivery.Status.FAILED, "interrupted")
    assert not connection.in_atomic_block
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.FAILED
