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


def test_the_design_documents_key_tree_is_in_the_registry():
    """The key tree of the design document (shared/DESIGN.md, beside the clone in CI and
    on the team's machines): every row is a family with the same key and TTL."""
    import re

    import pytest

    design = Path(settings.BASE_DIR).parent / "shared" / "DESIGN.md"
    if not design.exists():
        pytest.skip(f"{design} is not beside this clone: nothing to compare")
    rows = re.findall(r"^\| [^|]+ \| `([^`]+)` \| (\d+) s \|$", design.read_text(), re.M)
    assert len(rows) >= 12

    def shape(template: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", template)

    registry = {shape(f.template): settings.CACHE_TTLS[f.name] for f in FAMILIES.values()}
    for template, ttl in rows:
        assert registry.get(shape(template)) == int(ttl), template
