import pytest

from events.models import Event, EventReminder, EventRSVP
from guelaguetza.cache import cache, keys
from tests.factories import EventFactory, EventRSVPFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_event_edit_clears_detail_lists_and_attendees_rsvps(api_client, auth_client, user):
    event = EventFactory(title="Antes")
    EventRSVPFactory(user=user, event=event)
    api_client.get(f"/api/events/{event.id}")
    api_client.get("/api/events")
    auth_client.get("/api/events/my-rsvps")

    event.title = "Después"
    event.save()  # as the admin does

    assert api_client.get(f"/api/events/{event.id}").json()["data"]["title"] == "Después"
    assert api_client.get("/api/events").json()["data"]["events"][0]["title"] == "Después"
    assert auth_client.get("/api/events/my-rsvps").json()["data"]["events"][0]["title"] == (
        "Después"
    )


@pytest.mark.django_db(transaction=True)
def test_event_delete_clears_detail_lists_and_attendees_rsvps(api_client, auth_client, user):
    event = EventFactory()
    EventRSVPFactory(user=user, event=event)
    api_client.get(f"/api/events/{event.id}")
    api_client.get("/api/events")
    auth_client.get("/api/events/my-rsvps")

    event.delete()

    assert api_client.get(f"/api/events/{event.id}").status_code == 404
    assert api_client.get("/api/events").json()["data"]["total"] == 0
    assert auth_client.get("/api/events/my-rsvps").json()["data"]["total"] == 0


@pytest.mark.django_db(transaction=True)
def test_bulk_event_delete_clears_each_attendees_rsvps(auth_client, user):
    # The admin's bulk delete is a QuerySet.delete(): the cascaded RSVPs and reminders
    # still send post_delete one by one.
    doomed = [EventFactory(), EventFactory()]
    for event in doomed:
        EventRSVPFactory(user=user, event=event)
    EventRSVPFactory(user=user, event=EventFactory())
    assert auth_client.get("/api/events/my-rsvps").json()["data"]["total"] == 3
    reminder_only = UserFactory()
    EventReminder.objects.create(
        user=reminder_only, event=doomed[0], remind_at=doomed[0].start_date
    )
    key = keys.user_rsvps(user_id=reminder_only.pk)
    cache.set(key, {"events": [], "rsvpIds": [], "reminderIds": [doomed[0].pk]})

    Event.objects.filter(pk__in=[e.pk for e in doomed]).delete()

    assert auth_client.get("/api/events/my-rsvps").json()["data"]["total"] == 1
    assert cache.get(key, default="absent") == "absent"


@pytest.mark.django_db(transaction=True)
def test_event_created_under_a_negatively_cached_id_becomes_visible(api_client):
    assert api_client.get("/api/events/evt-late").status_code == 404
    assert cache.get(keys.event_detail(event_id="evt-late"), default="absent") is None

    EventFactory(id="evt-late")

    assert api_client.get("/api/events/evt-late").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_rolled_back_rsvp_invalidates_nothing(api_client, user):
    from django.db import transaction

    event = EventFactory()
    api_client.get(f"/api/events/{event.id}")
    key = keys.event_detail(event_id=event.id)

    with pytest.raises(RuntimeError), transaction.atomic():
        EventRSVP.objects.create(user=user, event=event)
        raise RuntimeError

    assert cache.get(key)["rsvpCount"] == 0
