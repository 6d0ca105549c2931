import pytest
from django.test import Client
from django.urls import reverse

from gamification.models import UserBadge, UserStats
from tests.factories import UserFactory, UserStatsFactory


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_admin_grant_action_awards_badge_with_its_xp_once(staff_client, catalogue):
    stats = UserStatsFactory(xp=10)
    url = reverse("admin:gamification_userstats_changelist")
    for _ in range(2):
        response = staff_client.post(
            url, {"action": "grant_early_adopter", "_selected_action": [stats.pk]}
        )
        assert response.status_code == 302
    assert UserBadge.objects.filter(user=stats.user, badge__code="EARLY_ADOPTER").count() == 1
    assert UserStats.objects.get(pk=stats.pk).xp == 110


@pytest.mark.django_db
def test_admin_userstats_search_by_email_and_nombre(staff_client):
    stats = UserStatsFactory(user=UserFactory(email="maria@oaxaca.mx", nombre="Zapoteca"))
    UserStatsFactory()
    url = reverse("admin:gamification_userstats_changelist")
    for q in ("maria@oaxaca", "Zapoteca"):
        response = staff_client.get(url, {"q": q})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [stats]


@pytest.mark.django_db
def test_admin_userbadge_add_goes_through_badge_award(staff_client, catalogue):
    user = UserFactory()
    response = staff_client.post(
        reverse("admin:gamification_userbadge_add"),
        {"user": user.pk, "badge": catalogue["GUELAGUETZA_2024"].pk},
    )
    assert response.status_code == 302
    assert UserBadge.objects.filter(user=user).count() == 1
    assert UserStats.objects.get(user=user).xp == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["userstats", "badge", "userbadge"])
def test_admin_changelists_render(staff_client, catalogue, model):
    UserStatsFactory()
    assert staff_client.get(reverse(f"admin:gamification_{model}_changelist")).status_code == 200
