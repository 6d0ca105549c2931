"""Generated from the registry: every (family, model field it shows) is written the way
the product writes it, then read through the cache right after commit, and must equal
the same read with the cache off. A field added to a family's ``shows`` is a new case
here with no other edit; a field without a way to write it fails the case list.

The world: "star" hosts the experience, reviewed it, leads the leaderboard, has a
badge, RSVP'd an event and set a reminder, and is the signed-in reader; so every field
of every row a family shows appears in some response.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import profile_update
from accounts.tokens import access_token_issue
from events import services as event_services
from events.models import EventReminder, EventRSVP
from experiences import services as exp_services
from experiences.models import Booking, ExperienceReview
from gamification import services as gam_services
from gamification.catalogue import ensure_catalogue
from gamification.models import Badge, UserBadge
from guelaguetza.cache.registry import ALL, ANY, DELETED, FAMILIES
from tests.factories import (
    EventFactory,
    ExperienceFactory,
    TimeSlotFactory,
    UserFactory,
    UserStatsFactory,
)

NEW_SLOT_DAYS = dt.timedelta(days=41)
PROFILE_FIELDS = {"nombre", "apellido", "avatar", "region"}


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    return client


class World:
    def __init__(self) -> None:
        ensure_catalogue(Badge)
        self.star = UserFactory(nombre="Estrella", apellido="Primera")
        self.others = [UserFactory() for _ in range(3)]
        self.stats = UserStatsFactory(user=self.star, xp=500, current_streak=3, longest_streak=5)
        for i, user in enumerate(self.others):
            UserStatsFactory(user=user, xp=100 + 10 * i)
        self.badges = list(Badge.objects.order_by("code")[:2])
        UserBadge.objects.create(user=self.star, badge=self.badges[0])
        self.experience = ExperienceFactory(host=self.star)
        self.slot = TimeSlotFactory(experience=self.experience, capacity=10)
        exp_services.booking_create(
            user=self.others[0],
            experience_id=self.experience.id,
            time_slot_id=self.slot.id,
            guest_count=1,
        )
        # A completed booking lets star review, as the product requires.
        Booking.objects.create(
            user=self.star,
            experience=self.experience,
            time_slot=TimeSlotFactory(experience=self.experience),
            status="COMPLETED",
            total_price=self.experience.price,
        )
        self.review = ExperienceReview.objects.create(
            experience=self.experience, user=self.star, rating=4, comment="Muy bien"
        )
        self.event, self.event2 = EventFactory(), EventFactory()
        event_services.event_rsvp_create(user=self.star, event_id=self.event.id)
        event_services.event_rsvp_create(user=self.star, event_id=self.event2.id)
        event_services.event_reminder_set(
            user=self.star,
            event_id=self.event.id,
            remind_at=self.event.start_date - dt.timedelta(hours=2),
        )
        self.me = bearer(self.star)

    # -- how each family is read --------------------------------------------------------
    def read(self, family: str) -> list[tuple[APIClient, str]]:
        star, exp = self.star, self.experience
        start = self.slot.date.isoformat()
        end = (self.slot.date + dt.timedelta(days=60)).isoformat()
        anon = APIClient()
        return {
            "badges_all": [(self.me, "/api/gamification/me/badges")],
            "user_badges": [
                (self.me, "/api/gamification/me/badges"),
                (anon, f"/api/gamification/users/{star.id}/badges"),
            ],
            "user_auth": [(self.me, "/api/auth/me"), AUTH_RECORD],
            "user_stats": [(anon, f"/api/gamification/users/{star.id}/stats")],
            "user_rank": [(anon, f"/api/gamification/users/{star.id}/stats")],
            "user_rsvps": [(self.me, "/api/events/my-rsvps")],
            "user_rsvp_ids": [(self.me, "/api/events"), (self.me, f"/api/events/{self.event2.id}")],
            "leaderboard_page": [(anon, "/api/gamification/leaderboard?page=1&limit=20")],
            "experience_detail": [(anon, f"/api/bookings/experiences/{exp.id}")],
            "experience_slots": [
                (anon, f"/api/bookings/experiences/{exp.id}/slots?startDate={start}&endDate={end}")
            ],
            "experiences_list": [
                (anon, "/api/bookings/experiences?page=1&limit=10"),
                (anon, f"/api/bookings/experiences?date={self.slot.date.isoformat()}"),
                # the day a new slot opens (World.create): empty until then
                (anon, f"/api/bookings/experiences?date={self.slot.date + NEW_SLOT_DAYS}"),
            ],
            "event_detail": [(anon, f"/api/events/{self.event.id}")],
            "events_list": [(anon, "/api/events"), (self.me, "/api/events")],
        }[family]

    # -- how the product writes each model -----------------------------------------------
    def row_of(self, label: str):
        """A row of ``label`` that the readers show, as it is in the database now."""
        row = {
            "accounts.User": self.star,
            "gamification.UserStats": self.stats,
            "gamification.Badge": self.badges[0],
            "gamification.UserBadge": UserBadge.objects.filter(user=self.star).first(),
            "events.Event": self.event,
            "events.EventRSVP": EventRSVP.objects.get(user=self.star, event=self.event),
            "events.EventReminder": EventReminder.objects.get(user=self.star),
            "experiences.Experience": self.experience,
            "experiences.ExperienceTimeSlot": self.slot,
            "experiences.ExperienceReview": self.review,
            "experiences.Booking": Booking.objects.filter(time_slot=self.slot).first(),
        }[label]
        return type(row)._base_manager.get(pk=row.pk)

    def create(self, label: str) -> None:
        """A new row of ``label`` that the readers' responses show, made as the product
        makes it."""
        other = self.others[1]
        if label == "accounts.User":
            UserStatsFactory(user=UserFactory(), xp=900)  # a new leader
        elif label == "gamification.UserStats":
            UserStatsFactory(xp=900)
        elif label == "gamification.Badge":
            Badge.objects.create(
                code="NUEVA", name="Nueva", description="Una insignia nueva", icon="🎉",
                category=self.badges[0].category, xp_reward=5, threshold=999,
            )  # fmt: skip
        elif label == "gamification.UserBadge":
            gam_services.badge_award(user=self.star, badge=self.badges[1])
        elif label == "events.Event":
            EventFactory()
        elif label == "events.EventRSVP":
            event_services.event_rsvp_create(user=other, event_id=self.event.id)
        elif label == "events.EventReminder":
            event_services.event_reminder_set(
                user=self.star,
                event_id=self.event2.id,
                remind_at=self.event2.start_date - dt.timedelta(hours=1),
            )
        elif label == "experiences.Experience":
            ExperienceFactory(host=other)
        elif label == "experiences.ExperienceTimeSlot":
            exp_services.slots_create(
                user=self.star,
                experience_id=self.experience.id,
                slots=[
                    {
                        "date": self.slot.date + NEW_SLOT_DAYS,
                        "startTime": dt.time(9, 0),
                        "endTime": dt.time(10, 0),
                    }
                ],
            )
        elif label == "experiences.ExperienceReview":
            Booking.objects.create(
                user=other,
                experience=self.experience,
                time_slot=self.slot,
                status="COMPLETED",
                total_price=self.experience.price,
            )
            exp_services.review_create(
                user=other, experience_id=self.experience.id, rating=1, comment="Regular"
            )
        elif label == "experiences.Booking":
            exp_services.booking_create(
                user=other,
                experience_id=self.experience.id,
                time_slot_id=self.slot.id,
                guest_count=2,
            )
        else:
            raise AssertionError(f"no way to create {label}: add one to tests/cache/test_freshness")

    def delete(self, label: str) -> None:
        """The admin's delete of a shown row (Django's delete, signals included)."""
        row = self.row_of(label)
        if label == "experiences.ExperienceReview":
            row.delete()
            exp_services.reviews_changed_by_staff(experience_ids={self.experience.id})
            return
        row.delete()

    def change(self, label: str, field: str) -> None:
        """Change ``field`` of a shown row of ``label`` the way the product does: a
        service or API where there is one, else the admin's full save."""
        if label == "accounts.User" and field in PROFILE_FIELDS:
            star = self.row_of(label)
            profile_update(user=star, data={field: new_value(star, field)})
        elif label == "experiences.ExperienceTimeSlot" and field == "booked_count":
            self.create("experiences.Booking")  # seats change only through bookings
        elif label == "gamification.UserStats" and field == "xp":
            # A mover passing star: star's rank and the top of the board change.
            gam_services.xp_add(user=self.others[0], amount=600, reason="test")
        else:
            row = self.row_of(label)
            setattr(row, field, new_value(row, field))
            row.save()  # what the admin's change form does
            if label == "experiences.ExperienceReview":
                exp_services.reviews_changed_by_staff(experience_ids={self.experience.id})


