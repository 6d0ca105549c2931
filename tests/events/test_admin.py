import pytest

from tests.factories import EventFactory, EventRSVPFactory

pytestmark = pytest.mark.django_db


def test_event_changelist_shows_rsvp_count_and_filters(admin_client):
    event = EventFactory(title="Danza de la Pluma")
    EventRSVPFactory(event=event)
    EventRSVPFactory(event=event)
    EventFactory(title="Feria del Mezcal", category="GASTRONOMIA")

    response = admin_client.get(
        "/admin/events/event/", {"q": "pluma", "category__exact": "DANZA", "o": "6"}
    )

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [r.title for r in rows] == ["Danza de la Pluma"]
    assert rows[0].rsvp_total == 2


def test_event_admin_edit_page_loads(admin_client, event):
    assert admin_client.get(f"/admin/events/event/{event.id}/change/").status_code == 200


@pytest.mark.parametrize("model", ["eventrsvp", "eventreminder"])
def test_rsvps_and_reminders_are_read_only_in_admin(admin_client, model):
    EventRSVPFactory()

    assert admin_client.get(f"/admin/events/{model}/").status_code == 200
    assert admin_client.get(f"/admin/events/{model}/add/").status_code == 403
