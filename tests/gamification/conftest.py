import pytest

from gamification.catalogue import ensure_catalogue
from gamification.models import Badge


@pytest.fixture
def catalogue(db):
    """The 21 canonical badges. Made by the data migration, but transaction=True tests
    truncate every table afterwards, so tests that need them re-create them here."""
    ensure_catalogue(Badge)
    return {b.code: b for b in Badge.objects.all()}
