"""Ingest pages for practitioners: the list of deliveries with an upload form, and one delivery.

The detail page draws its progress bar from the Delivery row and a little script polls
``/api/v1/ingests/<id>/`` every second until the ingest has finished.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from finops_exec.api_errors import ApplicationError
from finops_exec.personas import PRACTITIONER, user_has_persona
from portfolio.models import Delivery
from portfolio.services.ingest import (
    deliveries_orphaned_fail,
    delivery_create_from_uploads,
    delivery_enqueue,
    upload_bytes_check,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def _practitioner_required(request: HttpRequest) -> None:
    if not user_has_persona(request.user, PRACTITIONER):
        raise PermissionDenied("Only FinOps practitioners may load spend data.")


@login_required
@require_http_methods(["GET", "POST"])
def ingest_list(request: HttpRequest) -> HttpResponse:
    """Deliveries newest first; a POST uploads files as a new delivery and opens its page."""
    _practitioner_required(request)
    if request.method == "POST":
        try:
            delivery = _upload(request)
        except ApplicationError as exc:
            return _list_render(request, error=exc.message, status=exc.status_code)
        return redirect("portfolio:ingest-detail", pk=delivery.pk)
    return _list_render(request)


def _upload(request: HttpRequest) -> Delivery:
    upload_bytes_check(size=int(request.META.get("CONTENT_LENGTH") or 0))
    uploads = request.FILES.getlist("file")
    if not uploads:
        raise ApplicationError("Choose one or more FOCUS files to upload.", code="no_files")
    delivery = delivery_create_from_uploads(uploads=uploads, user=request.user)
    delivery_enqueue(delivery=delivery)
    logger.info("ingest %s: uploaded by %s, %s files", delivery.pk, request.user, len(uploads))
    return delivery


def _list_render(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    # A delivery whose in-process loader was killed (the server stopped mid-upload) would
    # otherwise show as running for ever.
    deliveries_orphaned_fail()
    deliveries = Delivery.objects.select_related("created_by").order_by("-created_at", "-id")
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "error": error, "active": "ingests"}
    return render(request, "portfolio/ingest_list.html", context, status=status)


@login_required
def ingest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One delivery: live progress, status, counts, totals, warnings, errors, conformance."""
    _practitioner_required(request)
    delivery = get_object_or_404(Delivery, pk=pk)
    slices = list(delivery.slices.order_by("billing_account_id", "billing_period_start"))
    context: dict[str, Any] = {
        "delivery": delivery,
        "chunks": list(delivery.chunks.order_by("index")),
        "slices": slices,
        "slices_not_counted": sum(1 for item in slices if not item.is_current),
        "conformance": getattr(delivery, "conformance", None) or {},
        "percent": _percent(delivery),
        "active": "ingests",
    }
    return render(request, "portfolio/ingest_detail.html", context)


def _percent(delivery: Delivery) -> int | None:
    if delivery.is_finished:
        return 100
    if not delivery.rows_expected:
        return None
    return min(100, delivery.rows_done * 100 // delivery.rows_expected)
