"""Every cached read: hit/miss (query counts), freshness after the write that clears it
(real signal + on_commit, so transaction=True), and the receivers' wiring."""

import pytest
from django.db.models.signals import post_delete, post_save
from rest_framework.test import APIClient

from gamification import services
from gamification.catalogue import ensure_catalogue
from gamification.models import Badge, UserBadge, UserStats
from guelaguetza.cache import cache, keys
from tests.factories import UserFactory, UserStatsFactory
from tests.helpers import client_for

STATS = "/api/gamification/me/stats"
BADGES = "/api/gamification/me/badges"
BOARD = "/api/gamification/leaderboard"


# -- hit / miss ------------------------------------------------------------------------
@pytest.mark.django_db
def test_me_stats_miss_reads_db_then_hits_cache(auth_client, user, django_assert_num_queries):
    UserStatsFactory(user=user, xp=150)
    with django_assert_num_queries(2):  # the row, then the rank count
        first = auth_client.get(STATS).json()
    with django_assert_num_queries(0):
        assert auth_client.get(STATS).json() == first
    assert cache.get(keys.user_stats(user_id=user.pk))["xp"] == 150
    assert cache.get(keys.user_rank(user_id=user.pk)) == 1


@pytest.mark.django_db
def test_me_badges_miss_reads_db_then_hits_cache(auth_client, catalogue, django_assert_num_queries):
    with django_assert_num_queries(2):  # catalogue (badges:all) + the user's unlocks
        first = auth_client.get(BADGES).json()
    with django_assert_num_queries(0):
        assert auth_client.get(BADGES).json() == first
    assert len(cache.get(keys.badges_all())) == 21


@pytest.mark.django_db
def test_user_badges_route_shares_the_users_cached_list(
    api_client, user, catalogue, django_assert_num_queries
):
    api_client.get(f"/api/gamification/users/{user.pk}/badges")
    with django_assert_num_queries(0):
        api_client.get(f"/api/gamification/users/{user.pk}/badges")
    assert len(cache.get(keys.user_badges(user_id=user.pk))) == 21


@pytest.mark.django_db
def test_leaderboard_miss_reads_db_then_hits_cache(api_client, django_assert_num_queries):
    UserStatsFactory(xp=10)
    with django_assert_num_queries(3):  # page rows, their users, total
        first = api_client.get(f"{BOARD}?page=1&limit=5").json()
    with django_assert_num_queries(0):
        assert api_client.get(f"{BOARD}?page=1&limit=5").json() == first
    assert cache.get(keys.leaderboard_page(page=1, limit=5)) == first["data"]


@pytest.mark.django_db
def test_unknown_user_stats_404_is_not_cached(api_client, django_assert_num_queries):
    for _ in range(2):
        with django_assert_num_queries(2):  # stats row, then user existence
            assert api_client.get("/api/gamification/users/nobody/stats").status_code == 404


# -- read-your-writes through signals and on_commit -------------------------------------
@pytest.mark.django_db(transaction=True)
def test_checkin_then_me_stats_and_leaderboard_are_fresh_db_once_then_cache(
    django_assert_num_queries,
):
    me, rival = UserFactory(), UserFactory()
    UserStatsFactory(user=me, xp=0)
    UserStatsFactory(user=rival, xp=5)
    client, anon = client_for(me), APIClient()
    assert client.get(STATS).json()["data"]["rank"] == 2
    assert [e["userId"] for e in anon.get(BOARD).json()["data"]["entries"]] == [rival.pk, me.pk]

    assert client.post("/api/gamification/me/check-in").json()["data"]["xpAwarded"] == 10

    with django_assert_num_queries(2):
        data = client.get(STATS).json()["data"]
    assert (data["xp"], data["rank"], data["currentStreak"]) == (10, 1, 1)
    with django_assert_num_queries(0):
        assert client.get(STATS).json()["data"] == data
    with django_assert_num_queries(3):
        entries = anon.get(BOARD).json()["data"]["entries"]
    assert [(e["userId"], e["rank"], e["xp"]) for e in entries] == [
        (me.pk, 1, 10),
        (rival.pk, 2, 5),
    ]
    with django_assert_num_queries(0):
        anon.get(BOARD)


@pytest.mark.django_db(transaction=True)
def test_xp_add_makes_public_stats_fresh():
    user = UserFactory()
    url = f"/api/gamification/users/{user.pk}/stats"
    assert APIClient().get(url).json()["data"]["xp"] == 0
    services.xp_add(user=user, amount=300, reason="test")
    data = APIClient().get(url).json()["data"]
    assert (data["xp"], data["level"]) == (300, 3)


@pytest.mark.django_db(transaction=True)
def test_badge_award_makes_badges_and_stats_fresh():
    ensure_catalogue(Badge)
    user = UserFactory()
    client = client_for(user)
    client.get(STATS)
    assert not any(b["isUnlocked"] for b in client.get(BADGES).json()["data"])
    services.badge_award(user=user, badge=Badge.objects.get(code="EARLY_ADOPTER"))
    unlocked = [b["code"] for b in client.get(BADGES).json()["data"] if b["isUnlocked"]]
    assert unlocked == ["EARLY_ADOPTER"]
    assert client.get(STATS).json()["data"]["xp"] == 100


