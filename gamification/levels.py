"""Levels (docs/api.md#levels): one formula, shared by services (stored column) and selectors."""

THRESHOLDS: tuple[int, ...] = (
    0, 100, 300, 600, 1000, 1500, 2100, 2800, 3600, 4500, 5500, 6600, 7800, 9100, 10500,
)  # fmt: skip
MAX_LEVEL = len(THRESHOLDS)
# Past the last threshold the UI still shows a bar: level 15 "ends" 1500 XP later.
LAST_LEVEL_SPAN = 1500


def level_for(xp: int) -> int:
    """The highest ``i + 1`` with ``xp >= T[i]`` (1..15)."""
    level = 1
    for i, threshold in enumerate(THRESHOLDS):
        if xp >= threshold:
            level = i + 1
    return level


def xp_for_next_level(level: int) -> int:
    return THRESHOLDS[level] if level < MAX_LEVEL else THRESHOLDS[-1] + LAST_LEVEL_SPAN


def xp_progress(xp: int) -> float:
    """Percent of the way through the current level, 0..100, unrounded [F5]: the floor of
    level 1 is 0 (the original treated that 0 as missing and returned 100)."""
    level = level_for(xp)
    floor = THRESHOLDS[level - 1]
    span = xp_for_next_level(level) - floor
    return float(min(100.0, max(0.0, (xp - floor) / span * 100)))
