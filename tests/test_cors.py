"""CORS for the original front end out of the box (issue 15, deliverable 3)."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

DEV_ORIGINS = [
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:5173",
    "http://127.0.0.1:5173",
]


@pytest.mark.parametrize("origin", DEV_ORIGINS)
def test_the_dev_front_end_origins_pass_preflight_and_requests_by_default(api_client, origin):
    assert not settings.DEBUG  # the `make run` default: no reflect-any-origin mode
    preflight = api_client.options(
        "/api/bookings/bookings",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == origin
    assert preflight["Access-Control-Allow-Credentials"] == "true"
    allowed = preflight["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    for method in ("GET", "POST", "PUT", "DELETE"):
        assert method in preflight["Access-Control-Allow-Methods"]

    get = api_client.get("/api/health", HTTP_ORIGIN=origin)
    assert get["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", ["http://localhost:8080", "https://evil.example"])
def test_other_origins_get_no_cors_headers(api_client, origin):
    response = api_client.get("/api/health", HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in response


def test_cors_origins_replaces_the_default_list_in_production():
    env = {**os.environ, "CORS_ORIGINS": "https://a.example.mx,https://b.example.mx"}
    code = "import json; from django.conf import settings as s; print(json.dumps(s.CORS_ORIGINS))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == ["https://a.example.mx", "https://b.example.mx"]
