import pytest

from gamification.levels import THRESHOLDS, level_for, xp_for_next_level, xp_progress


@pytest.mark.parametrize("level", range(2, 16))
def test_level_changes_exactly_at_each_threshold(level):
    threshold = THRESHOLDS[level - 1]
    assert level_for(threshold - 1) == level - 1
    assert level_for(threshold) == level


def test_level_1_starts_at_zero_and_15_is_the_last():
    assert level_for(0) == 1
    assert level_for(10_500) == 15
    assert level_for(1_000_000) == 15


@pytest.mark.parametrize(
    ("level", "expected"), [(1, 100), (2, 300), (9, 4500), (14, 10_500), (15, 12_000)]
)
def test_xp_for_next_level_is_the_next_threshold_and_12000_at_15(level, expected):
    assert xp_for_next_level(level) == expected


def test_xp_progress_at_level_1_is_measured_from_zero_not_100():
    assert xp_progress(0) == 0.0
    assert xp_progress(50) == 50.0
    assert xp_progress(99) == 99.0


@pytest.mark.parametrize(
    ("xp", "expected"), [(100, 0.0), (200, 50.0), (450, 50.0), (10_500, 0.0), (11_250, 50.0)]
)
def test_xp_progress_is_the_fraction_of_the_current_level(xp, expected):
    assert xp_progress(xp) == expected


def test_xp_progress_is_clamped_to_100_past_the_last_level():
    assert xp_progress(50_000) == 100.0


def test_xp_progress_is_not_rounded():
    assert xp_progress(133) == pytest.approx(16.5)
    assert isinstance(xp_progress(133), float)
