"""JSON out, fast: the API renders every body with orjson.

A cache hit's payload is already JSON-ready, so rendering it is most of the work left
after the Redis round trip; the standard encoder behind DRF's JSONRenderer costs several
times orjson's on a leaderboard page. Anything orjson does not encode natively (Decimal,
lazy translations, and datetimes, passed through on purpose so they keep DRF's
JS-style ``...000Z`` form) goes to DRF's own encoder, so bodies stay identical.
"""

from __future__ import annotations

import orjson
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_fallback = JSONEncoder().default
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class ORJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_fallback, option=_OPTIONS)


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """The API speaks JSON only: skip parsing Accept headers on every request (DRF's
    documented 'ignore client' negotiation) when a view has one renderer; parsers still
    follow Content-Type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) == 1:  # every API view; the schema views offer YAML and JSON
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
