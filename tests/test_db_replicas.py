"""Read replicas on real engines: a private PostgreSQL primary, its streaming replica
(scripts/pg_replica.py, pg_basebackup) and gunicorn serving the app against both.

The replica is made visibly older with ``pg_wal_replay_pause()``: a row committed on the
primary while replay is paused is absent from the replica, so each response shows which
database served it. Skipped (with the reason) only where PostgreSQL's server binaries
are missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("pg_replica", ROOT / "scripts" / "pg_replica.py")
pg_replica = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = pg_replica  # dataclasses look their module up there
_spec.loader.exec_module(pg_replica)

pytestmark = pytest.mark.slow

DBNAME = "gc_replica_test"
STICKY = 1.0  # DATABASE_REPLICA_STICKY_SECONDS of the servers below


# -- engines ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pair():
    reason = pg_replica.missing_reason()
    if reason:
        pytest.skip(f"read-replica integration tests need PostgreSQL: {reason}")
    # A new directory under the system's temp dir (pytest's is private to this user,
    # and the servers may run as the postgres OS user); removed by stop_pair.
    started = pg_replica.start_pair()
    try:
        with psycopg.connect(started.primary_url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DBNAME}")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=_env(started), check=True, capture_output=True,
        )  # fmt: skip
        yield started
    finally:
        pg_replica.stop_pair(started)


def _env(pair, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": pair.primary_url(DBNAME),
        "DATABASE_REPLICA_URLS": pair.replica_url(DBNAME),
        "REDIS_URL": settings.REDIS_URL,
        # Keys of their own: nothing here depends on which Redis DB the suite uses.
        "CACHE_KEY_PREFIX": f"gc-replica-test-{uuid.uuid4().hex[:8]}:",
        "RATE_LIMITS_ENABLED": "false",
        "DATABASE_REPLICA_STICKY_SECONDS": str(STICKY),
        "DATABASE_REPLICA_LAG_CHECK_SECONDS": "0",
        "DATABASE_REPLICA_RETRY_SECONDS": "0",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("TEST_DATABASE_NAME", None)
    return env


@contextmanager
def _server(pair, **extra):
    port = pg_replica.free_port()
    granian = shutil.which("granian", path=str(Path(sys.executable).parent))
    log = Path(pair.dir) / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [granian, "--interface", "wsgi", "guelaguetza.wsgi:application",
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log"],
            cwd=ROOT, env=_env(pair, **extra), stdout=out, stderr=out,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the server did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield Api(base)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def api(pair):
    # Replicas may lag without limit here: the tests pause replay on purpose.
    with _server(pair, DATABASE_REPLICA_MAX_LAG_SECONDS="3600") as server:
        yield server


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def ok(self, method: str, path: str, body=None, token: str | None = None, status=200):
        code, payload = self.call(method, path, body, token)
        assert code == status, (method, path, code, payload)
        return payload

    def register(self) -> str:
        email = f"u{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": "pw-" + uuid.uuid4().hex, "nombre": "Prueba"}
        return self.ok("POST", "/api/auth/register", body, status=201)["token"]


# -- the replica's replay ---------------------------------------------------------------
def _scalar(url: str, sql: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def caught_up(pair) -> None:
    """Wait until the replica has replayed everything the primary has written."""
    lsn = _scalar(pair.primary_url(DBNAME), "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    sql = f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"
    while not _scalar(pair.replica_url(DBNAME), sql):
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


@contextmanager
def replay_paused(pair):
    caught_up(pair)
    _scalar(pair.replica_url(DBNAME), "SELECT pg_wal_replay_pause()::text")
    try:
        yield
    finally:
        _scalar(pair.replica_url(DBNAME), "SELECT pg_wal_replay_resume()::text")
        caught_up(pair)


def bookings_on(url: str, booking_id: str) -> int:
    return _scalar(url, f"SELECT count(*) FROM experiences_booking WHERE id = '{booking_id}'")


def past_sticky_window() -> None:
    # Read-your-writes keeps a writer on the primary this long: wait it out on purpose.
    time.sleep(STICKY + 0.3)


# -- scenario ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def offer(api, pair):
    """A host with one experience and one slot, and a guest; all replicated."""
    host = api.register()
    guest = api.register()
    experience = api.ok(
        "POST",
        "/api/bookings/experiences",
        {
            "title": "Taller de barro negro",
            "description": "Una tarde con artesanos de San Bartolo Coyotepec.",
            "category": "TALLER",
            "price": 250,
            "duration": 120,
            "maxCapacity": 50,
            "location": "Oaxaca de Juárez",
        },
        host,
        status=201,
    )
    api.ok(
        "POST",
        f"/api/bookings/experiences/{experience['id']}/slots",
        {"slots": [{"date": "2031-07-21", "startTime": "10:00", "endTime": "12:00"}]},
        host,
        status=201,
    )
    slots = api.ok(
        "GET", f"/api/bookings/experiences/{experience['id']}/slots?startDate=2031-07-21"
    )
    caught_up(pair)
    return {"host": host, "guest": guest, "experience": experience, "slot": slots[0]}


def book(api, offer, token: str) -> str:
    body = {"experienceId": offer["experience"]["id"], "timeSlotId": offer["slot"]["id"]}
    return api.ok("POST", "/api/bookings/bookings", body, token, status=201)["booking"]["id"]


def host_sees(api, offer, booking_id: str) -> bool:
    page = api.ok("GET", "/api/bookings/host/bookings?limit=50", token=offer["host"])
    return booking_id in {b["id"] for b in page["bookings"]}


def guest_sees(api, token: str, booking_id: str) -> bool:
    page = api.ok("GET", "/api/bookings/bookings?limit=50", token=token)
    return booking_id in {b["id"] for b in page["bookings"]}


def test_uncached_gets_read_the_replica_and_a_writer_reads_the_primary_for_a_while(
    api, pair, offer
):
    past_sticky_window()  # the host's own writes (the offer) are older than the window
    with replay_paused(pair):
        booking = book(api, offer, offer["guest"])
        # The write went to the primary; the paused replica has not replayed it.
        assert bookings_on(pair.primary_url(DBNAME), booking) == 1
        assert bookings_on(pair.replica_url(DBNAME), booking) == 0
        # The guest just wrote: read-your-writes sends their list to the primary.
        assert guest_sees(api, offer["guest"], booking)
        # The host did not write lately: their uncached list comes from the replica.
        assert not host_sees(api, offer, booking)
        past_sticky_window()
        # Once the window has passed, the guest reads the (older) replica too.
        assert not guest_sees(api, offer["guest"], booking)
    assert host_sees(api, offer, booking)
    assert guest_sees(api, offer["guest"], booking)


def test_cache_fills_read_the_primary_while_the_replica_is_behind(api, pair, offer):
    with replay_paused(pair):
        created = api.ok(
            "POST",
            "/api/bookings/experiences",
            {
                "title": "Recorrido de mezcal",
                "description": "Palenques de Santiago Matatlán con un maestro mezcalero.",
                "category": "TOUR",
                "price": 400,
                "duration": 240,
                "maxCapacity": 12,
                "location": "Santiago Matatlán",
            },
            offer["host"],
            status=201,
        )
        replica = pair.replica_url(DBNAME)
        assert (
            _scalar(
                replica, f"SELECT count(*) FROM experiences_experience WHERE id = '{created['id']}'"
            )
            == 0
        )
        # Anonymous GETs of cached reads: the misses load (and store) from the primary,
        # so the new experience is there although the replica has not replayed it.
        detail = api.ok("GET", f"/api/bookings/experiences/{created['id']}")
        assert detail["title"] == "Recorrido de mezcal"
        listing = api.ok("GET", "/api/bookings/experiences?limit=50")
        assert created["id"] in {e["id"] for e in listing["experiences"]}
        # Served again (now a hit), still the primary's value.
        assert api.ok("GET", f"/api/bookings/experiences/{created['id']}")["title"] == (
            "Recorrido de mezcal"
        )


def test_a_replica_lagging_past_the_limit_is_skipped(api, pair, offer):
    past_sticky_window()
    with (
        _server(pair, DATABASE_REPLICA_MAX_LAG_SECONDS="0.5") as strict,
        replay_paused(pair),
    ):
        guest = api.register()
        booking = book(api, offer, guest)
        past_sticky_window()  # the replica is now over a second behind the primary
        # The tolerant server still reads the stale replica; the strict one reads the
        # primary (from which it has the booking).
        assert not host_sees(api, offer, booking)
        assert host_sees(strict, offer, booking)


def test_reads_fall_back_to_the_primary_when_the_replica_is_down(api, pair, offer):
    replica_dir = Path(pair.dir) / "replica"
    guest = api.register()
    booking = book(api, offer, guest)
    caught_up(pair)
    past_sticky_window()
    pg_replica.stop_server(replica_dir)
    try:
        # The server's kept connection to the replica is dead: no 5xx, primary data.
        assert host_sees(api, offer, booking)
        assert guest_sees(api, guest, booking)
    finally:
        pg_replica.start_server(replica_dir)
