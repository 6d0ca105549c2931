"""What an operator's invalidation of a pattern, or of a whole key family, does.

Shared by ``manage.py cache_invalidate`` and the admin's cache page (/admin/cache/), so
both decide the same way (README.md#cache):

* a namespace of the tree (``leaderboard``, ``user:123``) is one generation bump: O(1)
  whatever the keyspace, and it closes the stale-set race;
* an exact key is deleted and its own generation bumped;
* any other glob (``user:*:stats``) is walked with SCAN and its keys UNLINKed in batches
  (:func:`guelaguetza.cache.ops.unlink_glob`): for operators only, never on a request.

A whole family is its own static namespace when no other family's keys carry it (the
leaderboard, the lists, the catalogue, config); a per-entity family (``user_stats``) has
no family-wide namespace, so it is its glob.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

from guelaguetza.cache import FAMILIES, cache
from guelaguetza.cache.ops import unlink_glob
from guelaguetza.cache.registry import Family, namespace_of, resolve

Kind = Literal["namespace", "key", "glob"]

_FIELDS = string.Formatter()


@dataclass(frozen=True)
class Target:
    """What to invalidate: a namespace, an exact key or a glob (all without the prefix)."""

    kind: Kind
    value: str

    @property
    def pattern(self) -> str:
        """The pattern an operator would type for it (``leaderboard:*``, ``user:*:stats``)."""
        return f"{self.value}:*" if self.kind == "namespace" else self.value

    @property
    def scans(self) -> bool:
        return self.kind == "glob"


def target_of(pattern: str) -> Target:
    """The target of an operator's pattern; ValueError if empty or not in the tree.

    The Redis prefix may be included (copied from ``redis-cli``): it is dropped.
    """
    pattern = pattern.strip()
    if not pattern:
        raise ValueError("empty pattern")
    if pattern.startswith(cache.prefix):
        pattern = pattern[len(cache.prefix) :]
    ns = namespace_of(pattern)
    if ns is not None:
        return Target("namespace", ns)
    if not any(c in pattern for c in "*?["):
        return Target("key", str(resolve(pattern)))  # ValueError when in no family
    return Target("glob", pattern)


def namespace_target(text: str) -> Target:
    """One entity's namespace as staff type it (``user:123``, ``experience:42``, or with
    the ``:*``); ValueError for anything that is not a namespace of the tree."""
    text = text.strip().removesuffix(":*")
    if not text or any(c in text for c in "*?[] "):
        raise ValueError(f"not a namespace of the cache tree: {text!r}")
    ns = namespace_of(f"{text}:*")
    if ns is None:
        raise ValueError(f"not a namespace of the cache tree: {text!r}")
    return Target("namespace", ns)


def family_glob(family: Family) -> str:
    """Every key of ``family`` as a glob: each ``{field}`` of its template a ``*``."""
    return "".join(
        literal.replace("*", r"\*") + ("*" if field is not None else "")
        for literal, field, _, _ in _FIELDS.parse(family.template)
    )


def family_target(family: Family) -> Target:
    """The cheapest target that clears every key of ``family`` and no other family's.

    Its most specific static namespace (its template, if that has no fields) when no
    other family carries it; else its glob. ``badges`` is not ``badges_all``'s: every
    user's badge view carries it too.
    """
    static = [ns for ns in (*family.namespaces, family.template) if "{" not in ns]
    for ns in sorted(static, key=len, reverse=True):
        others = (f for f in FAMILIES.values() if f is not family)
        if not any(_carries(other, ns) for other in others):
            return Target("namespace", ns)
    return Target("glob", family_glob(family))


def _carries(family: Family, ns: str) -> bool:
    """Could a key of ``family`` carry the namespace ``ns``?"""
    templates = (*family.namespaces, *family.tag_templates, *family.captures, family.template)
    return any(_fits(template, ns) for template in templates)


def _fits(template: str, ns: str) -> bool:
    pattern = "".join(
        re.escape(literal) + ("[^:]+" if field is not None else "")
        for literal, field, _, _ in _FIELDS.parse(template)
    )
    return re.fullmatch(pattern, ns) is not None


def invalidate(target: Target) -> int | None:
    """Invalidate ``target`` now through the cache's public API, as a write would.

    A namespace or a key never raises (if Redis fails, the cache keeps the op and
    replays it when Redis answers; TTLs bound the staleness until then); returns None.
    A glob returns how many keys were unlinked; its Redis errors reach the caller.
    """
    if target.kind == "namespace":
        cache.invalidate(target.pattern)
        return None
    if target.kind == "key":
        cache.delete(target.value)
        return None
    return unlink_glob(cache, target.value)
