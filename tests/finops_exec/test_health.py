import pytest
from django.db import OperationalError

from finops_exec import health

pytestmark = pytest.mark.django_db


def test_without_a_broker_tasks_run_eagerly_and_health_is_ok(client, settings):
    settings.CELERY_BROKER_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "eager"}
    assert "no-cache" in response["Cache-Control"]


def test_a_reachable_redis_broker_is_ok(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_an_unreachable_broker_makes_health_fail(client, settings):
    # Nothing listens on port 1 of the loopback address.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error"}


def test_a_broken_database_makes_health_fail(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""

    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "error", "broker": "eager"}


def test_health_only_answers_reads(client):
    assert client.post("/healthz").status_code == 405
