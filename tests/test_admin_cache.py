"""/admin/cache/: the cache page of the Django admin (staff only, CSRF-protected POSTs).

The browser-level walk through it is tests/test_admin_browser.py.
"""

import logging
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from guelaguetza.cache import FAMILIES, cache, keys
from guelaguetza.cache.metrics import hit_rate, totals
from guelaguetza.cache_actions import family_glob, family_target, namespace_target
from tests.factories import UserFactory, UserStatsFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin/cache/"


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, email="staff@example.mx")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def row(page, family: str) -> str:
    html = page.content.decode()
    return re.search(rf'<tr id="family-{family}">(.*?)</tr>', html, re.S).group(1)


def live_count(page, family: str) -> int:
    return int(re.search(r'class="num count">(\d+)<', row(page, family)).group(1))


# -- access ------------------------------------------------------------------------------
def test_anonymous_callers_go_to_the_admin_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/cache/"


def test_signed_in_non_staff_users_go_to_the_admin_login(client):
    client.force_login(UserFactory())
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(PAGE, {"action": "family", "family": "user_stats"}).status_code == 302


def test_the_admin_index_links_to_the_cache_page(staff_client):
    assert b'href="/admin/cache/"' in staff_client.get("/admin/").content


# -- what it shows -------------------------------------------------------------------------
def test_every_family_with_its_template_ttl_live_count_and_hit_rate(staff_client):
    for u in ("a", "b", "c"):
        cache.set(keys.user_stats(user_id=u), 1)
    cache.wrap(keys.badges_all(), lambda: [])  # a miss, then a hit
    cache.wrap(keys.badges_all(), lambda: [])
    page = staff_client.get(PAGE)
    assert page.status_code == 200
    t = totals()
    for name, family in FAMILIES.items():
        cells = row(page, name)
        assert f"<code>{family.template}</code>" in cells
        assert f"{settings.CACHE_TTLS[name]} s" in cells
        rate = hit_rate(t["hits"][family.service], t["misses"][family.service])
        assert f"{rate} %" in cells
    assert live_count(page, "user_stats") == 3
    assert live_count(page, "badges_all") == 1
    assert live_count(page, "user_rank") == 0


def test_redis_health_and_breaker_state_are_shown(staff_client):
    html = staff_client.get(PAGE).content.decode()
    assert re.search(r'id="redis-health"[^>]*>ok<', html)
    assert re.search(r'id="breaker-state"[^>]*>closed<', html)


def test_with_redis_down_the_page_still_renders_and_says_so(staff_client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        page = staff_client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'id="redis-health"[^>]*>unavailable<', html)
    assert 'class="num count">unavailable<' in row(page, "user_stats")


# -- actions -------------------------------------------------------------------------------
def test_invalidating_a_per_entity_family_unlinks_its_keys_and_is_logged(
    staff_client, staff, caplog
):
    for u in range(5):
        cache.set(keys.user_stats(user_id=f"u{u}"), 1)
    cache.set(keys.user_rank(user_id="u1"), 7)
    with caplog.at_level(logging.INFO, logger="guelaguetza.admin_cache"):
        response = staff_client.post(PAGE, {"action": "family", "family": "user_stats"})
    assert response.status_code == 302 and response["Location"] == PAGE
    page = staff_client.get(PAGE)
    assert live_count(page, "user_stats") == 0
    assert "user_stats: 5 keys unlinked" in page.content.decode()
    assert cache.get(keys.user_rank(user_id="u1")) == 7  # another family: untouched
    assert "staff@example.mx" in caplog.text and f"id {staff.pk}" in caplog.text
    assert "family user_stats" in caplog.text


def test_invalidating_a_namespaced_family_makes_its_pages_miss_in_one_bump(
    staff_client, django_assert_num_queries
):
    UserStatsFactory(xp=10)
    api = APIClient()
    api.get("/api/gamification/leaderboard")
    with django_assert_num_queries(0):
        api.get("/api/gamification/leaderboard")
    cache.set(keys.user_stats(user_id="u1"), 1)
    staff_client.post(PAGE, {"action": "family", "family": "leaderboard_page"})
    with CaptureQueriesContext(connection) as ctx:
        api.get("/api/gamification/leaderboard")
    assert ctx.captured_queries  # read from PostgreSQL again
    assert cache.get(keys.user_stats(user_id="u1")) == 1


def test_invalidating_an_entity_namespace_clears_only_that_entity(staff_client, caplog):
    for u in ("123", "456"):
        cache.set(keys.user_stats(user_id=u), 1)
        cache.set(keys.user_badges(user_id=u), [])
    with caplog.at_level(logging.INFO, logger="guelaguetza.admin_cache"):
        response = staff_client.post(PAGE, {"action": "namespace", "namespace": " user:123 "})
    assert response.status_code == 302
    assert cache.get(keys.user_stats(user_id="123")) is None
    assert cache.get(keys.user_badges(user_id="123")) is None
    assert cache.get(keys.user_stats(user_id="456")) == 1
    assert "namespace user:123 (user:123:*)" in caplog.text


@pytest.mark.parametrize(
    "data",
    [
        {"action": "namespace", "namespace": "nope:1"},
        {"action": "namespace", "namespace": "user:*"},
        {"action": "namespace", "namespace": ""},
        {"action": "family", "family": "nope"},
        {"action": "drop-everything"},
        {},
    ],
)
def test_bad_actions_are_a_400_and_invalidate_nothing(staff_client, data):
    cache.set(keys.user_stats(user_id="1"), 1)
    response = staff_client.post(PAGE, data)
    assert response.status_code == 400
    assert b'id="cache-error"' in response.content
    assert cache.get(keys.user_stats(user_id="1")) == 1


def test_posts_without_the_csrf_token_are_refused(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    cache.set(keys.user_stats(user_id="1"), 1)
    assert client.post(PAGE, {"action": "family", "family": "user_stats"}).status_code == 403
    assert cache.get(keys.user_stats(user_id="1")) == 1


# -- how a family is invalidated -------------------------------------------------------
@pytest.mark.parametrize(
    ("family", "pattern"),
    [
        ("leaderboard_page", "leaderboard:page:*"),
        ("experiences_list", "experiences:list:*"),
        ("events_list", "events:list:*"),
        ("badges_all", "badges:all:*"),  # not "badges": every user's badges carry it too
        ("config", "config:*"),
        ("user_stats", "user:*:stats"),
        ("user_badges", "user:*:badges"),
        ("experience_slots", "experience:*:slots:*:*"),
    ],
)
def test_a_family_is_its_own_namespace_when_it_has_one_else_its_glob(family, pattern):
    assert family_target(FAMILIES[family]).pattern == pattern


def test_a_family_target_clears_every_key_of_its_family_and_no_other():
    for family in FAMILIES.values():
        target = family_target(family)
        if target.scans:
            assert target.value == family_glob(family)
            continue
        for other in FAMILIES.values():
            sample = other.key(**dict.fromkeys(other.params, "7"))
            assert (target.value in sample.namespaces) == (other is family), other.name


def test_namespace_input_accepts_the_star_form_too():
    assert namespace_target("experience:42:*").value == "experience:42"
    assert namespace_target("event:7").value == "event:7"
