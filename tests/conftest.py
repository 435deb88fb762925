"""Shared fixtures: the named personas, API clients, and paths to the shared test material."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from finops_exec.personas import EXECUTIVE, FINANCE, PRACTITIONER, persona_groups_ensure

# The shared folder sits beside the project root; FINOPS_SHARED_DIR overrides it.
SHARED_DIR = Path(
    os.environ.get("FINOPS_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared"
)
BUGCASES_DIR = SHARED_DIR / "bugcases"
SAMPLES_DIR = SHARED_DIR / "focus-samples"


def pytest_configure(config: pytest.Config) -> None:
    # Sample and bug-case tests would otherwise be collected as empty and pass silently.
    if not (BUGCASES_DIR.is_dir() and SAMPLES_DIR.is_dir()):
        raise pytest.UsageError(
            f"The shared test material is not at {SHARED_DIR}: put the shared/ folder beside "
            "the project folder, or set FINOPS_SHARED_DIR to its path."
        )


def _user(username: str, persona: str | None):
    user = get_user_model().objects.create_user(username=username, password="pass-" + username)
    if persona:
        user.groups.add(persona_groups_ensure()[persona])
    return user


@pytest.fixture
def executive(db):
    return _user("erin.executive", EXECUTIVE)


@pytest.fixture
def practitioner(db):
    return _user("pat.practitioner", PRACTITIONER)


@pytest.fixture
def finance(db):
    return _user("fin.finance", FINANCE)


@pytest.fixture
def outsider(db):
    return _user("otto.outsider", None)


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def practitioner_api(practitioner) -> APIClient:
    return _client_for(practitioner)


@pytest.fixture
def executive_api(executive) -> APIClient:
    return _client_for(executive)


@pytest.fixture
def finance_api(finance) -> APIClient:
    return _client_for(finance)


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()


def services_required() -> bool:
    """CI sets FINOPS_REQUIRE_SERVICES=1: tests needing PostgreSQL/Redis then fail, never skip."""
    return os.environ.get("FINOPS_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def celery_eager_unless_worker_test(request):
    """Run tasks in-process, except in tests that start a real worker against the real broker."""
    from finops_exec.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
