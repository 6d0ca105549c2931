import io

import pytest

from events import seed
from events.models import Event, EventCategory
from guelaguetza.cache import cache, keys


@pytest.mark.django_db
def test_seed_creates_n_events_of_every_category_in_the_festival_july():
    seed.run(options={"events": 30, "festival_year": 2026}, stdout=io.StringIO())

    events = list(Event.objects.all())
    assert len(events) == 30
    assert {e.category for e in events} == set(EventCategory.values)
    local = [e.start_date.astimezone(seed.FESTIVAL_TZ) for e in events]
    assert all((d.year, d.month) == (2026, 7) for d in local)
    assert {d.day for d in local} >= {1, 15, 31}
    assert all("Guelaguetza 2026" in e.title for e in events)
    assert len({e.title for e in events}) == 30
    official = {e.category for e in events if e.is_official}
    assert official == {"DANZA", "CEREMONIA", "DESFILE"}
    assert not all(e.is_official for e in events)


@pytest.mark.django_db
def test_seed_is_idempotent_and_scales_up():
    out = io.StringIO()
    seed.run(options={"events": 20}, stdout=out)
    seed.run(options={"events": 20}, stdout=out)
    assert Event.objects.count() == 20

    seed.run(options={"events": 50}, stdout=out)
    assert Event.objects.count() == 50
    assert "30 created, 20 already present" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_seed_invalidates_cached_lists(api_client):
    assert api_client.get("/api/events").json()["data"]["total"] == 0
    key = keys.events_list(category=None, start=None, end=None, page=1, limit=20)
    assert cache.get(key) is not None

    seed.run(options={"events": 10}, stdout=io.StringIO())

    assert api_client.get("/api/events").json()["data"]["total"] == 10


@pytest.mark.django_db
def test_seed_defaults_to_the_next_festival_not_over(settings):
    from guelaguetza.festival import festival_year

    seed.run(options={"events": 7}, stdout=io.StringIO())
    years = {e.start_date.astimezone(seed.FESTIVAL_TZ).year for e in Event.objects.all()}
    assert years == {festival_year()}
