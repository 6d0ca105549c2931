"""Names the code spells as strings or attributes are checked here, so a typo fails a
test, not a request: key families (``keys.<family>``), named cascades
(``cache.cascade("<name>")``), literal namespace patterns (``cache.invalidate("...")``)
and the dispatch_uid convention of signal receivers."""

import ast
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save

from guelaguetza.cache.registry import CASCADES, FAMILIES, Keys, namespace_of

ROOT = Path(settings.BASE_DIR)


def python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).exists()]


def calls(attribute: str):
    """(file, node) of every call ``<something>.<attribute>(...)`` in the code."""
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == attribute
            ):
                yield path, node


def test_keys_spells_out_every_family_and_nothing_else():
    declared = {name for name in vars(Keys) if not name.startswith("_")}
    assert declared == set(FAMILIES)


def test_every_keys_attribute_the_code_uses_is_a_family():
    used = set()
    for path in python_files():
        source = path.read_text()
        if not re.search(r"from guelaguetza\.cache import [^\n]*\bkeys\b", source):
            continue  # another ``keys`` (a local variable)
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "keys"
            ):
                used.add((path.name, node.attr))
    assert used, "no keys.<family> found: the scan is broken"
    assert {attr for _, attr in used} <= set(FAMILIES), sorted(
        (p, a) for p, a in used if a not in FAMILIES
    )


def test_every_named_cascade_the_code_calls_exists():
    names = [
        (path.name, node.args[0].value)
        for path, node in calls("cascade")
        if node.args and isinstance(node.args[0], ast.Constant)
    ]
    assert names, "no cache.cascade(...) found: the scan is broken"
    assert all(name in CASCADES for _, name in names), names


def test_every_literal_namespace_pattern_is_one_of_the_tree():
    patterns = [
        (path.name, node.args[0].value)
        for path, node in calls("invalidate")
        if node.args and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str) and path.relative_to(ROOT).parts[0] != "tests"
    ]  # fmt: skip
    assert patterns
    assert [(f, p) for f, p in patterns if namespace_of(p) is None] == []


UID = re.compile(r"^(accounts|events|experiences|gamification|guelaguetza)(\.\w+)+$")


def test_dispatch_uids_follow_module_dot_receiver():
    """The convention: ``"<module>.<receiver>[.<sender label>]"``."""
    ours = [
        uid
        for signal in (post_save, post_delete, setting_changed)
        for (uid, _), *_ in signal.receivers
        if isinstance(uid, str) and not uid.startswith(("django", "corsheaders"))
    ]
    assert ours
    for uid in ours:
        module = uid.split("._", 1)[0]
        assert UID.match(uid) and module in {
            "guelaguetza.cache.dependencies",
            "guelaguetza.cache.service",
            "guelaguetza.api.throttling",
            "guelaguetza.api.cached",  # the hit path's memos, emptied on a setting change
        }, uid
