"""The cache layer (docs/cache.md, docs/architecture.md#cache-layer).

from guelaguetza.cache import cache, keys

cache.wrap(keys.user_stats(user_id=user.id), lambda: load(...))
cache.cascade("xp_changed", user_id=user.id)   # after commit, deduplicated
"""

from guelaguetza.cache.registry import (
    CASCADES,
    FAMILIES,
    CacheKey,
    keys,
    leaderboard_band_patterns,
)
from guelaguetza.cache.service import CacheService, cache

__all__ = [
    "CASCADES",
    "FAMILIES",
    "CacheKey",
    "CacheService",
    "cache",
    "keys",
    "leaderboard_band_patterns",
]
