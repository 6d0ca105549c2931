"""Settings of the test run: the project's, with throwaway secrets.

The repository holds no secret, and the project settings refuse to start without one.
A test run needs no lasting secret, so it gets random ones per run, set in the
environment (unless the caller set its own) so that the subprocesses some tests start
sign and verify with the same keys.
"""

import os
import secrets

for _name in ("DJANGO_SECRET_KEY", "JWT_SECRET"):
    if not os.environ.get(_name):
        os.environ[_name] = secrets.token_urlsafe(48)

from guelaguetza.settings import *  # noqa: E402, F403
