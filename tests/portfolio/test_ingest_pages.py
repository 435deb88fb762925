"""The ingest pages: a list with an upload form for practitioners, and one delivery's page."""

from __future__ import annotations

import csv
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolio.models import Delivery
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import csv_rows

pytestmark = pytest.mark.django_db

GCP = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"
B14 = BUGCASES_DIR / "B14-mixed-billing-currency.csv"


@pytest.fixture
def upload_dir(tmp_path, settings):
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    return settings.INGEST_UPLOAD_DIR


@pytest.fixture
def practitioner_client(client, practitioner):
    client.force_login(practitioner)
    return client


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("portfolio:ingest-list"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/ingests/"


def test_an_executive_may_not_open_the_ingest_pages(client, executive):
    client.force_login(executive)

    assert client.get(reverse("portfolio:ingest-list")).status_code == 403


def test_the_list_shows_the_upload_form_and_deliveries_newest_first(practitioner_client):
    first = delivery_ingest(delivery=delivery_create(paths=[GCP]))
    second = delivery_ingest(delivery=delivery_create(paths=[B14]))

    body = practitioner_client.get(reverse("portfolio:ingest-list")).content.decode()

    assert '<input id="ingest-files" type="file" name="file" multiple required>' in body
    assert body.index(f'href="/ingests/{second.pk}/"') < body.index(f'href="/ingests/{first.pk}/"')
    assert "synthetic-gcp-focus1.2-credits.csv" in body
    assert '<td class="num">25</td>' in body


def test_an_upload_through_the_page_loads_and_opens_the_delivery(
    practitioner_client, upload_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = practitioner_client.post(
            reverse("portfolio:ingest-list"),
            {"file": [SimpleUploadedFile(B14.name, B14.read_bytes())]},
        )

    delivery = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ingests/{delivery.pk}/"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.LOADED
    body = practitioner_client.get(response["Location"]).content.decode()
    assert 'data-finished="true"' in body
    assert '<progress max="100" value="100" aria-label="Ingest progress"></progress>' in body
    assert (
        '<tr><td>EUR</td><td class="num">150.00</td><td class="num">150.00</td>'
        '<td class="num">150.00</td><td class="num">150.00</td></tr>'
    ) in body
    assert (
        '<tr><td>USD</td><td class="num">80.00</td><td class="num">80.00</td>'
        '<td class="num">80.00</td><td class="num">80.00</td></tr>'
    ) in body


def test_a_running_delivery_shows_its_progress_and_polls_the_api(practitioner_client):
    delivery = delivery_create(paths=[GCP])
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.RUNNING, rows_expected=1000, rows_done=520
    )

    body = practitioner_client.get(reverse("portfolio:ingest-detail", args=[delivery.pk])).content
    body = body.decode()

    assert f'data-api-url="/api/v1/ingests/{delivery.pk}/"' in body
    assert 'data-finished="false"' in body
    assert '<progress max="100" value="52" aria-label="Ingest progress"></progress>' in body
    assert '<span id="ingest-progress-text">52% 520 of 1,000 rows</span>' in body
    assert '<script src="/static/js/ingest_progress.js" defer></script>' in body
    assert "Totals appear when the whole delivery is loaded." in body


def test_a_rejected_delivery_shows_its_errors(practitioner_client, tmp_path):
    rows = csv_rows(GCP)
    rows[1]["BillingCurrency"] = "US Dollar"
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    delivery = delivery_ingest(delivery=delivery_create(paths=[path]))

    body = practitioner_client.get(reverse("portfolio:ingest-detail", args=[delivery.pk]))
    body = body.content.decode()

    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.errors
    for error in delivery.errors:
        assert f"<li>{error['message']}</li>".replace('"', "&quot;") in body
    assert "Rejected, nothing was stored:" in body


def test_the_conformance_report_is_shown_when_present(practitioner_client):
    delivery = delivery_ingest(delivery=delivery_create(paths=[GCP]))
    Delivery.objects.filter(pk=delivery.pk).update(
        conformance={
            "focus_version": "1.2",
            "columns_missing": ["InvoiceId"],
            "columns_unrecognised": ["Team"],
            "findings": [
                {"code": "negative_cost", "severity": "warning", "column": "BilledCost",
                 "message": "Some costs are negative.", "count": 3, "rows": [2, 5, 9]},
            ],
        }
    )  # fmt: skip

    body = practitioner_client.get(reverse("portfolio:ingest-detail", args=[delivery.pk]))
    body = body.content.decode()

    assert "<tr><th>Columns missing</th><td>InvoiceId</td></tr>" in body
    assert "<tr><th>Columns not recognised</th><td>Team</td></tr>" in body
    assert (
        "<tr><td>warning</td><td>negative_cost</td><td>BilledCost</td>"
        '<td>Some costs are negative.</td><td class="num">3</td><td>2, 5, 9</td></tr>'
    ) in body


def test_an_oversized_upload_is_refused_with_413_on_the_page(
    practitioner_client, upload_dir, settings
):
    settings.INGEST_MAX_UPLOAD_BYTES = 100

    response = practitioner_client.post(
        reverse("portfolio:ingest-list"), {"file": [SimpleUploadedFile(GCP.name, GCP.read_bytes())]}
    )

    assert response.status_code == 413
    assert "over the limit of 100 bytes" in response.content.decode()
    assert Delivery.objects.count() == 0


def test_a_file_that_is_not_focus_data_is_refused_with_415_and_not_kept(
    practitioner_client, practitioner_api, upload_dir
):
    def image():
        return SimpleUploadedFile("chart.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))

    response = practitioner_api.post(
        reverse("ingest-list"), {"file": [image()]}, format="multipart"
    )
    page = practitioner_client.post(reverse("portfolio:ingest-list"), {"file": [image()]})

    message = (
        "chart.png is not a CSV, gzip-compressed CSV, Parquet or zip file; send FOCUS "
        "cost-and-usage exports in one of those formats."
    )
    assert response.status_code == 415
    assert response.json() == {"message": message, "code": "unsupported_media_type", "fields": {}}
    assert page.status_code == 415
    assert message in page.content.decode()
    assert Delivery.objects.count() == 0
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


def test_a_superseded_delivery_shows_which_delivery_replaced_its_slice(practitioner_client):
    run1, run2 = (BUGCASES_DIR / f"B08-mtd-export-run{n}.csv" for n in (1, 2))
    first = delivery_ingest(delivery=delivery_create(paths=[run1]))
    second = delivery_ingest(delivery=delivery_create(paths=[run2]))

    earlier = practitioner_client.get(f"/ingests/{first.pk}/").content.decode()
    later = practitioner_client.get(f"/ingests/{second.pk}/").content.decode()

    assert (
        f'no, superseded by <a href="/ingests/{second.pk}/">delivery {second.pk}</a>'
    ) in earlier
    assert '<td class="num">3</td><td>yes</td>' in later
    assert 'id="ingest-not-counted"' not in later
    assert (
        "What this delivery brought. 1 of its 1 billing slice does not count in totals"
    ) in earlier


def test_the_list_fails_a_delivery_whose_in_process_loader_is_gone(practitioner_client):
    import os
    import socket
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    orphan = Delivery.objects.create(status=Delivery.Status.RUNNING, runner=f"{host}:{gone.pid}")
    alive = Delivery.objects.create(status=Delivery.Status.RUNNING, runner=f"{host}:{os.getpid()}")
    elsewhere = Delivery.objects.create(status=Delivery.Status.RUNNING, runner="other-host:1")

    response = practitioner_client.get(reverse("portfolio:ingest-list"))

    assert response.status_code == 200
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {
        orphan.pk: Delivery.Status.FAILED,
        alive.pk: Delivery.Status.RUNNING,
        elsewhere.pk: Delivery.Status.RUNNING,
    }
    orphan.refresh_from_db()
    assert orphan.error_message == (
        "The process loading this delivery stopped before it finished (it was killed or "
        "crashed); nothing of it was stored. Load the files again."
    )


def test_the_page_of_a_loaded_delivery_with_findings_does_not_say_no_errors(practitioner_client):
    real = SAMPLES_DIR / "finopsfoundation-multicloud-focus1.0-real.csv"
    delivery = delivery_ingest(delivery=delivery_create(paths=[real]))

    html = practitioner_client.get(reverse("portfolio:ingest-detail", args=[delivery.pk]))
    text = " ".join(html.content.decode().split())

    assert delivery.status == Delivery.Status.LOADED
    assert (
        "No errors stopped the load; what does not follow FOCUS is listed under FOCUS "
        "conformance." in text
    )


def test_the_list_shows_a_replay_as_already_loaded_not_as_stalled(practitioner_client):
    sample = SAMPLES_DIR / "synthetic-azure-focus1.2.csv"
    first = delivery_ingest(delivery=delivery_create(paths=[sample]))
    replay = delivery_ingest(delivery=delivery_create(paths=[sample]))

    html = practitioner_client.get(reverse("portfolio:ingest-list")).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())

    assert replay.duplicate_of_id == first.pk
    assert f"#{replay.pk} " in text
    assert f"Loaded (already loaded by #{first.pk}) none again 0" in text
