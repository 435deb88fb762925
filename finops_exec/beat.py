"""The Celery beat schedule: every periodic job of the product, in one place."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # A worker killed mid-ingest leaves its delivery "running" with staged rows that count in
    # no total; mark such deliveries failed and remove their rows so they can be loaded again.
    "fail-stale-deliveries": {
        "task": "portfolio.deliveries_stale_fail",
        "schedule": crontab(minute="*/5"),
    },
}
