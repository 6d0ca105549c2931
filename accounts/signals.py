"""Cache invalidation for user rows (DESIGN.md invalidation map): receivers only."""

from guelaguetza.cache import cache

# Fields shown in cached payloads (leaderboard entries, user keys).
CACHED_FIELDS = frozenset({"nombre", "avatar"})


def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if created:
        return  # a new user is in no cached payload yet
    if update_fields is not None and not CACHED_FIELDS.intersection(update_fields):
        return  # e.g. a password upgrade or last_login: nothing cached changed
    cache.cascade("profile_changed", user_id=instance.pk)


def user_deleted(sender, instance, **kwargs) -> None:
    cache.cascade("profile_changed", user_id=instance.pk)
