"""Background jobs of the portfolio app; each loads its row, calls one service and records."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from portfolio.models import Delivery
from portfolio.services.ingest import delivery_ingest

logger = logging.getLogger(__name__)

# A delivery of a few million rows loads in minutes; an hour means something is stuck.
INGEST_SOFT_TIME_LIMIT = 55 * 60
INGEST_TIME_LIMIT = 60 * 60


@shared_task(
    name="portfolio.delivery_ingest",
    queue="ingest",
    soft_time_limit=INGEST_SOFT_TIME_LIMIT,
    time_limit=INGEST_TIME_LIMIT,
    acks_late=True,
)
def delivery_ingest_task(delivery_id: int) -> None:
    """Ingest one queued delivery; the outcome is recorded on its row, never returned."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        logger.warning("ingest %s: no such delivery, nothing to do", delivery_id)
        return
    if delivery.is_finished:
        # A redelivered message after a finished run: the row already holds the outcome.
        logger.info("ingest %s: already %s, not run again", delivery_id, delivery.status)
        return
    try:
        delivery_ingest(delivery=delivery)
    except BaseException:
        logger.exception("ingest %s: the task failed", delivery_id)
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED,
            finished_at=timezone.now(),
            error_message="The ingest failed unexpectedly; the error has been logged. "
            "Nothing was stored.",
        )
        raise
