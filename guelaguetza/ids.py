"""Primary keys: URL-safe, cuid-like strings (docs/api.md#ids).

'c' + 24 lower-case base-36 characters: a millisecond timestamp (so ids sort roughly by
creation, like Prisma's cuid) followed by random characters. Imported cuids fit too.
"""

import secrets
import string
import time

_ALPHABET = string.digits + string.ascii_lowercase
ID_MAX_LENGTH = 32


def _base36(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def new_id() -> str:
    stamp = _base36(time.time_ns() // 1_000_000, 9)
    rand = "".join(secrets.choice(_ALPHABET) for _ in range(15))
    return f"c{stamp}{rand}"


def possible_id(value: object) -> bool:
    """False for a value no stored id can equal: not a string, empty, too long for the
    column, or holding a NUL, which PostgreSQL rejects with an error (a 500) instead of
    a non-match. Callers answer such an id with their 404 without a query.

    The one check behind every app's "unknown id" path (gamification's user ids,
    events' event ids, experiences' ids)."""
    return isinstance(value, str) and 0 < len(value) <= ID_MAX_LENGTH and "\x00" not in value
