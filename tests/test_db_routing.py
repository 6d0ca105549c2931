"""guelaguetza.db_routing in process: where reads go without a replica-eligible request,
and the read-your-writes markers in (real) Redis. The routing to a real replica is in
tests/test_db_replicas.py."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.test import RequestFactory

from accounts.tokens import access_token_issue
from guelaguetza import db_routing


@pytest.fixture
def own_prefix(settings):
    settings.CACHE_KEY_PREFIX = f"gc-routing-test-{uuid.uuid4().hex[:8]}:"
    settings.DATABASE_REPLICA_STICKY_SECONDS = 5.0
    db_routing._redis_state.down_until = 0.0
    yield settings.CACHE_KEY_PREFIX
    db_routing._redis_state.down_until = 0.0


def test_reads_outside_a_request_and_inside_primary_only_go_to_the_primary():
    router = db_routing.ReplicaRouter()
    assert router.db_for_read(None) == "default"
    with db_routing.primary_only():
        assert router.db_for_read(None) == "default"
    assert router.db_for_write(None) == "default"


def test_only_the_primary_is_migrated():
    router = db_routing.ReplicaRouter()
    assert router.allow_migrate("default", "accounts") is True
    assert router.allow_migrate("replica_0", "accounts") is False


def test_a_write_marks_its_caller_for_the_sticky_window(own_prefix, redis_client):
    db_routing.mark_wrote("user-a")
    assert db_routing.wrote_recently("user-a") is True
    assert db_routing.wrote_recently("user-b") is False
    ttl_ms = redis_client.pttl(f"{own_prefix}rw:user:user-a")
    assert 0 < ttl_ms <= 5000


def test_when_redis_cannot_tell_who_wrote_every_caller_reads_the_primary(own_prefix, monkeypatch):
    # A real client to a port nothing listens on: Redis is down.
    dead = redis.Redis(port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(db_routing, "_client", lambda: dead)
    assert db_routing.wrote_recently("anyone") is True
    # And for the window after the failure, without asking Redis again.
    assert db_routing._redis_state.down() is True


def test_the_caller_is_the_subject_of_a_valid_bearer_token(user):
    factory = RequestFactory()
    good = access_token_issue(user).token
    assert db_routing.caller_id(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {good}")) == str(
        user.pk
    )
    assert db_routing.caller_id(factory.get("/", HTTP_AUTHORIZATION="Bearer forged.x.y")) is None
    assert db_routing.caller_id(factory.get("/", HTTP_AUTHORIZATION="Bearer demo_1")) is None
    assert db_routing.caller_id(factory.get("/")) is None


@pytest.mark.django_db
def test_without_replicas_the_middleware_marks_nothing(own_prefix, redis_client, user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    client.put("/api/auth/me", {"nombre": "Otro"}, format="json")
    assert redis_client.keys(f"{own_prefix}rw:*") == []
