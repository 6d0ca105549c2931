"""The long-running commands (seed_demo, cache_invalidate) draw a tqdm progress bar on a
terminal's stderr, none without a terminal or with --no-progress, and keep stdout to
what was done."""

import io
import sys

import pytest
from django.core.management import call_command

from guelaguetza.cache import cache, keys

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    """stderr as tqdm sees a terminal."""

    def isatty(self) -> bool:
        return True


def terminal(monkeypatch) -> Terminal:
    # Called in the test itself: pytest's capture puts its own sys.stderr back between a
    # fixture's setup and the test.
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    return stderr


def _seed(*flags: str) -> str:
    out = io.StringIO()
    call_command(
        "seed_demo", "--users", "12", "--events", "9", "--experiences", "3", *flags, stdout=out
    )
    return out.getvalue()


def test_seed_demo_draws_progress_bars_on_a_terminal(monkeypatch):
    stderr = terminal(monkeypatch)
    out = _seed()
    bars = stderr.getvalue()
    assert "accounts: random users" in bars and "12/12" in bars
    assert "events" in bars and "9/9" in bars
    assert "experiences: slots" in bars
    # stdout says what was done, once, not batch by batch
    assert "accounts: 12 random users created" in out
    assert "random users 12/12" not in out


def test_seed_demo_no_progress_draws_no_bar(monkeypatch):
    stderr = terminal(monkeypatch)
    out = _seed("--no-progress")
    assert stderr.getvalue() == ""
    assert "demo data ready" in out


def test_cache_invalidate_counts_scanned_keys_on_a_bar(monkeypatch):
    stderr = terminal(monkeypatch)
    for u in range(5):
        cache.set(keys.user_stats(user_id=f"u{u}"), 1)
    out = io.StringIO()
    call_command("cache_invalidate", "user:*:stats", "--batch", "2", stdout=out)
    assert "5key" in stderr.getvalue().replace(" ", "")
    assert "matched 5, unlinked 5" in out.getvalue()


def test_cache_invalidate_no_progress_draws_no_bar(monkeypatch):
    stderr = terminal(monkeypatch)
    cache.set(keys.user_stats(user_id="u1"), 1)
    out = io.StringIO()
    call_command("cache_invalidate", "user:*:stats", "--no-progress", stdout=out)
    assert stderr.getvalue() == ""
    assert "done: 1 keys unlinked" in out.getvalue()
