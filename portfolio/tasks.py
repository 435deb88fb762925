"""Background jobs of the portfolio app; each loads its row, calls one service and records.

An ingest is three kinds of task on the ``ingest`` queue: one planner per delivery, one task per
chunk (any worker may take any chunk), and one finaliser queued by whichever step settles the
last chunk. All are idempotent, so ``acks_late`` redelivery after a lost worker is safe.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from portfolio.models import Delivery
from portfolio.services.ingest import (
    deliveries_orphaned_fail,
    deliveries_stale_fail,
    delivery_chunk_run,
    delivery_fail,
    delivery_finalise,
    delivery_ingest,
    delivery_plan,
)

logger = logging.getLogger(__name__)

# A delivery of a few million rows plans in a few minutes; an hour means something is stuck.
INGEST_SOFT_TIME_LIMIT = 55 * 60
INGEST_TIME_LIMIT = 60 * 60
# A chunk of 100,000 rows loads in seconds; ten minutes means a stuck worker or database.
CHUNK_SOFT_TIME_LIMIT = 9 * 60
CHUNK_TIME_LIMIT = 10 * 60
# A planned delivery whose chunks have not moved for longer than a chunk may take has lost
# its worker. Two minutes over the hard limit leave room for a chunk killed at the limit.
STALE_AFTER_SECONDS = CHUNK_TIME_LIMIT + 2 * 60
# A delivery still being planned may read its files without a new chunk for long (the
# conformance pass reads them all once more); only the planner's hard limit bounds that.
# TODO: a planner heartbeat (touching the delivery while the conformance pass reads) would let
# a planner lost with its worker be found in minutes too, not only after this hour.
STALE_PLANNING_AFTER_SECONDS = INGEST_TIME_LIMIT + 5 * 60

_TASK = {"queue": "ingest", "acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    name="portfolio.delivery_ingest",
    soft_time_limit=INGEST_SOFT_TIME_LIMIT,
    time_limit=INGEST_TIME_LIMIT,
    **_TASK,
)
def delivery_ingest_task(delivery_id: int, chunk_rows: int | None = None) -> None:
    """Plan one queued delivery into chunk tasks; in eager mode load it here and now."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        logger.warning("ingest %s: no such delivery, nothing to do", delivery_id)
        return
    if delivery.is_finished:
        # A redelivered message after a finished run: the row already holds the outcome.
        logger.info("ingest %s: already %s, not run again", delivery_id, delivery.status)
        return
    if settings.CELERY_TASK_ALWAYS_EAGER or delivery_ingest_task.app.conf.task_always_eager:
        options: dict[str, Any] = {"chunk_rows": chunk_rows} if chunk_rows else {}
        delivery_ingest(delivery=delivery, **options)
        return
    try:
        if delivery_plan(delivery=delivery, chunk_rows=chunk_rows):
            delivery_finalise_task.delay(delivery_id)
    except Exception:
        logger.exception("ingest %s: planning failed", delivery_id)
        delivery_fail(delivery_id=delivery_id)


@shared_task(
    name="portfolio.delivery_chunk",
    bind=True,
    soft_time_limit=CHUNK_SOFT_TIME_LIMIT,
    time_limit=CHUNK_TIME_LIMIT,
    **_TASK,
)
def delivery_chunk_task(self: Any, chunk_id: int) -> None:
    """Load one chunk; queue the finaliser when it was the last one to settle."""
    from portfolio.models.spend import DeliveryChunk

    try:
        last = delivery_chunk_run(chunk_id=chunk_id, worker=self.request.hostname or "")
    except Exception:
        logger.exception("ingest chunk %s: failed", chunk_id)
        chunk = DeliveryChunk.objects.filter(pk=chunk_id).first()
        if chunk is not None:
            delivery_fail(delivery_id=chunk.delivery_id)
        return
    if last:
        chunk = DeliveryChunk.objects.get(pk=chunk_id)
        delivery_finalise_task.delay(chunk.delivery_id)


@shared_task(
    name="portfolio.delivery_finalise",
    soft_time_limit=CHUNK_SOFT_TIME_LIMIT,
    time_limit=CHUNK_TIME_LIMIT,
    **_TASK,
)
def delivery_finalise_task(delivery_id: int) -> None:
    """Make a fully loaded delivery current, or discard a rejected one, in one transaction."""
    try:
        delivery_finalise(delivery_id=delivery_id)
    except Exception:
        logger.exception("ingest %s: finalising failed", delivery_id)
        delivery_fail(delivery_id=delivery_id)


@shared_task(name="portfolio.deliveries_stale_fail", queue="default")
def deliveries_stale_fail_task() -> None:
    """Fail deliveries whose worker was lost, so their staged rows are freed.

    Meant for beat every few minutes; it is cheap and safe to run often (see the service).
    """
    failed = deliveries_orphaned_fail() + deliveries_stale_fail(
        idle_seconds=STALE_AFTER_SECONDS, planning_seconds=STALE_PLANNING_AFTER_SECONDS
    )
    if failed:
        logger.warning("ingest: failed stale deliveries %s", failed)
