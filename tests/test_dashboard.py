"""docker/grafana: every provisioned dashboard is well formed and names only metrics
(and labels) that /metrics really exports (issue 7, item 5).

The metric check scrapes /metrics through the Django test client after real traffic
(a cached read missed then hit, a write that invalidates, a 404, a booking answered 409
and a retried optimistic-lock conflict), so every family the dashboard reads has samples.
A family that is only declared (``# TYPE`` without a sample) does not count: Prometheus
would store no series for it and the panel would stay empty.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from guelaguetza.cache import cache, keys
from guelaguetza.cache.service import refresh_requested
from tests.factories import TimeSlotFactory, UserFactory
from tests.helpers import book, client_for, fail_booking_attempts

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "docker" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# --- PromQL: metric names and labels of an expression --------------------------------------
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")  # Grafana's $__rate_interval, ${x}
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")  # range vectors and subqueries: [5m], [1h:1m]
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", re.IGNORECASE
)
_MODIFIER = re.compile(r"\b(?:offset\s+-?\w+|@\s*[\w.()]+)", re.IGNORECASE)
# Not preceded by a word character or a dot: the "e" of 1e-9 is no identifier.
_IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_KEYWORDS = {
    "and", "or", "unless", "bool", "by", "without", "on", "ignoring",
    "group_left", "group_right", "offset", "inf", "nan",
}  # fmt: skip
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def metric_names(expr: str) -> set[str]:
    """Metric names of a PromQL expression: no functions, aggregations, keywords, label
    names, label values, durations, numbers or Grafana variables."""
    text = _STRING.sub('""', expr)
    text = _VARIABLE.sub("", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _MODIFIER.sub(" ", text)
    names = set()
    for name, call in _IDENTIFIER.findall(text):
        if call or name.lower() in _KEYWORDS:
            continue  # sum(...), rate(...), histogram_quantile(...); and, by, ...
        names.add(name)
    return names


def grouping_labels(expr: str) -> set[str]:
    """Labels named in by/without/on/ignoring/group_* clauses."""
    text = _STRING.sub('""', expr)
    return {
        label.strip()
        for group in _GROUPING.findall(text)
        for label in group.split(",")
        if label.strip()
    }


def matchers(expr: str) -> list[tuple[str, str, str, str]]:
    """``(metric, label, operator, value)`` of every ``metric{label op "value"}``."""
    return [
        (metric, label, op, value)
        for metric, body in _SELECTOR.findall(_VARIABLE.sub("", expr))
        for label, op, value in _MATCHER.findall(body)
    ]


# --- Dashboards -----------------------------------------------------------------------------
def load(path: Path) -> dict:
    return json.loads(path.read_text())


def all_panels(dashboard: dict) -> list[dict]:
    """Top-level panels and the panels nested in collapsed rows."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def expressions(dashboard: dict) -> list[str]:
    exprs = [
        target["expr"]
        for panel in all_panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and query:
            # label_values(metric, label) / query_result(expr): the metric inside counts.
            exprs.append(re.sub(r"^\s*(label_values|query_result)\s*\(", "(", query))
    return exprs


def provisioned_datasource_uid() -> str:
    text = (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    found = re.findall(r"^\s+uid:\s*[\"']?([\w-]+)", text, re.MULTILINE)
    assert len(found) == 1, "the Prometheus datasource must be provisioned with a fixed uid"
    return found[0]


# --- /metrics -------------------------------------------------------------------------------
class Exposition:
    """The samples of one scrape: sample name -> label sets; histogram family names."""

    def __init__(self, text: str) -> None:
        self.samples: dict[str, list[dict[str, str]]] = {}
        self.histograms: set[str] = set()
        for family in text_string_to_metric_families(text):
            if family.type == "histogram":
                self.histograms.add(family.name)
            for sample in family.samples:
                self.samples.setdefault(sample.name, []).append(dict(sample.labels))

    def family(self, name: str) -> str:
        for suffix in HISTOGRAM_SUFFIXES:
            base = name.removesuffix(suffix)
            if name.endswith(suffix) and base in self.histograms:
                return base
        return name

    def labels(self, name: str) -> set[str]:
        return {label for labels in self.samples.get(name, []) for label in labels}

    def values(self, name: str, label: str) -> set[str]:
        return {labels[label] for labels in self.samples.get(name, []) if label in labels}


def problems(dashboard: dict, exposition: Exposition) -> list[str]:
    """Every metric, label or label value of the dashboard that the scrape lacks."""
    found = []
    for expr in expressions(dashboard):
        names = metric_names(expr)
        if not names:
            found.append(f"no metric in {expr!r}")
        for name in sorted(names):
            if not exposition.samples.get(name):
                found.append(f"{name} (family {exposition.family(name)}) is not exported")
            elif name.endswith("_bucket") and exposition.family(name) == name:
                found.append(f"{name} is not the bucket series of a histogram")
        known = set().union(*(exposition.labels(n) for n in names)) if names else set()
        for label in sorted(grouping_labels(expr) - known):
            found.append(f"label {label!r} of {expr!r} is on none of {sorted(names)}")
        for metric, label, op, value in matchers(expr):
            if label not in exposition.labels(metric):
                found.append(f"{metric} has no label {label!r}")
            elif op == "=" and value not in exposition.values(metric, label):
                found.append(f'{metric}{{{label}="{value}"}} has no sample')
        if "histogram_quantile" in expr and "le" not in grouping_labels(expr):
            found.append(f"histogram_quantile without 'by (le)': {expr!r}")
    return found


def make_every_family_exist(anonymous, monkeypatch) -> None:
    """Real traffic through the real code paths, one request per kind of sample."""
    guest, other = UserFactory(), UserFactory()
    slot = TimeSlotFactory(capacity=5)
    assert anonymous.get("/api/events").status_code == 200  # cache miss (events)
    assert anonymous.get("/api/events").status_code == 200  # cache hit
    assert anonymous.get("/api/no-such-route").status_code == 404
    # Booking: pending + its invalidations, then a duplicate answered 409 (conflict).
    assert book(client_for(guest), slot).status_code == 201
    assert book(client_for(guest), slot).status_code == 409

    # A real PostgreSQL 40001 on the first attempt: retried, counted as a lock conflict.
    fail_booking_attempts(monkeypatch, {0})
    assert book(client_for(other), slot).status_code == 201

    # A refresh-ahead recompute, as the hit path hands a key due for one to the view.
    key = keys.badges_all()
    cache.wrap(key, list)
    token = refresh_requested.set(frozenset({key}))
    try:
        cache.wrap(key, list)
    finally:
        refresh_requested.reset(token)


# --- Tests ----------------------------------------------------------------------------------
def test_there_is_a_provisioned_dashboard():
    assert DASHBOARDS, "no docker/grafana/dashboards/*.json"
    provider = (GRAFANA / "provisioning" / "dashboards" / "guelaguetza.yml").read_text()
    (path,) = re.findall(r"^\s+path:\s*(\S+)", provider, re.MULTILINE)
    compose = (ROOT / "docker" / "compose.yml").read_text()
    assert f"./grafana/dashboards:{path}:ro" in compose  # the provider reads the mounted JSON


def test_prometheus_scrapes_the_web_service_metrics_path():
    text = (ROOT / "docker" / "prometheus.yml").read_text()
    assert "metrics_path: /metrics" in text
    assert '"web:3005"' in text


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_json_is_well_formed(path):
    dashboard = load(path)
    uid = provisioned_datasource_uid()
    # Grafana 10.x/11.x models: 38 (10.0) .. 41; an older one gets migrated on every load.
    assert 38 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"] and dashboard["title"]
    panels = all_panels(dashboard)
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    cells = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= grid.keys(), panel["title"]
        assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps another panel"
                cells.add((x, y))
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"])["uid"] == uid
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{panel['title']!r} has no unit"


def test_metric_names_ignore_functions_labels_keywords_and_variables():
    expr = (
        'histogram_quantile(0.95, sum by (route, le) (rate(a_seconds_bucket{route=~"/api.*",'
        ' method="GET"}[$__rate_interval]))) / on(route) group_left b_total offset 5m'
        " + 1e-9 * max without (x) (c_count[5m:1m]) > bool 0 or vector(0) and d"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c_count", "d"}
    assert grouping_labels(expr) == {"route", "le", "x"}
    assert matchers(expr) == [
        ("a_seconds_bucket", "route", "=~", "/api.*"),
        ("a_seconds_bucket", "method", "=", "GET"),
    ]


@pytest.mark.django_db
def test_every_metric_the_dashboards_use_is_exported(
    api_client, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the invalidations run
        make_every_family_exist(api_client, monkeypatch)
    response = api_client.get("/metrics")
    assert response.status_code == 200
    exposition = Exposition(response.content.decode())

    used = set()
    for path in DASHBOARDS:
        dashboard = load(path)
        found = problems(dashboard, exposition)
        assert not found, f"{path.name}:\n" + "\n".join(found)
        used |= {name for expr in expressions(dashboard) for name in metric_names(expr)}
    # The families issue 7 asks the dashboard to show.
    assert {
        "cache_hit_rate",
        "cache_errors_total",
        "cache_keys_total",
        "cache_invalidations_total",
        "cache_operation_seconds_bucket",
        "guelaguetza_http_requests_total",
        "guelaguetza_http_request_duration_seconds_bucket",
        "guelaguetza_concurrency_conflicts_total",
        "guelaguetza_bookings_created_total",
        "django_db_execute_total",
        "guelaguetza_total_users_count",
    } <= used


@pytest.mark.django_db
def test_a_dashboard_naming_an_unexported_metric_or_label_fails_the_check(api_client):
    exposition = Exposition(api_client.get("/metrics").content.decode())
    target = {"refId": "A", "expr": "sum by (service) (rate(cache_hitz_total[$__rate_interval]))"}
    wrong_label = {
        "refId": "B",
        "expr": "sum by (view) (rate(guelaguetza_http_requests_total[5m]))",
    }
    wrong_value = {"refId": "C", "expr": 'cache_invalidations_total{kind="everything"}'}
    dashboard = {"panels": [{"id": 1, "targets": [target, wrong_label, wrong_value]}]}
    found = problems(dashboard, exposition)
    assert any("cache_hitz_total" in p and "not exported" in p for p in found)
    assert any("'view'" in p for p in found)
    assert any('kind="everything"' in p for p in found)
