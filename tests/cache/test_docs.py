"""docs/cache.md and the key registry cannot drift: its tables are generated."""

from pathlib import Path

from django.conf import settings

from guelaguetza.cache import docs
from guelaguetza.cache.registry import FAMILIES

DOC = Path(settings.BASE_DIR) / "docs" / "cache.md"


def test_docs_cache_md_tables_are_the_registrys():
    text = DOC.read_text()
    assert docs.BEGIN in text and docs.END in text
    assert docs.with_tables(text) == text, (
        "docs/cache.md is out of date: run `manage.py cache_tree --markdown --write docs/cache.md`"
    )


def test_every_family_and_declaration_is_in_the_document():
    text = DOC.read_text()
    for family in FAMILIES.values():
        assert f"`{family.template}`" in text
        for shows in family.shows:
            assert f"| {family.name} | {shows.model} |" in text
