"""Factories of the experiences app."""

import datetime as dt
from decimal import Decimal

import factory

from experiences.models import Booking, Experience, ExperienceTimeSlot
from tests.factories.accounts import UserFactory


def _future_slot_date(n: int) -> dt.date:
    # Always ahead of "now", whatever day the suite runs: bookings reject past slots [F15].
    return dt.date.today() + dt.timedelta(days=30 + n)


class ExperienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experience

    host = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Taller de barro negro {n}")
    description = "Aprende la técnica del barro negro de San Bartolo Coyotepec."
    category = "TALLER"
    price = Decimal("450.00")  # immutable: one instance serves every experience
    duration = 120
    max_capacity = 10
    location = "San Bartolo Coyotepec, Oaxaca"
    latitude = 16.9597
    longitude = -96.7081


class TimeSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExperienceTimeSlot

    experience = factory.SubFactory(ExperienceFactory)
    date = factory.Sequence(_future_slot_date)
    start_time = dt.time(10, 0)
    end_time = dt.time(12, 0)
    capacity = factory.LazyAttribute(lambda o: o.experience.max_capacity)


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking row only: seats are not taken (tests that need them use the service)."""

    class Meta:
        model = Booking

    user = factory.SubFactory(UserFactory)
    time_slot = factory.SubFactory(TimeSlotFactory)
    experience = factory.LazyAttribute(lambda o: o.time_slot.experience)
    status = "PENDING"
    guest_count = 1
    total_price = factory.LazyAttribute(lambda o: o.experience.price * o.guest_count)
