"""The documentation a clone carries: code points into docs/, and every link resolves.

The design documents the project started from are not in the repository, so code that
cites them sends a newcomer nowhere; docs/ replaces them (docs/development.md#documentation).
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCS = ROOT / "docs"
# Built from parts so that this file does not cite them itself.
OUTSIDE_DOCUMENTS = tuple(name + ".md" for name in ("API", "DESIGN", "STYLE"))
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__"}
TEXT_SUFFIXES = {".py", ".md", ".sh", ".conf", ".yml", ".yaml", ".toml", ".txt", ".cfg"}
# A file of docs/ (or the README), '#' and an anchor, as code and documents cite them.
CITED_ANCHOR = re.compile(r"\b((?:docs/[\w-]+|README)\.md)#([\w-]+)")
FIX_TAG = re.compile(r"\[F(\d+)\]")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)", re.M)


@cache
def tracked_files() -> tuple[Path, ...]:
    """The repository's files: git's list when this is a clone, else a walk of the tree
    without what is never tracked (.venv, var/, caches)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout.decode()
        paths = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            p
            for p in ROOT.rglob("*")
            if p.is_file() and not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)
        ]
    return tuple(p for p in paths if p.is_file())


def text_files(*suffixes: str) -> list[Path]:
    wanted = set(suffixes) or TEXT_SUFFIXES
    return [p for p in tracked_files() if p.suffix in wanted or p.name == "Makefile"]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: inline code and link markup dropped, lower case,
    punctuation removed, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(document: Path) -> frozenset[str]:
    """Explicit ``<a id>`` anchors and heading anchors (headings in code fences are not
    headings; a repeated heading gets GitHub's ``-1``, ``-2``... suffix)."""
    found: set[str] = set(re.findall(r'<a id="([^"]+)"', document.read_text()))
    seen: dict[str, int] = {}
    fenced = False
    for line in document.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def unresolved(document: Path, anchor: str | None) -> str | None:
    """Why ``document#anchor`` does not resolve, or None when it does."""
    if not document.is_file():
        return "no such file"
    if anchor and anchor not in anchors(document):
        return "no such anchor"
    return None


def test_anchor_slugs_follow_githubs_rules():
    assert slug("1.1 Base URLs, routing, CORS, request bodies") == (
        "11-base-urls-routing-cors-request-bodies"
    )
    assert slug("The package, bottom to top") == "the-package-bottom-to-top"
    assert slug("Dependencies: a write clears exactly what shows it") == (
        "dependencies-a-write-clears-exactly-what-shows-it"
    )
    assert slug("The cache layer (`guelaguetza/cache`)") == "the-cache-layer-guelaguetzacache"


def test_no_python_file_cites_the_design_documents_outside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in text_files(".py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(name in line for name in OUTSIDE_DOCUMENTS)
    ]
    assert offenders == [], "cite docs/<file>.md#<anchor> instead:\n" + "\n".join(offenders)


def test_no_tracked_file_outside_docs_cites_them_either():
    offenders = [
        str(path.relative_to(ROOT))
        for path in text_files()
        if path.suffix != ".py"
        and any(name in path.read_text(errors="replace") for name in OUTSIDE_DOCUMENTS)
    ]
    assert offenders == []


def test_every_cited_docs_anchor_exists():
    broken = []
    for path in text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for target, anchor in CITED_ANCHOR.findall(line):
                why = unresolved(ROOT / target, anchor)
                if why:
                    broken.append(f"{path.relative_to(ROOT)}:{number}: {target}#{anchor}: {why}")
    assert broken == [], "\n".join(broken)


def test_every_link_of_the_documents_resolves():
    """Relative links of docs/*.md and the README, with their anchors (same-page
    ``#anchor`` links included); web addresses are not fetched."""
    broken = []
    for document in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for match in MARKDOWN_LINK.finditer(document.read_text()):
            link = match.group(1) or match.group(2)
            if re.match(r"[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            why = unresolved((document.parent / target) if target else document, anchor)
            if why:
                broken.append(f"{document.relative_to(ROOT)}: {link}: {why}")
    assert broken == [], "\n".join(broken)


def test_every_fix_tag_is_explained_in_the_api_document():
    api = DOCS / "api.md"
    missing = sorted(
        f"{path.relative_to(ROOT)}: [F{n}]"
        for path in text_files(".py", ".md")
        for n in set(FIX_TAG.findall(path.read_text()))
        if f"f{int(n)}" not in anchors(api)
    )
    assert missing == []


def test_the_readmes_ttls_are_the_settings():
    """The README's configuration table lists each family's default TTL by hand
    (docs/cache.md's key tree is generated, and tests/cache/test_docs.py checks it)."""
    row = next(
        line for line in (ROOT / "README.md").read_text().splitlines() if "`CACHE_TTL_<" in line
    )
    listed = {name.lower(): int(ttl) for name, ttl in re.findall(r"`([A-Z_]+)` (\d+)", row)}
    assert listed == settings.CACHE_TTLS
