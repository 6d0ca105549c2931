"""accounts' seed step (seed_demo): the three demo logins, --users N, idempotent."""

import io

import pytest

from accounts import seed
from accounts.models import User
from guelaguetza.management.commands.seed_demo import seed_modules

pytestmark = pytest.mark.django_db


def test_seed_creates_demo_logins_and_random_users_once(api_client):
    seed.run(options={"users": 5}, stdout=io.StringIO())
    seed.run(options={"users": 7}, stdout=io.StringIO())
    assert User.objects.filter(email__endswith="@guelaguetza.mx").count() == 3
    assert User.objects.filter(email__startswith="seed.user.").count() == 7
    admin = User.objects.get(email="admin@guelaguetza.mx")
    assert admin.role == "ADMIN" and not admin.is_staff  # an API role; no Django admin

    for email, password in [
        ("demo@guelaguetza.mx", "password123"),
        ("artesano@guelaguetza.mx", "password123"),
        ("admin@guelaguetza.mx", "admin123"),
        ("seed.user.7@example.mx", "password123"),
    ]:
        response = api_client.post(
            "/api/auth/login", {"email": email, "password": password}, format="json"
        )
        assert response.status_code == 200, email


def test_seed_demo_runs_accounts_first():
    modules = [m.__name__ for m in seed_modules()]
    assert modules[0] == "accounts.seed"
    assert modules == sorted(modules, key=["accounts.seed", "gamification.seed",
                                           "events.seed", "experiences.seed"].index)  # fmt: skip
