"""The key tree: names exactly as docs/cache.md#key-tree documents them, TTLs from settings with
jitter, free text normalised, every invalidation-map entry valid."""

import math
import os
import subprocess
import sys

import pytest
from django.conf import settings

from guelaguetza.cache import CASCADES, FAMILIES, cache, keys
from guelaguetza.cache.registry import free_text, namespace_of, resolve

EXAMPLES = {
    "badges_all": ({}, "badges:all"),
    "user_badges": ({"user_id": "u1"}, "user:u1:badges"),
    "user_auth": ({"user_id": "u1"}, "user:u1:auth"),
    "user_stats": ({"user_id": "u1"}, "user:u1:stats"),
    "user_rank": ({"user_id": "u1"}, "user:u1:rank"),
    "user_rsvps": ({"user_id": "u1"}, "user:u1:rsvps"),
    "user_rsvp_ids": ({"user_id": "u1"}, "user:u1:rsvpids"),
    "leaderboard_page": ({"page": 2, "limit": 20}, "leaderboard:page:2:limit:20"),
    "experience_detail": ({"experience_id": "x9"}, "experience:x9:detail"),
    "experience_slots": (
        {"experience_id": "x9", "start": "2026-07-01", "end": "2026-07-31"},
        "experience:x9:slots:2026-07-01:2026-07-31",
    ),
    "experiences_list": (
        {
            "category": "GASTRONOMIA",
            "min_price": 100,
            "max_price": None,
            "date": "2026-07-20",
            "q": "Mole Negro",
            "page": 1,
            "limit": 10,
        },
        "experiences:list:cat:GASTRONOMIA:min:100:max:none:date:2026-07-20:q:mole+negro"
        ":page:1:limit:10",
    ),
    "event_detail": ({"event_id": "e7"}, "event:e7:detail"),
    "events_list": (
        {"category": None, "start": None, "end": None, "page": 1, "limit": 20},
        "events:list:cat:none:start:none:end:none:page:1:limit:20",
    ),
    "config": ({"name": "festival"}, "config:festival"),
}


def test_every_family_of_the_tree_is_declared_with_its_documented_key():
    assert set(FAMILIES) == set(EXAMPLES)
    for name, (params, expected) in EXAMPLES.items():
        key = getattr(keys, name)(**params)
        assert key == expected
        assert resolve(expected).family.name == name


def test_redis_holds_exactly_the_documented_names_under_the_prefix(redis_client):
    for name, (params, _) in EXAMPLES.items():
        cache.wrap(getattr(keys, name)(**params), lambda: {"ok": True})
    stored = {
        n.decode()
        for n in redis_client.scan_iter("guelaguetza:*")
        if not n.startswith(b"guelaguetza:gen:")
    }
    assert stored == {"guelaguetza:" + expected for _, expected in EXAMPLES.values()}


def test_ttls_come_from_settings_within_the_jitter_band():
    jitter = settings.CACHE_TTL_JITTER
    for name, (params, _) in EXAMPLES.items():
        key = getattr(keys, name)(**params)
        cache.wrap(key, lambda: 1)
        ttl = settings.CACHE_TTLS[name]
        low, high = math.floor(ttl * (1 - jitter)) - 1, math.ceil(ttl * (1 + jitter))
        assert low <= cache.ttl(key) <= high, name


def test_ttls_are_read_at_call_time(settings):
    settings.CACHE_TTLS = {**settings.CACHE_TTLS, "user_stats": 7}
    settings.CACHE_TTL_JITTER = 0
    key = keys.user_stats(user_id="u1")
    cache.wrap(key, lambda: 1)
    assert cache.ttl(key) == 7
    cache.wrap(keys.user_rank(user_id="u1"), lambda: 1, ttl=3)
    assert cache.ttl(keys.user_rank(user_id="u1")) == 3


