"""Passwords: bcrypt in production, raw $2a$/$2b$ hashes from the original DB accepted."""

import bcrypt
import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings

from tests.factories import UserFactory

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "accounts.hashers.RawBcryptPasswordHasher",
]


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
@pytest.mark.parametrize("prefix", [b"2a", b"2b"])
def test_raw_bcrypt_hash_from_original_db_logs_in_and_is_upgraded(api_client, prefix):
    raw = bcrypt.hashpw(b"password123", bcrypt.gensalt(4, prefix=prefix)).decode()
    assert raw.startswith(f"${prefix.decode()}$")
    user = UserFactory(email="legacy@example.mx")
    user.password = raw  # exactly what an import of the original column stores
    user.save(update_fields=["password"])

    bad = api_client.post(
        "/api/auth/login", {"email": "legacy@example.mx", "password": "nope"}, format="json"
    )
    assert bad.status_code == 401
    ok = api_client.post(
        "/api/auth/login",
        {"email": "legacy@example.mx", "password": "password123"},
        format="json",
    )
    assert ok.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$$2b$12$")
    assert user.check_password("password123")


@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_new_passwords_use_bcrypt_cost_12_and_long_passwords_work():
    encoded = make_password("x" * 100)
    assert encoded.startswith("bcrypt_sha256$$2b$12$")
    assert check_password("x" * 100, encoded)
    assert not check_password("x" * 99, encoded)


@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_raw_hash_of_a_long_password_matches_bcryptjs_truncation():
    raw = bcrypt.hashpw(b"y" * 72, bcrypt.gensalt(4)).decode()
    assert check_password("y" * 80, "bcrypt_raw$" + raw)