def new_value(row: models.Model, name: str):
    """A different, valid value for ``row.<name>``."""
    field = row._meta.get_field(name)
    old = getattr(row, field.attname)
    if name == "host":
        return UserFactory()
    if field.choices:
        return next(value for value, _ in field.choices if value != old)
    if isinstance(field, models.BooleanField):
        return not old
    if isinstance(field, models.DateTimeField):
        return (old or timezone.now()) - dt.timedelta(hours=3)
    if isinstance(field, models.DateField):
        return old + dt.timedelta(days=40)  # clear of the other slots' days
    if isinstance(field, models.TimeField):
        return dt.time(old.hour + 1, old.minute) if name == "end_time" else dt.time(9, 30)
    if isinstance(field, models.DecimalField):
        return (old or Decimal(0)) + Decimal("1.50")
    if isinstance(field, models.FloatField):
        return (old or 0.0) + 1.25
    if isinstance(field, models.IntegerField):
        return (old or 0) + 1
    if isinstance(field, models.URLField):
        return "https://example.mx/nueva.png"
    if isinstance(field, models.EmailField):
        return "otra@example.mx"
    if isinstance(field, models.CharField | models.TextField):
        return ((old or "") + " nuevo")[: field.max_length or 1000]
    if hasattr(field, "base_field"):  # ArrayField
        return [*(old or []), "https://example.mx/otra.png"]
    raise AssertionError(f"no new value for {row._meta.label}.{name}")


