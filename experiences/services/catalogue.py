"""Experience, slot and review writes: docs/api.md#experiences, docs/api.md#time-slots
and docs/api.md#reviews.

Experience and review saves reach the cache through the receivers in signals.py; the
writes here that bypass signals (bulk_create, QuerySet.update) invalidate explicitly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from experiences import errors
from experiences.models import (
    Booking,
    BookingStatus,
    Experience,
    ExperienceReview,
    ExperienceTimeSlot,
)
from experiences.serializers import EXPERIENCE_FIELDS
from gamification.services import rewards_after_commit
from guelaguetza.cache import cache
from guelaguetza.errors import Forbidden, Invalid, NotFound
from guelaguetza.ids import possible_id

if TYPE_CHECKING:
    from accounts.models import User


def _experience_or_404(experience_id: str, *, lock: bool = False) -> Experience:
    if not possible_id(experience_id):
        raise NotFound(errors.EXPERIENCE_NOT_FOUND)
    qs = Experience.objects.select_for_update() if lock else Experience.objects
    experience = qs.filter(pk=experience_id).first()
    if experience is None:
        raise NotFound(errors.EXPERIENCE_NOT_FOUND)
    return experience


def experience_create(*, host: User, data: dict) -> Experience:
    """``data`` is ExperienceCreateSerializer's validated data (API names)."""
    experience = Experience(host=host, **{EXPERIENCE_FIELDS[k]: v for k, v in data.items()})
    experience.save()  # post_save clears experiences:* [F18]
    return experience


def experience_update(*, user: User, experience_id: str, data: dict) -> Experience:
    """Partial update by the host: missing fields are left as they are."""
    with transaction.atomic():
        experience = _experience_or_404(experience_id, lock=True)
        if experience.host_id != user.id:
            raise Forbidden(errors.FORBIDDEN_EDIT)
        fields = [EXPERIENCE_FIELDS[k] for k in data]
        for key, value in data.items():
            setattr(experience, EXPERIENCE_FIELDS[key], value)
        experience.save(update_fields=[*fields, "updated_at"])
    return experience


def experience_delete(*, user: User, experience_id: str) -> None:
    """Soft delete (isActive=false): bookings keep linking to it."""
    with transaction.atomic():
        experience = _experience_or_404(experience_id, lock=True)
        if experience.host_id != user.id:
            raise Forbidden(errors.FORBIDDEN_DELETE)
        experience.is_active = False
        experience.save(update_fields=["is_active", "updated_at"])


def slots_create(*, user: User, experience_id: str, slots: list[dict]) -> int:
    """Create slots (capacity defaults to maxCapacity); duplicates are rejected [F20]."""
    experience = _experience_or_404(experience_id)
    if experience.host_id != user.id:
        raise Forbidden(errors.FORBIDDEN_SLOTS_CREATE)
    rows = [
        ExperienceTimeSlot(
            experience=experience,
            date=s["date"],
            start_time=s["startTime"],
            end_time=s["endTime"],
            capacity=s.get("capacity") or experience.max_capacity,
        )
        for s in slots
    ]
    try:
        with transaction.atomic():
            ExperienceTimeSlot.objects.bulk_create(rows)
            # bulk_create fires no post_save: clear the slot lists (and the lists whose
            # date filter depends on available slots) explicitly.
            cache.cascade("slots_created", experience_id=experience.id)
    except IntegrityError as exc:
        if "slot_unique_start" in str(exc):
            raise Invalid(errors.SLOT_DUPLICATE) from exc
        raise
    return len(rows)


def slot_delete(*, user: User, slot_id: str) -> None:
    """Only the host, and only a slot without booking history (bookings keep their slot)."""
    if not possible_id(slot_id):
        raise NotFound(errors.SLOT_NOT_FOUND)
    with transaction.atomic():
        # Locked so a concurrent booking (which locks the slot too) cannot slip in.
        slot = (
            ExperienceTimeSlot.objects.select_for_update(of=("self",))
            .select_related("experience")
            .filter(pk=slot_id)
            .first()
        )
        if slot is None:
            raise NotFound(errors.SLOT_NOT_FOUND)
        if slot.experience.host_id != user.id:
            raise Forbidden(errors.FORBIDDEN_SLOT_DELETE)
        if slot.booked_count > 0 or Booking.objects.filter(time_slot=slot).exists():
            raise Invalid(errors.SLOT_HAS_BOOKINGS)
        slot.delete()  # post_delete clears experience:{id}:slots:*


def review_create(
    *, user: User, experience_id: str, rating: int, comment: str | None
) -> ExperienceReview:
    """One review per user and experience, after a COMPLETED booking; rating and
    reviewCount are recomputed in the same transaction."""
    experience = _experience_or_404(experience_id)
    completed = Booking.objects.filter(
        user=user, experience=experience, status=BookingStatus.COMPLETED
    ).exists()
    if not completed:
        raise Forbidden(errors.REVIEW_NEEDS_COMPLETED)
    if ExperienceReview.objects.filter(user=user, experience=experience).exists():
        raise Invalid(errors.REVIEW_DUPLICATE)
    try:
        with transaction.atomic():
            # Lock first: concurrent reviews recompute the aggregate one after the other.
            _experience_or_404(experience_id, lock=True)
            review = ExperienceReview.objects.create(
                user=user, experience=experience, rating=rating, comment=comment or None
            )
            _rating_refresh(experience.pk)
            rewards_after_commit(user=user, reason="review")
    except IntegrityError as exc:
        if "review_one_per_user_exp" in str(exc):
            raise Invalid(errors.REVIEW_DUPLICATE) from exc
        raise
    review.user = user
    return review


def _rating_refresh(experience_id: str) -> None:
    """rating = average of all ratings, reviewCount = their number (call it in the
    transaction that changed the reviews, with the experience row locked)."""
    agg = ExperienceReview.objects.filter(experience_id=experience_id).aggregate(
        avg=Avg("rating"), n=Count("id")
    )
    # QuerySet.update() fires no signal: the rating shows in the detail and list rows.
    Experience.objects.filter(pk=experience_id).update(
        rating=agg["avg"] or 0, review_count=agg["n"], updated_at=timezone.now()
    )
    cache.cascade("rating_changed", experience_id=experience_id)


def reviews_changed_by_staff(*, experience_ids: set[str]) -> None:
    """After an admin edit or delete of reviews: recompute each experience's rating."""
    with transaction.atomic():
        for experience_id in sorted(experience_ids):  # a fixed lock order
            Experience.objects.select_for_update().filter(pk=experience_id).exists()
            _rating_refresh(experience_id)
            # A review moved to another experience sends its receivers the new one
            # only: the refresh clears each experience's detail and rows explicitly.
