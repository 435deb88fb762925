"""Progress of an ingest: rows done as chunks commit, on the row, the command's bar and the API."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from portfolio.models import Delivery
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import SAMPLES_DIR, services_required

GCP = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"
REAL = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"


@pytest.mark.django_db
def test_progress_is_reported_after_each_chunk():
    calls = []

    delivery_ingest(
        delivery=delivery_create(paths=[GCP]),
        progress=lambda done, expected: calls.append((done, expected)),
        chunk_rows=10,
    )

    assert calls == [(10, 25), (20, 25), (25, 25)]


@pytest.mark.django_db
def test_the_command_draws_a_progress_bar_on_stderr_and_keeps_json_last_on_stdout():
    out, err = StringIO(), StringIO()

    call_command("ingest_focus", str(REAL), "--json", "--chunk-rows", "400", stdout=out, stderr=err)

    delivery = Delivery.objects.get()
    assert err.getvalue() == (
        "\r[############..................]  40% 400/1,000 rows"
        "\r[########################......]  80% 800/1,000 rows"
        "\r[##############################] 100% 1,000/1,000 rows\n"
        f"delivery {delivery.pk}: 1000 rows read of about 1000\n"
    )
    assert out.getvalue().strip().splitlines()[-1].startswith('{"status": "loaded"')


@pytest.mark.django_db
def test_the_api_reports_chunk_progress_of_a_finished_delivery(practitioner_api):
    delivery = delivery_ingest(delivery=delivery_create(paths=[REAL]), chunk_rows=300)

    body = practitioner_api.get(reverse("ingest-detail", kwargs={"pk": delivery.pk})).json()

    assert (body["status"], body["rows_done"], body["rows_expected"]) == ("loaded", 1000, 1000)
    assert list(delivery.chunks.values_list("row_count", "rows_loaded", "status")) == [
        (300, 300, "done"), (300, 300, "done"), (300, 300, "done"), (100, 100, "done"),
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_other_connections_see_rows_done_grow_while_the_ingest_runs():
    if connection.vendor != "postgresql":
        if services_required():
            pytest.fail("This test needs PostgreSQL: SQLite allows no second connection here.")
        pytest.skip("A second connection to the in-memory SQLite test database is not possible.")
    other = connections.create_connection("default")
    seen = []

    def look(done, expected):
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT status, rows_done, rows_expected FROM portfolio_delivery WHERE id = %s",
                [delivery.pk],
            )
            seen.append(cursor.fetchone())

    delivery = delivery_create(paths=[REAL])
    try:
        delivery_ingest(delivery=delivery, progress=look, chunk_rows=250)
    finally:
        other.close()

    assert seen == [
        ("running", 250, 1000), ("running", 500, 1000), ("running", 750, 1000),
        ("running", 1000, 1000),
    ]  # fmt: skip