def test_ttls_are_overridable_from_the_environment():
    env = {**os.environ, "CACHE_TTL_EVENTS_LIST": "42"}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; "
         "print(s.CACHE_TTLS['events_list'], s.CACHE_TTLS['config'])"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert out.stdout.split() == ["42", "7200"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Mole   NEGRO ", "mole+negro"),
        ("\uff2d\uff45\uff5a\uff43\uff41\uff4c", "mezcal"),  # NFKC: full-width letters
        ("", "none"),
    ],
)
def test_free_text_is_normalised(text, expected):
    assert free_text(text) == expected


def test_a_search_term_is_normalised_whatever_its_case_or_spacing():
    def q(term):
        key = keys.experiences_list(
            category=None, min_price=None, max_price=None, date=None, q=term, page=1, limit=10
        )
        return str(key).split(":q:")[1].split(":page:")[0]

    assert q("Mole") == q("mole") == q(" MOLE ") == "mole"
    assert q(None) == q("") == "none"


def test_a_search_never_shares_a_key_with_no_search_or_with_a_hashed_search():
    def q(term):
        key = keys.experiences_list(
            category=None, min_price=None, max_price=None, date=None, q=term, page=1, limit=10
        )
        return str(key).split(":q:")[1].split(":page:")[0]

    long_term = "x" * 100
    assert q("none") not in (q(None), "none")
    assert q(q(long_term)) != q(long_term)  # a search typed as the hash of another
    assert q("mole negro") != q("mole+negro")


@pytest.mark.parametrize("term", ["Mole Negro", None, "none", "x" * 100])
def test_a_key_string_resolves_to_that_same_key(term):
    key = keys.experiences_list(
        category="TOUR", min_price=None, max_price=1.5, date=None, q=term, page=1, limit=10
    )
    resolved = resolve(str(key))
    assert resolved == key and resolved.namespaces == key.namespaces
    for name, (_, example) in EXAMPLES.items():
        assert resolve(example) == example and resolve(example).family.name == name


@pytest.mark.parametrize(
    "odd", ["\uff2d\uff45", "me ", " me", "ME", "m e", "me:stats", "me\x00", "é" * 100]
)
def test_ids_are_never_normalised_so_two_ids_never_share_a_key(odd):
    key = keys.user_stats(user_id=odd)
    assert key != keys.user_stats(user_id="me")
    assert key.count(":") == 2 and len(key) < 40  # bounded, one segment
    assert key == keys.user_stats(user_id=odd)  # and stable
    assert resolve(str(key)) == key


def test_long_or_unsafe_free_text_is_hashed_to_a_bounded_segment():
    long = keys.experiences_list(
        category=None, min_price=None, max_price=None, date=None, q="x" * 500, page=1, limit=10
    )
    colon = keys.experiences_list(
        category=None, min_price=None, max_price=None, date=None, q="a:b:*", page=1, limit=10
    )
    for key in (long, colon):
        q = str(key).split(":q:")[1].split(":page:")[0]
        assert q.startswith("h") and len(q) == 17
        assert str(key).count(":") == str(long).count(":")
    assert len(long) < 150


@pytest.mark.parametrize(
    "pattern",
    ["leaderboard:*", "user:123:*", "experience:42:*", "experiences:*", "events:list:*",
     "experience:42:slots:*", "badges:*"],
)  # fmt: skip
def test_every_prefix_pattern_of_the_tree_is_an_o1_namespace(pattern):
    assert namespace_of(pattern) == pattern[:-2]


@pytest.mark.parametrize("pattern", ["user:*:stats", "*", "leader*", "nope:*", "user:1"])
def test_other_globs_are_not_namespaces(pattern):
    assert namespace_of(pattern) is None


def test_every_cascade_entry_is_a_key_or_namespace_of_the_tree():
    ids = {"user_id": "u1", "event_id": "e1", "experience_id": "x1"}
    for name, targets in CASCADES.items():
        for target in targets:
            value = target.format(**ids)
            if value.endswith(":*"):
                assert namespace_of(value) is not None, (name, target)
            else:
                assert resolve(value), (name, target)
