"""REDIS_URL parsing (docs/cache.md, "Redis topologies"): each scheme gives its kind of
client with the cache's timeouts and single attempt; nothing here needs a server."""

from __future__ import annotations

import pytest
import redis
import redis.sentinel
from django.core.exceptions import ImproperlyConfigured

from guelaguetza.cache.transport import _hosts, connect


def make(url: str):
    return connect(url, socket_timeout=0.15, connect_timeout=0.25)


def test_a_redis_url_is_one_server_with_the_cache_timeouts_and_no_retry():
    client = make("redis://127.0.0.1:6390/3")
    kwargs = client.connection_pool.connection_kwargs
    assert type(client) is redis.Redis
    assert (kwargs["port"], kwargs["db"]) == (6390, 3)
    assert kwargs["socket_timeout"] == 0.15
    assert kwargs["socket_connect_timeout"] == 0.25
    assert kwargs["retry"].get_retries() == 0


def test_a_rediss_url_takes_the_tls_settings(settings):
    settings.REDIS_TLS_CA_FILE = "/etc/ca.pem"
    settings.REDIS_TLS_CERT_FILE = "/etc/client.pem"
    settings.REDIS_TLS_KEY_FILE = "/etc/client.key"
    kwargs = make("rediss://cache.example:6380/0").connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == "/etc/ca.pem"
    assert kwargs["ssl_certfile"] == "/etc/client.pem"
    assert kwargs["ssl_keyfile"] == "/etc/client.key"
    assert kwargs["ssl_cert_reqs"] == "required"


def test_a_sentinel_url_names_its_sentinels_service_and_db():
    client = make("redis+sentinel://10.0.0.1:26379,10.0.0.2,[::1]:26380/gc-main/2")
    pool = client.connection_pool
    assert isinstance(pool, redis.sentinel.SentinelConnectionPool)
    assert pool.service_name == "gc-main"
    assert pool.connection_kwargs["db"] == 2
    sentinels = pool.sentinel_manager.sentinels
    addresses = [s.connection_pool.connection_kwargs["host"] for s in sentinels]
    ports = [s.connection_pool.connection_kwargs["port"] for s in sentinels]
    assert addresses == ["10.0.0.1", "10.0.0.2", "::1"]
    assert ports == [26379, 26379, 26380]


def test_credentials_in_a_multi_host_url_are_split_from_the_hosts():
    user, password, nodes = _hosts("app:s%40cret@h1:1,h2:2", 6379)
    assert (user, password, nodes) == ("app", "s@cret", [("h1", 1), ("h2", 2)])


@pytest.mark.parametrize(
    "url", ["sentinel://h:26379/gc", "redis+sentinel://h:26379", "memcached://h:11211"]
)
def test_an_unusable_redis_url_is_a_configuration_error(url):
    with pytest.raises(ImproperlyConfigured):
        make(url)
