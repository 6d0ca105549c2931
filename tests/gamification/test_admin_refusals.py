"""A badge grant the service refuses shows its message in the admin, never a 500, and
awards nothing (guelaguetza/admin_errors.py). badge_award refuses nothing today: the
refusal is patched in, as a future rule (e.g. a banned user) would raise it."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from gamification.models import UserBadge, UserStats
from guelaguetza.errors import Forbidden
from tests.factories import UserFactory, UserStatsFactory

pytestmark = pytest.mark.django_db
REFUSED = "Usuario suspendido"


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def award_refused(monkeypatch):
    from gamification import services

    real = services.badge_award

    def refuse_after_awarding(**kwargs):
        real(**kwargs)  # written first: the refusal must roll it back
        raise Forbidden(REFUSED)

    monkeypatch.setattr("gamification.admin.badge_award", refuse_after_awarding)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_refused_grant_action_shows_the_message_and_awards_nothing(
    staff_client, catalogue, award_refused
):
    stats = UserStatsFactory(xp=10)
    r = staff_client.post(
        reverse("admin:gamification_userstats_changelist"),
        {"action": "grant_early_adopter", "_selected_action": [stats.pk]},
        follow=True,
    )
    assert r.status_code == 200
    assert messages_of(r) == [("error", REFUSED)]
    assert not UserBadge.objects.exists()
    assert UserStats.objects.get(pk=stats.pk).xp == 10


def test_refused_userbadge_add_shows_the_message_and_logs_nothing(
    staff_client, catalogue, award_refused
):
    user = UserFactory()
    r = staff_client.post(
        reverse("admin:gamification_userbadge_add"),
        {"user": user.pk, "badge": catalogue["GUELAGUETZA_2024"].pk},
        follow=True,
    )
    assert r.status_code == 200
    assert messages_of(r) == [("error", REFUSED)]
    assert not UserBadge.objects.exists() and not LogEntry.objects.exists()
    assert not UserStats.objects.filter(user=user, xp__gt=0).exists()
