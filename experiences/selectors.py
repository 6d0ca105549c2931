"""Reads of the experiences app. Cached ones return the JSON-ready payload (so a cache
hit costs one Redis round trip and no ORM or serializer work), under keys of the tree."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from experiences import errors
from experiences.models import Booking, Experience, ExperienceReview, ExperienceTimeSlot
from experiences.serializers import (
    booking_full,
    experience_row,
    experience_with_host,
    pagination,
    review_with_user,
    slot_row,
)
from guelaguetza.cache import cache, keys
from guelaguetza.errors import Forbidden, NotFound
from guelaguetza.ids import possible_id
from guelaguetza.queries import related_count

if TYPE_CHECKING:
    from accounts.models import User

DETAIL_REVIEWS = 10


def _with_counts(qs, *, time_slots: bool = False):
    qs = qs.annotate(
        n_reviews=related_count(ExperienceReview, "experience"),
        n_bookings=related_count(Booking, "experience"),
    )
    return (
        qs.annotate(n_slots=related_count(ExperienceTimeSlot, "experience")) if time_slots else qs
    )


def _price_key(value: Decimal | None) -> str | None:
    # 100, 100.0 and 100.00 are one filter, so one key.
    return None if value is None else format(value.normalize(), "f")


def _normalise_search(text: str | None) -> str | None:
    """The search as the key registry normalises it (NFKC, case-folded, spaces collapsed),
    so two searches that share a key also share their results."""
    norm = " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())
    return norm or None


def experience_list(
    *,
    category: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    date: dt.date | None = None,
    search: str | None = None,
    page: int = 1,
    limit: int = 10,
    as_entry: bool = False,
):
    """Active experiences, newest first; both price bounds apply [F16]; cached [F17]."""
    search = _normalise_search(search)
    key = keys.experiences_list(
        category=category,
        min_price=_price_key(min_price),
        max_price=_price_key(max_price),
        date=date,
        q=search,  # the registry normalises and, when long or unusual, hashes it
        page=page,
        limit=limit,
    )

    def load() -> dict:
        qs = Experience.objects.filter(is_active=True)
        if category:
            qs = qs.filter(category=category)
        if min_price is not None:
            qs = qs.filter(price__gte=min_price)
        if max_price is not None:
            qs = qs.filter(price__lte=max_price)
        if date is not None:
            qs = qs.filter(
                Exists(
                    ExperienceTimeSlot.objects.filter(
                        experience=OuterRef("pk"), date=date, is_available=True
                    )
                )
            )
        if search:
            qs = qs.filter(
                Q(title__icontains=search)
                | Q(description__icontains=search)
                | Q(location__icontains=search)
            )
        total = qs.count()
        offset = (page - 1) * limit
        # Which experiences, under the membership generation read before loading; then
        # the generations of those experiences, before their rows are read, so a booking
        # on one of them clears this page and a booking on any other does not.
        ids = list(
            qs.order_by("-created_at", "-id").values_list("id", flat=True)[offset : offset + limit]
        )
        for experience_id in ids:
            cache.depends_on(f"experience:{experience_id}", f"experience:{experience_id}:row")
        rows = _with_counts(Experience.objects.filter(pk__in=ids).select_related("host")).order_by(
            "-created_at", "-id"
        )
        return {
            "experiences": [
                {
                    **experience_with_host(e),
                    "_count": {"reviews": e.n_reviews, "bookings": e.n_bookings},
                }
                for e in rows
            ],
            "pagination": pagination(page=page, limit=limit, total=total),
        }

    return (cache.entry if as_entry else cache.wrap)(key, load)


def experience_detail(*, experience_id: str, as_entry: bool = False):
    """Row + host + the 10 newest reviews + counts; inactive ones too (old bookings)."""
    if not possible_id(experience_id):
        raise NotFound(errors.EXPERIENCE_NOT_FOUND)

    def load() -> dict:
        exp = (
            _with_counts(Experience.objects.select_related("host")).filter(pk=experience_id).first()
        )
        if exp is None:
            raise NotFound(errors.EXPERIENCE_NOT_FOUND)
        reviews = exp.reviews.select_related("user").order_by("-created_at", "-id")[:DETAIL_REVIEWS]
        return {
            **experience_with_host(exp),
            "reviews": [review_with_user(r) for r in reviews],
            "_count": {"reviews": exp.n_reviews, "bookings": exp.n_bookings},
        }

    key = keys.experience_detail(experience_id=experience_id)
    return (cache.entry if as_entry else cache.wrap)(key, load)


def experience_slots(
    *, experience_id: str, start: str, end: str | None = None, as_entry: bool = False
):
    """Available slots between two validated ``YYYY-MM-DD`` strings (inclusive), keyed
    by those raw strings (docs/cache.md#key-tree)."""
    if not possible_id(experience_id):
        raise NotFound(errors.EXPERIENCE_NOT_FOUND)
    end = end or start

    def load() -> list[dict]:
        slots = ExperienceTimeSlot.objects.filter(
            experience_id=experience_id,
            date__gte=dt.date.fromisoformat(start),
            date__lte=dt.date.fromisoformat(end),
            is_available=True,
        ).order_by("date", "start_time")
        rows = [{**slot_row(s), "availableSpots": s.capacity - s.booked_count} for s in slots]
        # Slots exist only for an existing experience: the 404 check costs a query only
        # when there are none (one query per miss instead of two on the common path).
        if not rows and not Experience.objects.filter(pk=experience_id).exists():
            raise NotFound(errors.EXPERIENCE_NOT_FOUND)
        return rows

    key = keys.experience_slots(experience_id=experience_id, start=start, end=end)
    return (cache.entry if as_entry else cache.wrap)(key, load)


def _bookings_page(qs, *, status: str | None, page: int, limit: int, with_user: bool) -> dict:
    if status:
        qs = qs.filter(status=status)
    total = qs.count()
    offset = (page - 1) * limit
    related = ["experience__host", "time_slot"] + (["user"] if with_user else [])
    rows = qs.select_related(*related).order_by("-created_at", "-id")[offset : offset + limit]
    out = []
    for b in rows:
        item = booking_full(b)
        if with_user:
            u = b.user
            item["user"] = {
                "id": u.id,
                "nombre": u.nombre,
                "apellido": u.apellido,
                "email": u.email,
                "avatar": u.avatar,
            }
        out.append(item)
    return {"bookings": out, "pagination": pagination(page=page, limit=limit, total=total)}


def booking_list(*, user: User, status: str | None = None, page: int = 1, limit: int = 10) -> dict:
    """The caller's own bookings (uncached: private and write-heavy)."""
    return _bookings_page(
        Booking.objects.filter(user=user), status=status, page=page, limit=limit, with_user=False
    )


def host_booking_list(
    *, user: User, status: str | None = None, page: int = 1, limit: int = 10
) -> dict:
    return _bookings_page(
        Booking.objects.filter(experience__host=user),
        status=status,
        page=page,
        limit=limit,
        with_user=True,
    )


def host_experience_list(*, user: User) -> list[dict]:
    """All the caller's experiences, inactive included, newest first, unpaginated."""
    rows = _with_counts(Experience.objects.filter(host=user), time_slots=True).order_by(
        "-created_at", "-id"
    )
    return [
        {
            **experience_row(e),
            "_count": {"bookings": e.n_bookings, "reviews": e.n_reviews, "timeSlots": e.n_slots},
        }
        for e in rows
    ]


def booking_detail(*, user: User, booking_id: str) -> dict:
    """Owner or host only: BookingRow + experience + timeSlot + user."""
    booking = (
        Booking.objects.select_related("experience__host", "time_slot", "user")
        .filter(pk=booking_id)
        .first()
        if possible_id(booking_id)
        else None
    )
    if booking is None:
        raise NotFound(errors.BOOKING_NOT_FOUND)
    if user.id not in (booking.user_id, booking.experience.host_id):
        raise Forbidden(errors.FORBIDDEN_VIEW)
    u = booking.user
    return {
        **booking_full(booking),
        "user": {"id": u.id, "nombre": u.nombre, "apellido": u.apellido, "email": u.email},
    }
