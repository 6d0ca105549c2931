"""/metrics (API.md 8): request metrics, DB gauges, METRICS_TOKEN, multiprocess mode."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import include, path
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from guelaguetza.api.routers import router
from guelaguetza.observability.middleware import route_label
from tests.factories import BookingFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


class ThingViewSet(viewsets.GenericViewSet):
    def retrieve(self, request, pk=None):
        return Response({"id": pk})

    @action(detail=True, methods=["get"])
    def slots(self, request, pk=None):
        return Response([])


_r = router()
_r.register("things/experiences", ThingViewSet, basename="thing")
urlpatterns = [
    path("api/", include(_r.urls)),
    path("api/users/<str:user_id>/stats", lambda request, user_id: None),
]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a text exposition (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.urls(__name__)
def test_route_label_maps_ids_to_colon_id(rf):
    from django.urls import resolve

    for url, expected in [
        ("/api/things/experiences/c123abc", "/api/things/experiences/:id"),
        ("/api/things/experiences/exp_1/slots", "/api/things/experiences/:id/slots"),
        ("/api/users/user_1/stats", "/api/users/:id/stats"),
    ]:
        request = rf.get(url)
        request.resolver_match = resolve(url)
        assert route_label(request) == expected


def test_unknown_paths_share_one_route_label(api_client):
    api_client.get("/api/random-1")
    api_client.get("/totally/random")
    text = api_client.get("/metrics").content.decode()
    assert 'route="/api/random-1"' not in text
    assert sample(text, "guelaguetza_http_requests_total", route="unmatched") >= 2


def test_metrics_show_request_metrics_after_a_request(api_client):
    before = sample(
        api_client.get("/metrics").content.decode(),
        "guelaguetza_http_requests_total",
        method="GET",
        route="/health",
        status_code="200",
    )
    api_client.get("/health")
    response = api_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.content.decode()
    after = sample(
        text, "guelaguetza_http_requests_total", method="GET", route="/health", status_code="200"
    )
    assert after == before + 1
    assert "guelaguetza_http_request_duration_seconds_bucket" in text
    assert "django_db_execute_total" in text  # django-prometheus keeps the DB metrics
    # One request-metrics middleware: django-prometheus's request families are not there.
    assert "django_http_" not in text
    assert "guelaguetza_process_resident_memory_bytes" in text


def test_unknown_methods_share_one_method_label(api_client):
    def invalid() -> float:
        text = api_client.get("/metrics").content.decode()
        return sample(text, "guelaguetza_http_requests_total", method="<invalid method>")

    before = invalid()
    for method in ("BREW", "XYZZY"):
        assert api_client.generic(method, "/health").status_code == 405
    text = api_client.get("/metrics").content.decode()
    assert 'method="BREW"' not in text and 'method="XYZZY"' not in text  # django-prometheus too
    assert invalid() == before + 2


def test_db_gauges_are_computed_at_scrape_time(api_client):
    UserFactory.create_batch(3)
    text = api_client.get("/metrics").content.decode()
    count = connection.cursor()
    count.execute("SELECT count(*) FROM accounts_user")
    assert sample(text, "guelaguetza_total_users_count") == count.fetchone()[0] == 3
    UserFactory()
    assert sample(api_client.get("/metrics").content.decode(), "guelaguetza_total_users_count") == 4


def test_booking_gauges_count_their_statuses_in_one_query(api_client, django_assert_num_queries):
    for status in ("PENDING", "CONFIRMED", "CONFIRMED", "PENDING_PAYMENT", "CANCELLED"):
        BookingFactory(status=status)
    BookingFactory(status="PAYMENT_FAILED")

    # users, both booking gauges, active experiences, available slots
    with django_assert_num_queries(4):
        text = api_client.get("/metrics").content.decode()

    assert sample(text, "guelaguetza_active_bookings_count") == 3
    assert sample(text, "guelaguetza_pending_payments_count", type="booking") == 2


@override_settings(METRICS_TOKEN="s3cret")
def test_metrics_token_is_required_when_set(api_client):
    missing = api_client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"] == "Missing authorization header"
    wrong = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "Invalid metrics token"
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


# --- gunicorn, 2 workers, multiprocess mode ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.fixture
def gunicorn_server(tmp_path):
    """gunicorn (2 workers) on a spare port against the test database."""
    port = _free_port()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    access_log = tmp_path / "access.log"
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "RATE_LIMITS_ENABLED": "false",
        "METRICS_TOKEN": "",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    proc = subprocess.Popen(
        [gunicorn, "-c", "gunicorn.conf.py", "guelaguetza.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(U)s"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(base + "/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base, access_log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pids_serving(access_log: Path, path: str) -> set[str]:
    if not access_log.exists():
        return set()
    lines = access_log.read_text().splitlines()
    return {line.split()[0] for line in lines if line.endswith(" " + path)}


def test_metrics_of_two_gunicorn_workers_add_up_in_one_scrape(gunicorn_server):
    base, access_log = gunicorn_server
    sent = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Concurrent batches until the access log shows both workers served /health.
        while len(_pids_serving(access_log, "/health")) < 2 and sent < 400:
            list(pool.map(lambda _: _get(base + "/health"), range(20)))
            sent += 20
            time.sleep(0.1)  # the access log is written after the response
    assert len(_pids_serving(access_log, "/health")) == 2
    text = _get(base + "/metrics").decode()
    total = sample(
        text, "guelaguetza_http_requests_total", method="GET", route="/health", status_code="200"
    )
    assert total == sent
    # Scrape-time collectors of the default registry are there too (cache layer).
    assert "cache_hit_rate" in text
    assert "guelaguetza_total_users_count" in text
