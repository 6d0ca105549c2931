import pytest
from rest_framework.test import APIClient

from tests.factories import ExperienceFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for


@pytest.fixture
def host(db):
    return UserFactory(nombre="Artesano")


@pytest.fixture
def host_client(host) -> APIClient:
    return client_for(host)


@pytest.fixture
def guest(db):
    return UserFactory()


@pytest.fixture
def guest_client(guest) -> APIClient:
    return client_for(guest)


@pytest.fixture
def experience(host):
    return ExperienceFactory(host=host)


@pytest.fixture
def slot(experience):
    return TimeSlotFactory(experience=experience, capacity=5)


@pytest.fixture
def badge_catalogue(db):
    """The badge rows of the data migration (transaction=True tests truncate them)."""
    from gamification.catalogue import ensure_catalogue
    from gamification.models import Badge

    ensure_catalogue(Badge)
