"""Every runtime pin in requirements.txt is used by the project's own code.

A pin nothing uses still has to be installed, audited and upgraded: each package of
requirements.txt must be imported (or named in settings, as Django apps and middleware
are, or run, as the server is) by the product code. The one package used without being
named (hiredis, which redis-py parses replies with, and bcrypt, which Django's bcrypt
hashers load) are checked by what they do.
"""

from __future__ import annotations

import re
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Product code only: tests and benchmarks do not justify a runtime pin.
SKIP_DIRS = {".venv", "tests", "bench", "node_modules", ".git", "var", "staticfiles"}
# Used without being named: redis-py picks its parser up when it is installed, Django's
# bcrypt hashers load their library by name.
IMPLICIT = {"hiredis", "bcrypt"}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> list[str]:
    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0])
    return names


def _modules_of(distribution: str) -> list[str]:
    wanted = _normalized(distribution)
    return sorted(
        module
        for module, dists in packages_distributions().items()
        if any(_normalized(d) == wanted for d in dists) and not module.startswith("_")
    )


def _product_text() -> str:
    parts = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if rel.parts and rel.parts[0] in SKIP_DIRS:
            continue
        if path.suffix in {".py", ".sh"} and path.is_file():
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


PRODUCT = _product_text()


@pytest.mark.parametrize("distribution", [p for p in _pins() if p not in IMPLICIT])
def test_every_runtime_pin_is_used_by_the_product_code(distribution):
    modules = _modules_of(distribution)
    assert modules, f"{distribution} is pinned but not installed"
    used = [
        m
        for m in modules
        if re.search(
            rf"^\s*(import|from) {m}\b|[\"']{m}[.\"']|/{m}[\"'\s]",
            PRODUCT,
            re.MULTILINE,
        )
    ]
    assert used, f"{distribution} ({', '.join(modules)}) is pinned but nothing uses it"


def test_hiredis_is_the_parser_redis_py_uses():
    from redis._parsers import _HiredisParser
    from redis.connection import DefaultParser

    assert "hiredis" in _pins()
    assert DefaultParser is _HiredisParser


def test_bcrypt_is_the_library_of_the_production_password_hasher():
    from django.contrib.auth.hashers import BCryptSHA256PasswordHasher

    from guelaguetza import settings as project_settings

    assert "bcrypt" in _pins()
    assert project_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    )
    assert BCryptSHA256PasswordHasher()._load_library().__name__ == "bcrypt"
