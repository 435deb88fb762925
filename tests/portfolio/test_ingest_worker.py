"""A real Celery worker process, fed through the real Redis broker, ingests a delivery."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from portfolio.models import Delivery
from tests.conftest import SAMPLES_DIR, services_required

PROJECT_DIR = Path(__file__).resolve().parents[2]
SAMPLE = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"


def _skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(reason)
    pytest.skip(reason)


def _billed_cost_by_currency(path: Path) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            currency = row["BillingCurrency"]
            totals[currency] = totals.get(currency, Decimal(0)) + Decimal(row["BilledCost"])
    return totals


@pytest.fixture
def celery_worker_process(transactional_db):
    if not settings.CELERY_BROKER_URL:
        _skip_or_fail("REDIS_URL is not set: no broker for a real worker.")
    if connection.vendor != "postgresql":
        _skip_or_fail("A worker process cannot share the in-memory SQLite test database.")

    test_db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{test_db['USER'] or 'postgres'}@{test_db['HOST'] or '127.0.0.1'}:"
        f"{test_db['PORT'] or 5432}/{test_db['NAME']}"
    )
    env.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "finops_exec",
            "worker",
            "--pool=solo",
            "-Q",
            "default,ingest",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.mark.worker
def test_a_real_worker_ingests_a_delivery_sent_through_redis(celery_worker_process):
    from finops_exec.celery import app
    from portfolio.services.ingest import delivery_create, delivery_enqueue

    assert not app.conf.task_always_eager

    delivery = delivery_create(paths=[SAMPLE], source=Delivery.Source.COMMAND)
    delivery_enqueue(delivery=delivery)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.is_finished:
            break
        assert celery_worker_process.poll() is None, celery_worker_process.stdout.read().decode()
        time.sleep(0.5)

    assert delivery.status == Delivery.Status.LOADED, delivery.error_message or delivery.errors
    assert delivery.rows_loaded == 25
    expected = _billed_cost_by_currency(SAMPLE)
    assert {cur: Decimal(t["billed_cost"]) for cur, t in delivery.totals.items()} == expected
