import pytest

from gamification.models import CATEGORY_RANK, UserStats
from tests.factories import UserBadgeFactory, UserFactory, UserStatsFactory
from tests.helpers import client_for

ME_ROUTES = [
    ("get", "/api/gamification/me/stats"),
    ("get", "/api/gamification/me/badges"),
    ("get", "/api/gamification/badges"),
    ("post", "/api/gamification/me/check-in"),
    ("post", "/api/gamification/check-in"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), ME_ROUTES)
def test_caller_routes_need_auth(api_client, method, url):
    response = getattr(api_client, method)(url)
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "error": "No autorizado",
        "message": "No autorizado",
    }


@pytest.mark.django_db
def test_me_stats_creates_the_row_and_returns_zeros_in_the_envelope(auth_client, user):
    response = auth_client.get("/api/gamification/me/stats")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": {
            "xp": 0,
            "level": 1,
            "xpForNextLevel": 100,
            "xpProgress": 0.0,
            "currentStreak": 0,
            "longestStreak": 0,
            "rank": 1,
        },
    }
    assert UserStats.objects.filter(user=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/gamification/me/check-in", "/api/gamification/check-in"])
def test_check_in_accepts_no_body_and_no_content_type(auth_client, url):
    response = auth_client.generic("POST", url)  # no body, so no CONTENT_TYPE at all
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": {"streak": 1, "isNewDay": True, "xpAwarded": 10, "newBadges": []},
    }
    again = auth_client.generic("POST", url).json()["data"]
    assert (again["isNewDay"], again["xpAwarded"]) == (False, 0)


@pytest.mark.django_db
def test_check_in_returns_new_badges_unlocked(auth_client, user, catalogue):
    import datetime as dt

    from gamification.services import festival_today

    yesterday = festival_today() - dt.timedelta(days=1)
    UserStatsFactory(user=user, current_streak=6, longest_streak=6, last_visit_date=yesterday)
    data = auth_client.post("/api/gamification/me/check-in").json()["data"]
    assert data["streak"] == 7
    [badge] = data["newBadges"]
    assert badge["code"] == "STREAK_7" and badge["isUnlocked"] is True
    assert badge["unlockedAt"].endswith("Z")


@pytest.mark.django_db
def test_me_badges_lists_every_badge_in_category_then_threshold_order(auth_client, user, catalogue):
    UserBadgeFactory(user=user, badge=catalogue["STREAK_7"])
    data = auth_client.get("/api/gamification/me/badges").json()["data"]
    assert len(data) == 21
    order = [(CATEGORY_RANK[b["category"]], b["threshold"]) for b in data]
    assert order == sorted(order)
    assert [b["category"] for b in data][:1] == ["STORIES"]  # not alphabetical (ENGAGEMENT)
    unlocked = [b for b in data if b["isUnlocked"]]
    assert [b["code"] for b in unlocked] == ["STREAK_7"]
    assert unlocked[0]["unlockedAt"].endswith("Z")
    assert all("unlockedAt" not in b for b in data if not b["isUnlocked"])
    assert set(data[0]) == {
        "id", "code", "name", "description", "icon", "category", "xpReward", "threshold",
        "isUnlocked",
    }  # fmt: skip


@pytest.mark.django_db
def test_badges_alias_is_identical_to_me_badges(auth_client, catalogue):
    assert auth_client.get("/api/gamification/badges").json() == (
        auth_client.get("/api/gamification/me/badges").json()
    )


@pytest.mark.django_db
def test_user_badges_lists_only_unlocked_ones(api_client, user, catalogue):
    UserBadgeFactory(user=user, badge=catalogue["FIRST_RSVP"])
    data = api_client.get(f"/api/gamification/users/{user.pk}/badges").json()["data"]
    assert [b["code"] for b in data] == ["FIRST_RSVP"]


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", ["cunknown000000000000000000", "user_1", "x" * 300])
def test_unknown_user_badges_is_an_empty_list(api_client, user_id, catalogue):
    response = api_client.get(f"/api/gamification/users/{user_id}/badges")
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": []}


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", ["cunknown000000000000000000", "demo_user_id", "x" * 300])
def test_unknown_user_stats_is_404_and_writes_nothing(api_client, user_id):
    response = api_client.get(f"/api/gamification/users/{user_id}/stats")
    assert response.status_code == 404
    assert response.json()["success"] is False
    assert response.json()["message"] == "Usuario no encontrado"
    assert UserStats.objects.count() == 0


