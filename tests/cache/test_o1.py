"""Pattern invalidation costs one round trip whatever the keyspace, and no request-path
call ever SCANs or KEYS (checked with the private server's INFO commandstats)."""

import pytest
import redis

from guelaguetza.cache import keys


@pytest.mark.parametrize("unrelated", [100, 20_000])
def test_pattern_invalidation_is_one_round_trip_and_never_scans(
    private_redis, private_cache, unrelated
):
    admin = redis.Redis.from_url(private_redis.url)
    admin.mset({f"guelaguetza:experience:n{i}:detail": b"x" for i in range(unrelated)})
    page = keys.leaderboard_page(page=1, limit=20)
    private_cache.set(page, ["old"])
    admin.config_resetstat()
    before = private_cache.network_calls

    private_cache.invalidate("leaderboard:*")
    assert private_cache.network_calls - before == 1
    commands = {
        k: v["calls"]
        for k, v in admin.info("commandstats").items()
        if not k.startswith("cmdstat_config")
    }
    # One generation bump and nothing else: no SCAN, no KEYS, no DEL per key.
    assert commands == {"cmdstat_set": 1}

    assert private_cache.wrap(page, lambda: ["new"]) == ["new"]
    private_cache.get(page)
    private_cache.cascade("xp_added", user_id="u1")
    stats = admin.info("commandstats")
    assert "cmdstat_scan" not in stats and "cmdstat_keys" not in stats
    admin.close()
