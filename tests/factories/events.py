"""Factories of the events app."""

import datetime as dt

import factory

from events.models import Event, EventRSVP
from tests.factories.accounts import UserFactory


def _event_start(n: int) -> dt.datetime:
    # Hourly from the festival month's first evening: distinct, ordered start dates.
    return dt.datetime(2026, 7, 1, 18, tzinfo=dt.UTC) + dt.timedelta(hours=n)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Evento {n}")
    description = "Un evento de la Guelaguetza"
    location = "Auditorio Guelaguetza, Oaxaca"
    latitude = 17.0654
    longitude = -96.7365
    category = "DANZA"
    start_date = factory.Sequence(_event_start)


class EventRSVPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventRSVP

    user = factory.SubFactory(UserFactory)
    event = factory.SubFactory(EventFactory)
