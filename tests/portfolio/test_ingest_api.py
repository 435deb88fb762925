"""``/api/v1/ingests/``: practitioners upload deliveries and follow them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolio.models import Delivery
from tests.conftest import BUGCASES_DIR

B14 = BUGCASES_DIR / "B14-mixed-billing-currency.csv"
B20 = BUGCASES_DIR / "B20-gzip-export.csv.gz"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.INGEST_UPLOAD_DIR = tmp_path / "ingest"
    return settings.INGEST_UPLOAD_DIR


def _upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


def test_a_practitioner_uploads_files_and_gets_202_then_the_loaded_status(
    practitioner_api, django_capture_on_commit_callbacks, upload_dir
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = practitioner_api.post(
            reverse("ingest-list"), {"file": [_upload(B14), _upload(B20)]}, format="multipart"
        )

    delivery = Delivery.objects.get()
    assert response.status_code == 202
    assert response.json() == {
        "id": delivery.pk,
        "status": "queued",
        "url": f"http://testserver/api/v1/ingests/{delivery.pk}/",
    }
    assert len(callbacks) == 1
    saved = sorted(p.name for p in upload_dir.glob("*/*"))
    assert saved == ["B14-mixed-billing-currency.csv", "B20-gzip-export.csv.gz"]

    detail = practitioner_api.get(reverse("ingest-detail", kwargs={"pk": delivery.pk}))

    assert detail.status_code == 200
    body = detail.json()
    assert {key: body[key] for key in ("status", "source", "focus_version", "duplicate_of")} == {
        "status": "loaded",
        "source": "upload",
        "focus_version": "1.0",
        "duplicate_of": None,
    }
    assert (body["rows_expected"], body["rows_done"], body["rows_read"]) == (None, 6, 6)
    assert (body["rows_loaded"], body["rows_rejected"]) == (6, 0)
    assert body["files"] == [
        {"name": "B14-mixed-billing-currency.csv", "size": B14.stat().st_size, "format": "csv"},
        {"name": "B20-gzip-export.csv.gz", "size": 425, "format": "csv.gz"},
    ]
    assert body["totals"] == {
        "EUR": {
            "billed_cost": "150.00",
            "effective_cost": "150.00",
            "list_cost": "150.00",
            "contracted_cost": "150.00",
        },
        "USD": {
            "billed_cost": "84.50",
            "effective_cost": "84.50",
            "list_cost": "84.50",
            "contracted_cost": "84.50",
        },
    }
    assert (body["warnings"], body["errors"], body["error_message"]) == ([], [], "")
    assert body["url"] == f"http://testserver/api/v1/ingests/{delivery.pk}/"


def test_the_list_shows_deliveries_newest_first(
    practitioner_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        practitioner_api.post(reverse("ingest-list"), {"file": [_upload(B20)]}, format="multipart")

    response = practitioner_api.get(reverse("ingest-list"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [(item["status"], item["rows_loaded"]) for item in body["results"]] == [("loaded", 3)]


def test_an_executive_may_not_upload(executive_api):
    response = executive_api.post(
        reverse("ingest-list"), {"file": [_upload(B20)]}, format="multipart"
    )

    assert response.status_code == 403
    assert response.json() == {
        "message": "Only FinOps practitioners may do this.",
        "code": "permission_denied",
        "fields": {},
    }
    assert Delivery.objects.count() == 0


def test_anonymous_callers_are_refused(anonymous_api, db):
    response = anonymous_api.post(
        reverse("ingest-list"), {"file": [_upload(B20)]}, format="multipart"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_upload_over_the_limit_is_refused_with_413(practitioner_api, settings):
    settings.INGEST_MAX_UPLOAD_BYTES = 100

    response = practitioner_api.post(
        reverse("ingest-list"), {"file": [_upload(B20)]}, format="multipart"
    )

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "upload_too_large"
    assert body["message"].endswith(
        "bytes, over the limit of 100 bytes; split the delivery into smaller files or load it "
        "with the ingest_focus command."
    )
    assert Delivery.objects.count() == 0


def test_a_post_without_files_is_a_400(practitioner_api):
    response = practitioner_api.post(reverse("ingest-list"), {}, format="multipart")

    assert response.status_code == 400
    assert (
        response.json()["message"] == "Send one or more FOCUS files in the multipart field 'file'."
    )


def test_an_unknown_ingest_is_a_404(practitioner_api):
    response = practitioner_api.get(reverse("ingest-detail", kwargs={"pk": 999}))

    assert response.status_code == 404
    assert response.json() == {
        "message": "There is no ingest 999; list them at /api/v1/ingests/.",
        "code": "not_found",
        "fields": {},
    }


@pytest.mark.django_db(transaction=True)
def test_without_workers_the_upload_answer_says_the_delivery_is_already_loaded(
    practitioner_api, upload_dir
):
    # No surrounding transaction here: the in-process ingest runs as the upload is taken in.
    response = practitioner_api.post(reverse("ingest-list"), {"file": [_upload(B14)]},
                                     format="multipart")  # fmt: skip

    delivery = Delivery.objects.get()
    assert response.status_code == 202
    assert response.json() == {
        "id": delivery.pk,
        "status": "loaded",
        "url": f"http://testserver/api/v1/ingests/{delivery.pk}/",
    }
