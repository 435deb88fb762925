"""Liveness check for load balancers and operators: database and broker reachability."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# A health probe must answer well within a load balancer's own timeout, even when Redis hangs.
BROKER_TIMEOUT_SECONDS = 2.0


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("healthz: database unreachable", exc_info=True)
        return "error"
    return "ok"


def broker_check() -> str:
    """``"eager"`` when tasks run in-process, else ``"ok"`` or ``"error"`` from a Redis ping."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return "eager"
    if urlsplit(url).scheme not in ("redis", "rediss"):
        # TODO: probe non-Redis brokers (AMQP) once one is supported; only Redis is deployed.
        logger.warning("healthz: broker scheme %s cannot be probed", urlsplit(url).scheme)
        return "error"
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
            socket_timeout=BROKER_TIMEOUT_SECONDS,
        )
        with client:
            client.ping()
    except redis.RedisError:
        logger.warning("healthz: broker unreachable", exc_info=True)
        return "error"
    return "ok"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with each component's state when all are usable, else 503 with the same body."""
    body = {"database": database_check(), "broker": broker_check()}
    healthy = all(state in ("ok", "eager") for state in body.values())
    return JsonResponse(body, status=200 if healthy else 503)
