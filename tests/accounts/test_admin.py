"""Django admin for users: search by email/nombre, filters by role and banned."""

import pytest
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True, email="staff@example.mx")
    client.force_login(staff)
    return client


def test_user_admin_search_and_filters(admin_client):
    UserFactory(nombre="Xóchitl", email="x@example.mx")
    UserFactory(nombre="Benito", email="b@example.mx", banned_at=timezone.now())

    page = admin_client.get("/admin/accounts/user/", {"q": "Xóchitl"})
    assert page.status_code == 200
    assert b"x@example.mx" in page.content and b"b@example.mx" not in page.content

    banned = admin_client.get("/admin/accounts/user/", {"banned": "yes"})
    assert b"b@example.mx" in banned.content and b"x@example.mx" not in banned.content

    admins = admin_client.get("/admin/accounts/user/", {"role__exact": "ADMIN"})
    assert admins.status_code == 200 and b"x@example.mx" not in admins.content


def test_user_admin_change_page_renders(admin_client):
    user = UserFactory()
    assert admin_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200
