"""factory-boy factories shared by the test suite (one section per app)."""

import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.mx")
    nombre = factory.Faker("first_name", locale="es_MX")
    apellido = factory.Faker("last_name", locale="es_MX")
    password = factory.django.Password("password123")


# --- events ---------------------------------------------------------------------------
def _event_start(n: int):
    import datetime as dt

    return dt.datetime(2026, 7, 1, 18, tzinfo=dt.UTC) + dt.timedelta(hours=n)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Event"

    title = factory.Sequence(lambda n: f"Evento {n}")
    description = "Un evento de la Guelaguetza"
    location = "Auditorio Guelaguetza, Oaxaca"
    latitude = 17.0654
    longitude = -96.7365
    category = "DANZA"
    # Hourly from the festival month's first evening: distinct, ordered start dates.
    start_date = factory.Sequence(lambda n: _event_start(n))


class EventRSVPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.EventRSVP"

    user = factory.SubFactory(UserFactory)
    event = factory.SubFactory(EventFactory)


# --- gamification ---------------------------------------------------------------------
def _level_for(xp: int) -> int:
    from gamification.levels import level_for

    return level_for(xp)


class UserStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "gamification.UserStats"

    user = factory.SubFactory(UserFactory)
    xp = 0
    level = factory.LazyAttribute(lambda o: _level_for(o.xp))


class BadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "gamification.Badge"

    code = factory.Sequence(lambda n: f"TEST_BADGE_{n}")
    name = factory.Sequence(lambda n: f"Insignia {n}")
    description = "Una insignia de prueba"
    icon = "🏅"
    category = "SPECIAL"
    xp_reward = 0
    threshold = 1


class UserBadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "gamification.UserBadge"

    user = factory.SubFactory(UserFactory)
    badge = factory.SubFactory(BadgeFactory)


# --- experiences ----------------------------------------------------------------------
def _future_slot_date(n: int):
    import datetime as dt

    # Always ahead of "now", whatever day the suite runs: bookings reject past slots [F15].
    return dt.date.today() + dt.timedelta(days=30 + n)


class ExperienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "experiences.Experience"

    host = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Taller de barro negro {n}")
    description = "Aprende la técnica del barro negro de San Bartolo Coyotepec."
    category = "TALLER"
    price = factory.LazyFunction(lambda: __import__("decimal").Decimal("450.00"))
    duration = 120
    max_capacity = 10
    location = "San Bartolo Coyotepec, Oaxaca"
    latitude = 16.9597
    longitude = -96.7081


class TimeSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "experiences.ExperienceTimeSlot"

    experience = factory.SubFactory(ExperienceFactory)
    date = factory.Sequence(_future_slot_date)
    start_time = factory.LazyFunction(lambda: __import__("datetime").time(10, 0))
    end_time = factory.LazyFunction(lambda: __import__("datetime").time(12, 0))
    capacity = factory.LazyAttribute(lambda o: o.experience.max_capacity)


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking row only: seats are not taken (tests that need them use the service)."""

    class Meta:
        model = "experiences.Booking"

    user = factory.SubFactory(UserFactory)
    time_slot = factory.SubFactory(TimeSlotFactory)
    experience = factory.LazyAttribute(lambda o: o.time_slot.experience)
    status = "PENDING"
    guest_count = 1
    total_price = factory.LazyAttribute(lambda o: o.experience.price * o.guest_count)