@pytest.mark.django_db
def test_known_user_without_stats_gets_zeros_and_no_row(api_client, user):
    data = api_client.get(f"/api/gamification/users/{user.pk}/stats").json()["data"]
    assert (data["xp"], data["level"], data["currentStreak"], data["rank"]) == (0, 1, 0, 1)
    assert not UserStats.objects.filter(user=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=abc", "page=1.5", "page=2.0", "page=", "limit=0",
     "limit=101", "limit=x", "limit=2.5", "page=99999999999999999999"],
)  # fmt: skip
def test_leaderboard_rejects_bad_page_and_limit_with_400_json(api_client, query):
    response = api_client.get(f"/api/gamification/leaderboard?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error"] == body["message"]
    assert body["details"][0]["field"] in {"page", "limit"}


@pytest.mark.django_db
def test_leaderboard_accepts_limit_100(api_client):
    assert api_client.get("/api/gamification/leaderboard?limit=100&page=3").status_code == 200


@pytest.fixture
def tied_players(db):
    """xp 500, 300, 300, 300, 0: competition ranks 1, 2, 2, 2, 5."""
    players = [UserStatsFactory(xp=xp).user for xp in (500, 300, 300, 300, 0)]
    return sorted(players, key=lambda u: (-u.stats.xp, u.pk))


@pytest.mark.django_db
def test_leaderboard_competition_ranks_ties_by_user_id_and_counts_zero_xp(api_client, tied_players):
    data = api_client.get("/api/gamification/leaderboard").json()["data"]
    assert data["total"] == 5
    assert [e["rank"] for e in data["entries"]] == [1, 2, 2, 2, 5]
    assert [e["userId"] for e in data["entries"]] == [u.pk for u in tied_players]
    first = data["entries"][0]
    assert set(first) == {"rank", "userId", "nombre", "avatar", "xp", "level"}
    assert (first["xp"], first["level"], first["nombre"]) == (500, 3, tied_players[0].nombre)


@pytest.mark.django_db
def test_leaderboard_pages_are_stable_and_ranks_survive_page_breaks(api_client, tied_players):
    whole = api_client.get("/api/gamification/leaderboard?limit=5").json()["data"]["entries"]
    paged = []
    for page in (1, 2, 3):
        body = api_client.get(f"/api/gamification/leaderboard?page={page}&limit=2").json()
        paged += body["data"]["entries"]
    assert paged == whole
    assert api_client.get("/api/gamification/leaderboard?page=4&limit=2").json()["data"] == {
        "entries": [],
        "total": 5,
    }


@pytest.mark.django_db
def test_me_stats_rank_equals_leaderboard_rank_for_every_tied_player(api_client, tied_players):
    board = api_client.get("/api/gamification/leaderboard").json()["data"]["entries"]
    for entry, player in zip(board, tied_players, strict=True):
        me = client_for(player).get("/api/gamification/me/stats").json()["data"]
        public = api_client.get(f"/api/gamification/users/{player.pk}/stats").json()["data"]
        assert me["rank"] == public["rank"] == entry["rank"]


@pytest.mark.django_db
def test_user_with_no_stats_row_ranks_after_everyone_with_xp(api_client, tied_players):
    newcomer = UserFactory()
    data = api_client.get(f"/api/gamification/users/{newcomer.pk}/stats").json()["data"]
    assert data["rank"] == 5  # tied with the 0-XP player


@pytest.mark.django_db
def test_public_zeros_do_not_stop_me_stats_from_creating_the_row(api_client, auth_client, user):
    assert api_client.get(f"/api/gamification/users/{user.pk}/stats").json()["data"]["xp"] == 0
    assert auth_client.get("/api/gamification/me/stats").status_code == 200
    assert UserStats.objects.filter(user=user).exists()