@pytest.mark.django_db(transaction=True)
def test_user_badge_delete_makes_badges_fresh():
    ensure_catalogue(Badge)
    user = UserFactory()
    user_badge, _ = services.badge_award(user=user, badge=Badge.objects.get(code="FIRST_RSVP"))
    url = f"/api/gamification/users/{user.pk}/badges"
    assert len(APIClient().get(url).json()["data"]) == 1
    user_badge.delete()
    assert APIClient().get(url).json()["data"] == []


@pytest.mark.django_db(transaction=True)
def test_badge_catalogue_edit_makes_every_users_badges_fresh():
    ensure_catalogue(Badge)
    users = [UserFactory(), UserFactory()]
    for user in users:
        client_for(user).get(BADGES)
    badge = Badge.objects.get(code="STREAK_7")
    badge.name = "Semana completa"
    badge.save()
    for user in users:
        names = {b["code"]: b["name"] for b in client_for(user).get(BADGES).json()["data"]}
        assert names["STREAK_7"] == "Semana completa"


@pytest.mark.django_db(transaction=True)
def test_stats_delete_makes_stats_fresh():
    user = UserFactory()
    UserStatsFactory(user=user, xp=700)
    url = f"/api/gamification/users/{user.pk}/stats"
    assert APIClient().get(url).json()["data"]["xp"] == 700
    UserStats.objects.get(user=user).delete()
    assert APIClient().get(url).json()["data"]["xp"] == 0


@pytest.mark.django_db(transaction=True)
def test_profile_change_makes_leaderboard_fresh():
    user = UserFactory(nombre="Antes")
    UserStatsFactory(user=user, xp=10)
    assert APIClient().get(BOARD).json()["data"]["entries"][0]["nombre"] == "Antes"
    user.nombre = "Después"
    user.save()
    assert APIClient().get(BOARD).json()["data"]["entries"][0]["nombre"] == "Después"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_xp_invalidates_nothing_and_leaves_no_xp():
    from django.db import transaction

    user = UserFactory()
    UserStatsFactory(user=user, xp=40)
    key = keys.user_stats(user_id=user.pk)
    APIClient().get(f"/api/gamification/users/{user.pk}/stats")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.xp_add(user=user, amount=60, reason="test")
        raise RuntimeError
    assert cache.get(key)["xp"] == 40
    assert UserStats.objects.get(user=user).xp == 40


# -- wiring ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("signal", "sender", "uid"),
    [
        (post_save, UserStats, "guelaguetza.cache.dependencies._after_save.gamification.UserStats"),
        (
            post_delete,
            UserStats,
            "guelaguetza.cache.dependencies._after_delete.gamification.UserStats",
        ),
        (post_save, UserBadge, "guelaguetza.cache.dependencies._after_save.gamification.UserBadge"),
        (
            post_delete,
            UserBadge,
            "guelaguetza.cache.dependencies._after_delete.gamification.UserBadge",
        ),
        (post_save, Badge, "guelaguetza.cache.dependencies._after_save.gamification.Badge"),
        (post_delete, Badge, "guelaguetza.cache.dependencies._after_delete.gamification.Badge"),
    ],
)
def test_invalidation_receivers_are_connected(signal, sender, uid):
    assert any(entry[0] == (uid, id(sender)) for entry in signal.receivers)


# -- ids the key registry would normalise ------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("variant", ["{id} ", "{ID}%20", "%EF%BD%83{rest}"])
def test_id_variant_never_reads_or_plants_the_users_cached_badges(
    api_client, auth_client, user, catalogue, variant
):
    # " x", "X " and a full-width first letter all normalise (strip, case-fold, NFKC) to
    # the real id: served under its key, a stranger's empty list would replace the
    # user's badges for a whole TTL, and the user's would answer for an unknown id.
    services.badge_award(user=user, badge=catalogue["FIRST_STORY"])
    url_id = variant.format(id=user.pk, ID=user.pk.upper(), rest=user.pk[1:])
    assert user.pk.startswith("c")

    assert api_client.get(f"/api/gamification/users/{url_id}/badges").json()["data"] == []
    mine = auth_client.get(BADGES).json()["data"]
    assert [b["code"] for b in mine if b["isUnlocked"]] == ["FIRST_STORY"]
    assert api_client.get(f"/api/gamification/users/{url_id}/badges").json()["data"] == []


@pytest.mark.django_db
def test_id_variant_is_404_even_when_the_users_stats_are_cached(api_client, auth_client, user):
    UserStatsFactory(user=user, xp=150)
    auth_client.get(STATS)
    assert cache.get(keys.user_stats(user_id=user.pk))["xp"] == 150

    response = api_client.get(f"/api/gamification/users/{user.pk}%20/stats")

    assert response.status_code == 404
