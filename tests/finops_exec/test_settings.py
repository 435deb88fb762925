"""Settings come from the environment: safe defaults, and a clear error for a missing secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from finops_exec.env import env_bool, env_file_load, env_int

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _settings_in_child(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         " print(settings.DEBUG, settings.DATABASES['default']['ENGINE'])"],
        cwd=PROJECT_DIR, env={**clean, "DJANGO_SETTINGS_MODULE": "finops_exec.settings", **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_without_a_secret_key_and_debug_the_start_fails_with_a_clear_message():
    result = _settings_in_child()

    assert result.returncode != 0
    assert (
        "DJANGO_SECRET_KEY is not set. Set it to a long random string, or set DJANGO_DEBUG=true "
        "for local development."
    ) in result.stderr


def test_debug_is_off_unless_asked_for_and_sqlite_is_the_embedded_default():
    result = _settings_in_child(DJANGO_SECRET_KEY="x" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.db.backends.sqlite3"]


def test_a_boolean_that_is_not_one_names_the_variable(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")

    expected = "DJANGO_DEBUG must be true or false, not 'maybe'"
    with pytest.raises(ImproperlyConfigured, match=expected):
        env_bool("DJANGO_DEBUG")


def test_a_number_that_is_not_one_names_the_variable(monkeypatch):
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "soon")

    with pytest.raises(ImproperlyConfigured, match="DATABASE_CONN_MAX_AGE must be a whole number"):
        env_int("DATABASE_CONN_MAX_AGE", 60)


def test_a_local_env_file_fills_in_only_what_the_environment_lacks(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text('# local\nFINOPS_A="from file"\nFINOPS_B=from file\n\n')
    monkeypatch.setenv("FINOPS_B", "from environment")
    monkeypatch.delenv("FINOPS_A", raising=False)

    env_file_load(env_file)

    assert os.environ["FINOPS_A"] == "from file"
    assert os.environ["FINOPS_B"] == "from environment"
    monkeypatch.delenv("FINOPS_A")