def cases() -> list:
    out = []
    for family in FAMILIES.values():
        for shows in family.shows:
            for name in shows.fields:
                if name in ALL and shows.fk == "pk" and not (shows.lookup or shows.locate):
                    # The family's own entity: a new one is not what it shows, but a
                    # deleted one must be gone from it (a cached absence likewise).
                    ops = [("delete", None)]
                elif name in ALL:
                    ops = [("create", None)]
                elif name in DELETED:
                    ops = [("delete", None)]
                elif name in ANY:
                    ops = [("change", "name")]  # any save: the catalogue row's name
                else:
                    ops = [("change", name)]
                for op, field in ops:
                    case = f"{family.name}-{shows.model}-{op}-{field or name}"
                    out.append(pytest.param(family.name, shows.model, op, field, id=case))
    return out


# The token user's cached record has fields no response shows (is_staff, the ban's
# reason): it is read as the app reads it, through the cache, against its loader.
AUTH_RECORD = (None, "user:auth")


def responses(world: World, family: str) -> list:
    from django.conf import settings

    from accounts.selectors import _auth_payload
    from guelaguetza.cache import cache, keys

    out = []
    user_id = world.star.id
    for client, url in world.read(family):
        if client is None:
            if settings.CACHE_ENABLED:
                record = cache.wrap(keys.user_auth(user_id=user_id), lambda: _auth_payload(user_id))
            else:
                record = _auth_payload(user_id)
            out.append((url, 200, record))
            continue
        response = client.get(url)
        out.append((url, response.status_code, response.json() if response.content else None))
    return out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("family", "label", "op", "field"), cases())
def test_a_write_of_what_a_family_shows_is_fresh_right_after_commit(family, label, op, field):
    world = World()
    apps.get_model(label)  # a declared model exists
    responses(world, family)
    cached_before = responses(world, family)  # served from the cache
    {"create": lambda: world.create(label), "delete": lambda: world.delete(label)}.get(
        op, lambda: world.change(label, field)
    )()
    through_cache = responses(world, family)
    with override_settings(CACHE_ENABLED=False):
        from_database = responses(world, family)
    assert through_cache == from_database
    assert from_database != cached_before, "the write changed nothing this family shows"
