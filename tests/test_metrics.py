"""/metrics (docs/api.md#get-metrics): request metrics, DB gauges, METRICS_TOKEN,
multiprocess mode under the application server (scripts/start.sh), graceful restarts."""

import json
import os
import re
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
from prometheus_client.mmap_dict import MmapedDict
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from guelaguetza.api.routers import router
from guelaguetza.observability.middleware import route_label
from guelaguetza.observability.views import forget_dead_workers
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


# --- the application server (scripts/start.sh: granian, 2 workers), multiprocess mode -------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def _workers(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(child) for child in children.read_text().split()}


def _wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def app_server(tmp_path):
    """`scripts/start.sh` (what `make run` and the image run) on a spare port against the
    test database: (base url, the server's pid, its multiprocess directory)."""
    port = _free_port()
    metrics_dir = tmp_path / "prom"
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "RATE_LIMITS_ENABLED": "false",
        "METRICS_TOKEN": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "ACCESS_LOG": "false",
        "VENV_BIN": str(Path(sys.executable).parent),
    }
    proc = subprocess.Popen(
        ["bash", "scripts/start.sh"],
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
                    raise RuntimeError("the app server did not start") from None
                time.sleep(0.2)
        yield base, proc.pid, metrics_dir
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _health_by_pid(metrics_dir: Path) -> dict[int, float]:
    """guelaguetza_http_requests_total{route="/health"} as each worker's file holds it."""
    found = {}
    for file in metrics_dir.glob("counter_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(file)):
            _, name, labels, _ = json.loads(key)  # metric, sample name, labels, help
            if name == "guelaguetza_http_requests_total" and labels.get("route") == "/health":
                found[pid] = found.get(pid, 0.0) + value
    return found


def test_the_server_runs_web_concurrency_workers_whose_metrics_add_up(app_server):
    base, pid, metrics_dir = app_server
    assert len(_workers(pid)) == 2  # WEB_CONCURRENCY
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Concurrent batches until both workers' files hold /health samples.
        while len(_health_by_pid(metrics_dir)) < 2 and sent < 2000:
            list(pool.map(lambda _: _get(base + "/health"), range(40)))
            sent += 40
    assert set(_health_by_pid(metrics_dir)) == _workers(pid)
    text = _get(base + "/metrics").decode()
    total = sample(
        text, "guelaguetza_http_requests_total", method="GET", route="/health", status_code="200"
    )
    assert total == sent
    # Scrape-time collectors of the default registry are there too (cache layer).
    assert "cache_hit_rate" in text
    assert "guelaguetza_total_users_count" in text


def test_sighup_replaces_the_workers_while_the_server_keeps_answering(app_server):
    base, pid, _ = app_server
    before = _workers(pid)
    _get(base + "/health")
    os.kill(pid, signal.SIGHUP)
    answered = 0

    def replaced() -> bool:
        nonlocal answered
        _get(base + "/health")  # raises if a request is refused during the restart
        answered += 1
        workers = _workers(pid)
        return len(workers) == 2 and not workers & before

    assert _wait_until(replaced, seconds=40)
    assert answered > 1
    text = _get(base + "/metrics").decode()
    # The counters of the replaced workers stay in the aggregate (a counter never drops).
    assert sample(text, "guelaguetza_http_requests_total", route="/health") >= answered + 1


def test_a_scrape_drops_the_live_gauges_of_workers_that_are_gone(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for pid in (gone.pid, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")

    assert forget_dead_workers(str(tmp_path)) == [gone.pid]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{gone.pid}.db", f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db"]
    )


def test_a_request_served_before_url_resolution_is_labelled_by_the_route_it_names(rf):
    request = rf.get("/api/gamification/leaderboard")
    request.gc_route = "/api/gamification/leaderboard"  # set by a layer before the resolver
    assert route_label(request) == "/api/gamification/leaderboard"
