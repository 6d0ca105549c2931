"""The Redis side of the CacheService: connection, circuit breaker, guarded calls.

Every network call of the cache layer (:meth:`Transport.call`, the MGET of a read, the
pipeline of an invalidation) asks the per-process :class:`CircuitBreaker` first (no
network call at all while it is open); a failure is counted in
``cache_errors_total{service}`` and reported to the breaker, and nothing raises.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from guelaguetza.cache.breaker import CircuitBreaker
from guelaguetza.cache.metrics import ERRORS
from guelaguetza.cache.registry import CacheKey, service_of

logger = logging.getLogger(__name__)

GEN_PREFIX = "gen:"
# A read of values whose loaders recorded dependencies (cache.depends_on): MGET of every
# name, then, for each of the first ARGV[1] names (the values) that recorded some, the
# recorded generations compared by Redis itself, so the read stays one round trip. A
# value whose recorded generation moved comes back as nil (a miss). Layout: codec.py.
READ_SCRIPT = """
local out = redis.call('MGET', unpack(KEYS))
for i = 1, tonumber(ARGV[1]) do
  local v = out[i]
  if v and string.byte(v, 1) ~= 48 then
    local nl = string.find(v, '\\n', 1, true)
    local count = tonumber(string.sub(v, 1, nl - 1)) or 0
    local pos = nl + 1
    local names, want = {}, {}
    for j = 1, count do
      local sp = string.find(v, ' ', pos, true)
      local e = string.find(v, '\\n', sp, true)
      names[j] = string.sub(v, pos, sp - 1)
      want[j] = string.sub(v, sp + 1, e - 1)
      pos = e + 1
    end
    if count > 0 then
      local have = redis.call('MGET', unpack(names))
      for j = 1, count do
        if have[j] ~= want[j] then out[i] = false break end
      end
    end
  end
end
return out
"""
READ_SCRIPT_SHA = hashlib.sha1(READ_SCRIPT.encode()).hexdigest()
LOCK_PREFIX = "lock:"
#: what a failed Redis call raises (redis-py wraps most socket errors, not all)
REDIS_ERRORS = (redis.RedisError, OSError)


def new_generation() -> str:
    """A generation value that never repeats: nanosecond clock + 32 random bits."""
    return f"{time.time_ns():x}{secrets.randbits(32):08x}"


class Transport:
    """Connection and failure handling shared by the read and invalidation sides.

    ``redis_url``/``prefix`` default to settings (read when first needed), so tests can
    point a service at a private redis-server.
    """

    #: returned by a call that was skipped (breaker open) or failed
    FAILED: Any = object()

    def __init__(self, *, redis_url: str | None = None, prefix: str | None = None) -> None:
        self._redis_url = redis_url
        self._prefix = prefix
        self._client: redis.Redis | None = None
        self.breaker = CircuitBreaker(probe=self._probe)
        #: calls that went to the network (tests assert the open breaker adds none)
        self.network_calls = 0
        self._pending: dict[tuple[str, str], None] = {}
        self._pending_lock = threading.Lock()

    # -- connection -------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self._prefix if self._prefix is not None else settings.CACHE_KEY_PREFIX

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(
                self._redis_url or settings.REDIS_URL,
                socket_timeout=settings.CACHE_SOCKET_TIMEOUT,
                socket_connect_timeout=settings.CACHE_CONNECT_TIMEOUT,
                # One attempt per call: retries against a dead or hung server multiply
                # the latency every request pays (no retry storms). tests/cache/
                # test_faults.py checks that redis-py really makes a single attempt.
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
        return self._client

    def reset(self) -> None:
        """Drop the connection pool and the breaker's history (settings changed, tests)."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self.breaker.reset()

    def lock_name(self, ckey: CacheKey) -> str:
        """The Redis name of the single-flight lock of ``ckey``."""
        return self.prefix + LOCK_PREFIX + ckey

    def call(self, fn: Callable[[redis.Redis], Any], ckey: CacheKey | None = None) -> Any:
        """``fn(client)`` through the breaker; :attr:`FAILED` if skipped or failed."""
        if not self.breaker.allow():
            self._failed(ckey, None)
            return self.FAILED
        self.network_calls += 1
        try:
            result = fn(self.client)
        except REDIS_ERRORS as exc:
            self._failed(ckey, exc)
            return self.FAILED
        self.breaker.success()
        return result

    def _probe(self) -> bool:
        """The breaker's background probe: does Redis answer a PING in time?"""
        try:
            return bool(self.client.ping())
        except REDIS_ERRORS as exc:
            logger.warning("cache: breaker probe failed: %r", exc)
            return False

    def _failed(self, ckey: CacheKey | str | None, exc: BaseException | None) -> None:
        # Errors count per service of the key (or namespace); ops calls (no key) don't.
        if ckey is not None:
            ERRORS[ckey.family.service if type(ckey) is CacheKey else service_of(ckey)].inc()
        if exc is not None:
            # An error reply (OOM under noeviction, a script error) means Redis is up
            # and answering: reads can go on, so it does not count towards opening.
            if isinstance(exc, redis.ResponseError):
                self.breaker.success()
            else:
                self.breaker.failure()
            logger.warning("cache: Redis call failed: %r", exc)

    def _fetch(self, names: list[str], scripted_values: int = 0) -> list[bytes | None]:
        """MGET ``names``; with ``scripted_values`` > 0, READ_SCRIPT over them instead
        (its first ``scripted_values`` names are values with recorded dependencies)."""
        if not scripted_values:
            return self._mget(names)
        args = [READ_SCRIPT_SHA, len(names), *names, scripted_values]
        try:
            return self._command("EVALSHA", *args)
        except redis.exceptions.NoScriptError:
            # A restarted or flushed Redis forgot the script: EVAL loads it again.
            return self._command("EVAL", READ_SCRIPT, *args[1:])

    def _mget(self, names: list[str]) -> list[bytes | None]:
        return self._command("MGET", *names)

    def _command(self, *args: object) -> Any:
        """One command on a pooled connection, without redis-py's per-command machinery.

        ``Redis.execute_command`` (retry wrapper, observability hooks, callbacks) costs
        more than the round trip itself on a hit; MGET and EVALSHA need none of it (no
        retries by design, no response callback). A failed connection is dropped.
        """
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_command(*args)
            return conn.read_response()
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)
