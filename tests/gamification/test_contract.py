"""/api/gamification against docs/api.md#gamification, route by route: the {success, data} envelope,
exact key sets and types, and bad input answered as a 4xx in the shape of docs/api.md#errors."""

import pytest
from rest_framework.test import APIClient

from gamification.models import UserStats
from tests.factories import UserBadgeFactory, UserStatsFactory
from tests.helpers import assert_error, data_of

pytestmark = pytest.mark.django_db

STATS = {"xp", "level", "xpForNextLevel", "xpProgress", "currentStreak", "longestStreak", "rank"}
BADGE = {"id", "code", "name", "description", "icon", "category", "xpReward", "threshold",
         "isUnlocked"}  # fmt: skip
ENTRY = {"rank", "userId", "nombre", "avatar", "xp", "level"}


def assert_stats(data: dict) -> None:
    assert set(data) == STATS
    assert isinstance(data["xpProgress"], float)
    assert all(type(data[k]) is int for k in STATS - {"xpProgress"})


def test_me_stats_contract(auth_client):
    assert_stats(data_of(auth_client.get("/api/gamification/me/stats")))


@pytest.mark.parametrize("url", ["/api/gamification/me/badges", "/api/gamification/badges"])
def test_me_badges_contract(auth_client, user, catalogue, url):
    UserBadgeFactory(user=user, badge=catalogue["FIRST_RSVP"])

    badges = data_of(auth_client.get(url))

    assert len(badges) == len(catalogue)
    unlocked = [b for b in badges if b["isUnlocked"]]
    assert [b["code"] for b in unlocked] == ["FIRST_RSVP"]
    assert set(unlocked[0]) == BADGE | {"unlockedAt"}
    assert unlocked[0]["unlockedAt"].endswith("Z")
    assert all(set(b) == BADGE for b in badges if not b["isUnlocked"])  # unlockedAt omitted


@pytest.mark.parametrize("url", ["/api/gamification/me/check-in", "/api/gamification/check-in"])
def test_check_in_contract(auth_client, url):
    data = data_of(auth_client.generic("POST", url))

    assert set(data) == {"streak", "isNewDay", "xpAwarded", "newBadges"}
    assert data["newBadges"] == []


def test_user_stats_contract(api_client, user):
    UserStatsFactory(user=user, xp=150)

    data = data_of(api_client.get(f"/api/gamification/users/{user.pk}/stats"))

    assert_stats(data)
    assert data["level"] == 2 and data["xpProgress"] == 25.0


def test_user_badges_contract(api_client, user, catalogue):
    UserBadgeFactory(user=user, badge=catalogue["FIRST_REVIEW"])

    badges = data_of(api_client.get(f"/api/gamification/users/{user.pk}/badges"))

    assert [set(b) for b in badges] == [BADGE | {"unlockedAt"}]


def test_leaderboard_contract(api_client):
    UserStatsFactory(xp=300)
    UserStatsFactory(xp=0)

    data = data_of(api_client.get("/api/gamification/leaderboard"))

    assert set(data) == {"entries", "total"}
    assert data["total"] == 2
    assert [set(e) for e in data["entries"]] == [ENTRY, ENTRY]
    assert [(e["rank"], e["xp"], e["level"]) for e in data["entries"]] == [(1, 300, 3), (2, 0, 1)]


# --- ids that cannot exist ------------------------------------------------------------
@pytest.mark.parametrize("user_id", ["%00", "a%00b", "c" * 33, "x" * 3000])
def test_impossible_user_id_stats_is_404_not_500(api_client, user_id):
    r = api_client.get(f"/api/gamification/users/{user_id}/stats")

    assert_error(r, 404, "Usuario no encontrado")
    assert not UserStats.objects.exists()


@pytest.mark.parametrize("user_id", ["%00", "a%00b", "c" * 33, "demo_user_id"])
def test_impossible_or_unknown_user_id_badges_is_an_empty_list(api_client, user_id):
    assert data_of(api_client.get(f"/api/gamification/users/{user_id}/badges")) == []


