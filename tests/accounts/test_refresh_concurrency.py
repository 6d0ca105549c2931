"""Two clients racing with one refresh token: one wins, the replay revokes the family,
the winner's new token included."""

import threading

import pytest
from django.db import connection

from accounts.models import RefreshToken
from accounts.services import token_refresh, user_login
from guelaguetza.errors import Unauthenticated
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_use_of_one_refresh_token_revokes_the_whole_family():
    user = UserFactory(email="race@example.mx")
    _, pair = user_login(email=user.email, password="password123")
    barrier = threading.Barrier(2)
    results = []

    def refresh():
        try:
            barrier.wait(timeout=10)
            try:
                results.append(token_refresh(token=pair.refresh_token))
            except Unauthenticated as exc:
                results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    errors = [r for r in results if isinstance(r, Unauthenticated)]
    winners = [r for r in results if not isinstance(r, Unauthenticated)]
    assert len(winners) == 1 and len(errors) == 1
    assert errors[0].message.startswith("Actividad sospechosa detectada")
    assert RefreshToken.objects.count() == 2
    assert not RefreshToken.objects.filter(revoked_at=None).exists()
    with pytest.raises(Unauthenticated, match="Sesión invalidada"):
        token_refresh(token=winners[0].refresh_token)


@pytest.mark.django_db
def test_prune_deletes_only_expired_refresh_tokens():
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    user = UserFactory()
    user_login(email=user.email, password="password123")
    old = RefreshToken.objects.create(
        jti="old", user=user, family_id="f", expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    out = io.StringIO()
    call_command("refresh_tokens_prune", stdout=out)
    assert "1 expired rows deleted" in out.getvalue()
    assert not RefreshToken.objects.filter(pk=old.pk).exists()
    assert RefreshToken.objects.count() == 1
