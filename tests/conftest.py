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