# --- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=1.5", "page=2.0", "page=abc", "page=", "page=1e3",
    "limit=0", "limit=101", "limit=1.5", "limit=999999999999", "limit=%00",
])  # fmt: skip
def test_leaderboard_bad_page_or_limit_is_400(api_client, query):
    body = assert_error(api_client.get(f"/api/gamification/leaderboard?{query}"), 400)

    assert body["details"][0]["field"] == query.split("=")[0]


@pytest.mark.parametrize(("raw", "content_type"), [
    (b"{not json", "application/json"), (b"", "application/json"), (b"[]", "application/json"),
    (b"null", "application/json"), (b"\xff", "application/json"), (b"<x/>", "text/xml"),
])  # fmt: skip
def test_check_in_ignores_whatever_body_it_gets(auth_client, raw, content_type):
    # The check-in takes no body (docs/api.md#routing): a stray one is never parsed, never
    # a 4xx/5xx.
    r = auth_client.generic("POST", "/api/gamification/me/check-in", raw, content_type=content_type)

    assert data_of(r)["isNewDay"] is True


def test_demo_token_on_public_routes_is_anonymous(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer demo_token_1700000000")

    for url in (
        "/api/gamification/leaderboard",
        f"/api/gamification/users/{user.pk}/badges",
    ):
        assert client.get(url).status_code == 200
    assert_error(client.get("/api/gamification/me/stats"), 401, "No autorizado")


# The tables of docs/api.md#badges: code -> (category, threshold, xpReward), in the response order
# (category in enum declaration order, then threshold).
CATALOGUE = [
    ("FIRST_STORY", "STORIES", 1, 50), ("STORIES_10", "STORIES", 10, 100),
    ("STORIES_50", "STORIES", 50, 250), ("STORIES_100", "STORIES", 100, 500),
    ("FOLLOWERS_10", "SOCIAL", 10, 75), ("FOLLOWERS_50", "SOCIAL", 50, 150),
    ("FOLLOWERS_100", "SOCIAL", 100, 300), ("FOLLOWERS_500", "SOCIAL", 500, 750),
    ("FIRST_BOOKING", "ENGAGEMENT", 1, 50), ("FIRST_REVIEW", "ENGAGEMENT", 1, 25),
    ("FIRST_RSVP", "ENGAGEMENT", 1, 25), ("BOOKINGS_5", "ENGAGEMENT", 5, 150),
    ("RSVPS_10", "ENGAGEMENT", 10, 100), ("COMMENTS_50", "ENGAGEMENT", 50, 150),
    ("LIKES_100", "ENGAGEMENT", 100, 100), ("LIKES_500", "ENGAGEMENT", 500, 300),
    ("STREAK_7", "STREAK", 7, 100), ("STREAK_30", "STREAK", 30, 300),
    ("STREAK_100", "STREAK", 100, 1000),
    ("EARLY_ADOPTER", "SPECIAL", 1, 100), ("GUELAGUETZA_2024", "SPECIAL", 1, 200),
]  # fmt: skip


def test_catalogue_is_the_canonical_one_in_category_then_threshold_order(auth_client):  # [F9]
    # Made by the data migration 0002 (re-created here: transaction=True tests truncate).
    from gamification.catalogue import ensure_catalogue
    from gamification.models import Badge

    ensure_catalogue(Badge)

    badges = data_of(auth_client.get("/api/gamification/me/badges"))

    got = [(b["code"], b["category"], b["threshold"], b["xpReward"]) for b in badges]
    key = [(cat, threshold) for _, cat, threshold, _ in got]
    assert key == [(cat, threshold) for _, cat, threshold, _ in CATALOGUE]  # the order
    assert sorted(got) == sorted(CATALOGUE)  # the rows (ties within a threshold: any order)
