"""access_token_claims_fast: the hit path's JWT check never accepts what PyJWT's
complete check (access_token_decode) rejects, and agrees on every token we issue."""

import base64
import time

import jwt
import pytest

from accounts.tokens import (
    access_token_claims_fast,
    access_token_decode,
    access_token_issue,
    refresh_token_issue,
)
from tests.factories import UserFactory


def forge(claims: dict, secret: str, **headers) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers or None)


@pytest.mark.django_db
def test_agrees_with_the_complete_check_on_issued_tokens():
    token = access_token_issue(UserFactory()).token
    assert access_token_claims_fast(token) == access_token_decode(token)


@pytest.mark.django_db
def test_rejects_what_the_complete_check_rejects(settings):
    user = UserFactory()
    good = access_token_issue(user).token
    head, body, sig = good.split(".")
    now = int(time.time())
    claims = {"sub": user.pk, "type": "access", "iat": now, "exp": now + 60}
    bad = [
        f"{head}.{body}.{sig[:-2]}AA",  # signature
        f"{head}.{body}",  # truncated
        refresh_token_issue(user, family_id="f").token,  # a refresh token
        forge({**claims, "exp": now - 1}, settings.JWT_ACCESS_SECRET),  # expired
        forge(claims, "another-secret-of-at-least-32-characters!!"),
        forge({**claims, "sub": 42}, settings.JWT_ACCESS_SECRET),  # sub not a string
        "demo_token",
        "a.b.c",
        base64.urlsafe_b64encode(b'{"alg":"none"}').decode() + "." + body + ".",
    ]
    for token in bad:
        assert access_token_decode(token) is None
        assert access_token_claims_fast(token) is None, token


@pytest.mark.django_db
def test_leaves_unfamiliar_valid_tokens_to_the_complete_check(settings):
    now = int(time.time())
    claims = {"sub": "u1", "type": "access", "iat": now, "exp": now + 60, "nbf": now}
    token = forge(claims, settings.JWT_ACCESS_SECRET)
    assert access_token_decode(token) is not None
    assert access_token_claims_fast(token) is None  # the caller falls through
