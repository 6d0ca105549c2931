"""/health, /api/health (docs/api.md#get-health, [F21]) and GET /."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A port nothing listens on: bind to get a free one, then release it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_is_200_ok_with_both_checks(api_client):
    response = api_client.get("/health", HTTP_AUTHORIZATION="Bearer demo_token_1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "ok"}
    assert body["timestamp"].endswith("Z")


def test_api_health_alias_answers_head_and_get(api_client):
    head = api_client.head("/api/health")
    assert head.status_code == 200
    assert head.content == b""
    assert api_client.get("/api/health").json()["status"] == "ok"
    assert api_client.head("/health").status_code == 200


def test_health_rejects_other_methods_as_json_405(api_client):
    response = api_client.post("/health")
    assert response.status_code == 405


def test_redis_down_is_200_with_redis_unavailable(api_client):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response = api_client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable"}


PROBE = """
import django, json
django.setup()
from django.test import Client
r = Client().get("/health")
m = Client().get("/metrics")
print(json.dumps({"status": r.status_code, "body": r.json(), "metrics": m.status_code,
                  "users_gauge": b"guelaguetza_total_users_count" in m.content}))
"""


def test_database_down_is_503_degraded_and_metrics_still_answer():
    # A separate process whose DATABASE_URL points at a closed port: the shared
    # PostgreSQL keeps running for everyone else.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guelaguetza.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere",
        "REDIS_URL": settings.REDIS_URL,
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["status"] == "degraded"
    assert result["body"]["checks"] == {"database": "error", "redis": "ok"}
    assert result["metrics"] == 200 and result["users_gauge"] is False


def test_root_describes_the_api(api_client):
    body = api_client.get("/").json()
    assert body["name"] == "Guelaguetza Connect API"
    assert body["version"] == "1.0.0"
    assert body["endpoints"]["health"] == "/health"


def test_schema_declares_the_bearer_scheme(api_client):
    response = api_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert "/api/auth/login" in schema["paths"]
    assert api_client.get("/api/docs").status_code == 200
