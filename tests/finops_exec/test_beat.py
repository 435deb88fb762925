from finops_exec.beat import BEAT_SCHEDULE
from finops_exec.celery import app


def test_every_scheduled_job_names_a_registered_task():
    import portfolio.tasks  # noqa: F401  (registers the app's tasks)

    scheduled = {entry["task"] for entry in BEAT_SCHEDULE.values()}

    assert scheduled == {"portfolio.deliveries_stale_fail"}
    assert scheduled <= set(app.tasks)


def test_a_lost_task_comes_back_only_after_the_longest_task_limit():
    from portfolio.tasks import INGEST_TIME_LIMIT

    assert app.conf.broker_transport_options["visibility_timeout"] > INGEST_TIME_LIMIT
