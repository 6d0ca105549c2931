"""Pieces of `make run`: ensure_database creates a missing database, once."""

import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command


def _server(cfg: dict) -> dict:
    return {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}


def test_ensure_database_creates_a_missing_database_and_is_idempotent(capsys):
    cfg = settings.DATABASES["default"]
    name = f"gc_ensure_{uuid.uuid4().hex[:8]}"
    original = cfg["NAME"]
    cfg["NAME"] = name
    try:
        call_command("ensure_database")
        call_command("ensure_database")
    finally:
        cfg["NAME"] = original
        with psycopg.connect(**_server(cfg), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    out = capsys.readouterr().out
    assert found is not None
    assert f"database '{name}' created" in out and f"database '{name}' exists" in out


@pytest.mark.parametrize("script", ["scripts/start.sh", "scripts/ensure_services.sh"])
def test_scripts_are_valid_bash(script):
    import subprocess

    assert subprocess.run(["bash", "-n", script], cwd=settings.BASE_DIR).returncode == 0
