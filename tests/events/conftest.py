import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.factories import EventFactory, UserFactory
from tests.helpers import JULY, client_for


@pytest.fixture
def event(db):
    return EventFactory(start_date=JULY + dt.timedelta(days=20, hours=18))


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def badge_catalogue(db):
    """The badge rows of the data migration (transaction=True tests truncate them)."""
    from gamification.catalogue import ensure_catalogue
    from gamification.models import Badge

    ensure_catalogue(Badge)
