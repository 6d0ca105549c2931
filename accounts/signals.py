"""Cache invalidation for user rows (DESIGN.md invalidation map): receivers only."""

from accounts import selectors
from guelaguetza.cache import cache

# Fields shown in cached payloads (leaderboard entries, user keys).
CACHED_FIELDS = frozenset({"nombre", "avatar"})
# Fields of the token user's cached auth row (user:{id}:auth).
AUTH_FIELDS = frozenset(selectors.AUTH_FIELDS)


def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if created:
        return  # a new user is in no cached payload yet
    if update_fields is None or CACHED_FIELDS.intersection(update_fields):
        cache.cascade("profile_changed", user_id=instance.pk)  # user:{id}:* incl. auth
    elif AUTH_FIELDS.intersection(update_fields):
        cache.cascade("user_auth_changed", user_id=instance.pk)
    # else e.g. a password upgrade or last_login: nothing cached changed


def user_deleted(sender, instance, **kwargs) -> None:
    cache.cascade("profile_changed", user_id=instance.pk)
