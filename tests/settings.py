"""Settings of the test run: the project's, with throwaway secrets, the test Redis DB,
cheap password hashing and throttling off.

The repository holds no secret, and the project settings refuse to start without one.
A test run needs no lasting secret, so it gets random ones per run, set in the
environment (unless the caller set its own) so that the subprocesses some tests start
sign and verify with the same keys.

Redis: the cache layer and Django's cache use DB ``REDIS_TEST_DB`` (1 by default) of the
server in REDIS_URL; tests/conftest.py flushes it before each test. Concurrent test runs
on one machine set their own REDIS_TEST_DB and TEST_DATABASE_NAME.

Everything is set here, before Django configures itself, rather than changed in a
conftest afterwards: code that reads a setting once (and the project's setting_changed
receivers that reset it) then sees the test values from the start.
"""

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

for _name in ("DJANGO_SECRET_KEY", "JWT_SECRET"):
    if not os.environ.get(_name):
        os.environ[_name] = secrets.token_urlsafe(48)

from guelaguetza.settings import *  # noqa: E402, F403
from guelaguetza.settings import CACHES, REDIS_URL  # noqa: E402


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


REDIS_URL = _with_db(REDIS_URL, int(os.environ.get("REDIS_TEST_DB", "1")))
CACHES["default"]["LOCATION"] = REDIS_URL
# Hashing is not under test outside tests/accounts/test_hashers.py (which sets bcrypt
# back): MD5 keeps every user the suite creates cheap to make.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttle tests turn it back on.
RATE_LIMITS_ENABLED = False
# Refresh-ahead is random by design (XFetch): a hit may recompute early, with a tiny
# probability far from expiry. A test that expects a hit must get one every run, so it is
# off here; tests/cache/test_refresh_ahead.py turns it back on.
CACHE_REFRESH_AHEAD_BETA = 0.0
