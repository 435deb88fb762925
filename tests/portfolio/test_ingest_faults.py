"""Faults during an ingest: a killed worker, a failing chunk, a broker that is down."""

from __future__ import annotations

import os
import signal
import socket
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolio.focus_generator import focus_file_generate
from portfolio.models import BillingSlice, DailySpend, Delivery
from portfolio.selectors import spend_current, spend_totals
from portfolio.services import spend_load
from portfolio.services.ingest import (
    deliveries_stale_fail,
    delivery_create,
    delivery_enqueue,
    delivery_ingest,
)
from tests.conftest import SAMPLES_DIR
from tests.portfolio.focus_files import csv_totals
from tests.portfolio.test_ingest_parallel import (
    queues_purge,
    rows_duplicated,
    rows_stored,
    services_check,
    wait_finished,
    worker_start,
    worker_stop,
    workers_ready,
)

REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
GCP = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"


@pytest.fixture
def shared_spool(tmp_path, monkeypatch, settings):
    # Workers are other processes: they must see the same spool folder as this one.
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "spool"


def _sum(*parts: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    total: dict[str, dict[str, Decimal]] = {}
    for part in parts:
        for currency, sums in part.items():
            into = total.setdefault(currency, {name: Decimal(0) for name in sums})
            for name, value in sums.items():
                into[name] += value
    return total


@pytest.mark.django_db
def test_a_chunk_failing_unexpectedly_fails_the_delivery_and_leaves_no_row(monkeypatch):
    delivery_ingest(delivery=delivery_create(paths=[GCP]))
    before = spend_totals(rows=spend_current())
    real_write = spend_load.spend_chunk_write
    calls = []

    def write_then_break(**kwargs):
        calls.append(kwargs["prepared"].row_count)
        if len(calls) == 3:
            raise OSError("disk full")
        real_write(**kwargs)

    monkeypatch.setattr("portfolio.services.ingest.spend_chunk_write", write_then_break)
    delivery = delivery_ingest(delivery=delivery_create(paths=[REAL]), chunk_rows=200)

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.error_message == (
        "The ingest failed unexpectedly; the error has been logged. Nothing was stored."
    )
    assert calls == [200, 200, 200]
    assert rows_stored(delivery) == 0
    assert not DailySpend.objects.filter(billing_slice__delivery=delivery).exists()
    assert BillingSlice.objects.filter(delivery=delivery).count() == 0
    assert spend_totals(rows=spend_current()) == before

    monkeypatch.setattr("portfolio.services.ingest.spend_chunk_write", real_write)
    again = delivery_ingest(delivery=delivery_create(paths=[REAL]), chunk_rows=200)

    assert again.status == Delivery.Status.LOADED
    assert spend_totals(rows=spend_current()) == _sum(csv_totals(GCP), csv_totals(REAL))


def _wait_mid_ingest(delivery: Delivery, worker, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        assert not delivery.is_finished, "the ingest finished before the worker was killed"
        assert worker.poll() is None, "the worker died on its own"
        if delivery.rows_expected and 0 < delivery.rows_done < delivery.rows_expected:
            return
        time.sleep(0.02)
    raise AssertionError("the ingest never got under way")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_ingest_leaves_no_partial_rows_and_a_rerun_is_exact(
    tmp_path, shared_spool
):
    services_check()
    delivery_ingest(delivery=delivery_create(paths=[GCP]))
    before = spend_totals(rows=spend_current())
    path = tmp_path / "focus.csv"
    focus_file_generate(rows=40_000, path=path, seed=5, months=2)
    queues_purge()

    worker = worker_start("doomed")
    try:
        workers_ready(1)
        delivery = delivery_create(paths=[path])
        delivery_enqueue(delivery=delivery, chunk_rows=1_000)
        _wait_mid_ingest(delivery, worker)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)
    finally:
        worker_stop(worker)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.RUNNING
    assert rows_stored(delivery) > 0
    staged = DailySpend.objects.filter(billing_slice__delivery=delivery)
    assert staged.exists()
    assert not staged.filter(billing_slice__is_current=True).exists()
    assert not BillingSlice.objects.filter(delivery=delivery, is_current=True).exists()
    assert spend_totals(rows=spend_current()) == before

    assert deliveries_stale_fail(idle_seconds=0) == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert rows_stored(delivery) == 0
    assert not DailySpend.objects.filter(billing_slice__delivery=delivery).exists()
    assert BillingSlice.objects.filter(delivery=delivery).count() == 0

    worker = worker_start("fresh")
    try:
        workers_ready(1)
        rerun = delivery_create(paths=[path])
        delivery_enqueue(delivery=rerun, chunk_rows=5_000)
        rerun = wait_finished(rerun)
    finally:
        worker_stop(worker)

    assert rerun.status == Delivery.Status.LOADED, rerun.errors
    assert rows_stored(rerun) == 40_000
    assert rows_duplicated() == []
    assert spend_totals(rows=spend_current()) == _sum(csv_totals(GCP), csv_totals(path))


def _pool_child(parent: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("the worker started no pool process")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_chunk_is_replaced_and_the_same_ingest_resumes_exactly(
    tmp_path, shared_spool
):
    services_check()
    path = tmp_path / "focus.csv"
    focus_file_generate(rows=30_000, path=path, seed=6, months=2)
    queues_purge()

    worker = worker_start("prefork", pool="prefork")
    try:
        workers_ready(1)
        delivery = delivery_create(paths=[path])
        delivery_enqueue(delivery=delivery, chunk_rows=1_000)
        _wait_mid_ingest(delivery, worker)
        os.kill(_pool_child(worker.pid), signal.SIGKILL)
        delivery = wait_finished(delivery)
    finally:
        worker_stop(worker)

    assert delivery.status == Delivery.Status.LOADED, delivery.errors
    assert delivery.rows_loaded == 30_000
    assert rows_stored(delivery) == 30_000
    assert rows_duplicated() == []
    assert spend_totals(rows=spend_current()) == csv_totals(path)


@pytest.fixture
def closed_broker():
    from finops_exec.celery import app

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False
    app._pool, app.amqp._producer_pool = None, None
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    app._pool, app.amqp._producer_pool = None, None


@pytest.fixture
def upload_dir(tmp_path, settings):
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    return settings.INGEST_UPLOAD_DIR


BROKER_DOWN = (
    "The ingest queue is not reachable, so the upload was not kept; nothing was stored. "
    "Try again in a few minutes, or load the files with the ingest_focus command."
)


@pytest.mark.django_db(transaction=True)
def test_an_upload_while_the_broker_is_down_is_refused_with_503_and_nothing_is_kept(
    practitioner_api, closed_broker, upload_dir
):
    upload = SimpleUploadedFile(GCP.name, GCP.read_bytes())

    response = practitioner_api.post(reverse("ingest-list"), {"file": [upload]}, format="multipart")

    assert response.status_code == 503
    assert response.json() == {"message": BROKER_DOWN, "code": "broker_unavailable", "fields": {}}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_message) == (Delivery.Status.FAILED, BROKER_DOWN)
    assert list(upload_dir.glob("*/*")) == []
    assert rows_stored() == 0


@pytest.mark.django_db(transaction=True)
def test_the_upload_page_says_so_when_the_broker_is_down(
    client, practitioner, closed_broker, upload_dir
):
    client.force_login(practitioner)
    upload = SimpleUploadedFile(GCP.name, GCP.read_bytes())

    response = client.post(reverse("portfolio:ingest-list"), {"file": [upload]})

    assert response.status_code == 503
    assert BROKER_DOWN in response.content.decode()
    assert list(upload_dir.glob("*/*")) == []
    assert Delivery.objects.get().status == Delivery.Status.FAILED


def test_an_error_left_by_ctrl_c_counts_as_the_interrupt():
    from portfolio.services.ingest import _interrupted

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("connection in an unknown state") from None
    except RuntimeError as exc:
        assert exc.__suppress_context__ and _interrupted(exc)
    assert not _interrupted(ValueError("a plain failure"))


@pytest.mark.django_db(transaction=True)
def test_a_failure_is_recorded_even_when_the_first_attempt_to_record_it_fails(monkeypatch):
    from portfolio.services import ingest

    delivery = Delivery.objects.create(status=Delivery.Status.RUNNING)
    real_fail, calls = ingest.delivery_fail, []

    def fail_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("the connection broke")
        return real_fail(**kwargs)

    monkeypatch.setattr(ingest, "delivery_fail", fail_once)

    failed = ingest._fail_on_a_sound_connection(delivery.pk, "stopped")

    assert len(calls) == 2
    assert (failed.status, failed.error_message) == (Delivery.Status.FAILED, "stopped")
