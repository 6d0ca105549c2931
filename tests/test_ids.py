"""Primary keys (docs/api.md#ids): the id format and the check of ids that cannot exist."""

import pytest

from accounts.models import User
from guelaguetza.ids import ID_MAX_LENGTH, new_id, possible_id
from tests.factories import UserFactory


def test_new_ids_are_cuid_like_unique_and_fit_the_column():
    ids = [new_id() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert len(value) == 25 <= ID_MAX_LENGTH and value[0] == "c"
        assert value.isascii() and value.isalnum() and value == value.lower()
        assert possible_id(value)


@pytest.mark.parametrize(
    "value", ["", "a\x00b", "x" * (ID_MAX_LENGTH + 1), None, 42, ["c1"], {"id": "c1"}]
)
def test_an_id_no_row_can_have_is_not_possible(value):
    assert not possible_id(value)


@pytest.mark.django_db
def test_possible_ids_include_every_stored_and_imported_id():
    imported = "ckx1y2z3a0000abcdefghijkl"  # a Prisma cuid from the original database
    for user in (UserFactory(), UserFactory(id=imported), UserFactory(id="x" * ID_MAX_LENGTH)):
        stored = User.objects.values_list("id", flat=True).get(pk=user.pk)
        assert possible_id(stored)
