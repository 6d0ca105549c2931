"""Bench-only views live in bench/, outside the product package, and are routed only when
BENCH_ENDPOINTS_ENABLED is set."""

import importlib
import sys

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

import guelaguetza.urls


@pytest.fixture
def reload_urls():
    yield lambda: (importlib.reload(guelaguetza.urls), clear_url_caches())
    importlib.reload(guelaguetza.urls)
    clear_url_caches()


def test_bench_floor_is_not_routed_by_default(api_client, reload_urls):
    sys.modules.pop("bench.views", None)
    reload_urls()
    response = api_client.get("/api/bench/floor")
    assert response.status_code == 404
    assert response.json()["success"] is False
    assert "bench.views" not in sys.modules  # a deployment does not even import it


def test_bench_floor_answers_constant_bytes_when_enabled(api_client, reload_urls):
    with override_settings(BENCH_ENDPOINTS_ENABLED=True):
        reload_urls()
        response = api_client.get("/api/bench/floor")
    assert response.status_code == 200
    assert response.content == b'{"success":true,"data":{"entries":[],"total":0}}'
