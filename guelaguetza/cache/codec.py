"""How a cached value is laid out in Redis (docs/cache.md#stored-values).

A value is the response body an endpoint sends behind a short header (recorded
dependencies, the generations of the key's namespaces, expiry, refresh delta, ETag and
the splice points of per-caller flags), so a hit slices the body out and sends it: no
JSON decode, no serializer, no renderer. The bottom layer with the registry: pure
functions on bytes, no Redis.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import orjson

from guelaguetza.cache.registry import Family

NO_SPLICE = b"-"
ENVELOPE_HEAD = b'{"success":true,"data":'
ITEMS_HEAD = ENVELOPE_HEAD + b'{"events":['


class Entry(NamedTuple):
    """A stored value, as a hit sees it."""

    body: bytes
    etag: str  # without quotes
    expires_ms: int
    delta_ms: int
    splice: bytes


def etag_of(body: bytes) -> str:
    """A strong validator of ``body``: changes whenever the bytes change."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def encode_body(family: Family, value: Any) -> tuple[bytes, bytes]:
    """``(body, splice)`` of ``value`` as ``family`` stores and serves it.

    Raises TypeError for values that are not JSON-ready (as orjson does)."""
    if not family.envelope or value is None:
        return orjson.dumps(value), NO_SPLICE
    if family.splice == "items" and isinstance(value, dict) and "events" in value:
        return _encode_items(value)
    body = ENVELOPE_HEAD + orjson.dumps(value) + b"}"
    if family.splice == "item" and isinstance(value, dict) and "id" in value:
        # {"success":true,"data":{...}}: the flags go before the last two braces.
        return body, orjson.dumps([(value["id"], len(body) - 2)])
    return body, NO_SPLICE


def _encode_items(value: dict) -> tuple[bytes, bytes]:
    # {"success":true,"data":{"events":[<item>,...],<the other keys>}}, remembering where
    # each item's closing brace is, so flags can be put in front of it without parsing.
    body = bytearray(ITEMS_HEAD)
    offsets = []
    for i, item in enumerate(value["events"]):
        if i:
            body += b","
        body += orjson.dumps(item)
        offsets.append((item["id"], len(body) - 1))
    rest = orjson.dumps({k: v for k, v in value.items() if k != "events"})
    body += b"]}}" if rest == b"{}" else b"]," + rest[1:] + b"}"
    return bytes(body), orjson.dumps(offsets)


def decode_value(family: Family, body: bytes) -> Any:
    """The value a body was encoded from (for callers inside the app, not for hits)."""
    value = orjson.loads(body)
    if family.envelope and isinstance(value, dict):
        return value["data"]
    return value


def pack(
    *,
    recorded: list[tuple[str, bytes]],
    gens: list[bytes],
    expires_ms: int,
    delta_ms: int,
    body: bytes,
    splice: bytes,
) -> bytes:
    """The Redis value of an entry (see the module docstring)."""
    parts = [str(len(recorded)).encode()]
    parts.extend(name.encode() + b" " + gen for name, gen in recorded)
    parts.append(b"|".join(gens))
    etag = etag_of(body)
    parts.append(b"%d %d %s %s" % (expires_ms, delta_ms, etag.encode(), splice))
    parts.append(body)
    return b"\n".join(parts)


def unpack(raw: bytes, gens: list[bytes]) -> Entry | None:
    """The entry in ``raw`` if it was stored under ``gens`` (the current generations of
    its key's namespaces), else None. Recorded dependencies were checked by Redis."""
    count, _, rest = raw.partition(b"\n")
    if count != b"0":
        try:
            skip = int(count)
        except ValueError:
            return None
        for _ in range(skip):
            rest = rest.partition(b"\n")[2]
    header, _, rest = rest.partition(b"\n")
    if header != b"|".join(gens):
        return None
    meta, _, body = rest.partition(b"\n")
    try:
        expires, delta, etag, splice = meta.split(b" ", 3)
        return Entry(body, etag.decode(), int(expires), int(delta), splice)
    except ValueError:
        return None


def personalise(entry: Entry, rsvp_ids: set, reminder_ids: set) -> bytes:
    """``entry``'s body with ``hasRSVP``/``hasReminder`` of one caller spliced into the
    bytes where the family laid them out (events), still without decoding the JSON."""
    body = entry.body
    if entry.splice == NO_SPLICE:
        return body
    out = bytearray()
    start = 0
    for item_id, offset in orjson.loads(entry.splice):
        out += body[start:offset]
        out += _flags(item_id in rsvp_ids, item_id in reminder_ids)
        start = offset
    out += body[start:]
    return bytes(out)


_FLAGS = {
    (a, b): b',"hasRSVP":%s,"hasReminder":%s'
    % (b"true" if a else b"false", b"true" if b else b"false")
    for a in (True, False)
    for b in (True, False)
}


def _flags(rsvp: bool, reminder: bool) -> bytes:
    return _FLAGS[(rsvp, reminder)]
