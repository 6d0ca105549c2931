"""Experiences hosted by locals, their time slots, bookings and reviews (docs/api.md#bookings).

The booking invariants live in the database as well as in the services
(docs/architecture.md#bookings-concurrency): a slot can never hold more guests than its
capacity, and a user holds at most one *active* booking per slot [F13].
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from guelaguetza.models import IdField, TimestampedModel


class ExperienceCategory(models.TextChoices):
    TOUR = "TOUR"
    TALLER = "TALLER"
    DEGUSTACION = "DEGUSTACION"
    CLASE = "CLASE"
    VISITA = "VISITA"


class BookingStatus(models.TextChoices):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PENDING = "PENDING"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


# One active booking per (user, slot): a cancelled one no longer blocks a rebooking [F13].
ACTIVE_STATUSES = (BookingStatus.PENDING_PAYMENT, BookingStatus.PENDING, BookingStatus.CONFIRMED)
# Every status but CANCELLED holds seats: bookedCount = sum of their guestCount
# (docs/api.md#booking-rules).
SEAT_HOLDING_STATUSES = tuple(s for s in BookingStatus if s != BookingStatus.CANCELLED)


def _default_languages() -> list[str]:
    return ["Español"]


class Experience(TimestampedModel):
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_experiences"
    )
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=2000)
    image_url = models.URLField(max_length=500, null=True, blank=True)
    images = ArrayField(models.URLField(max_length=500), default=list, blank=True)
    category = models.CharField(max_length=20, choices=ExperienceCategory.choices)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    duration = models.PositiveIntegerField(help_text="minutes")
    max_capacity = models.PositiveIntegerField()
    location = models.CharField(max_length=200)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    includes = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    languages = ArrayField(models.CharField(max_length=50), default=_default_languages, blank=True)
    is_active = models.BooleanField(default=True)
    rating = models.FloatField(default=0)
    review_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="exp_price_positive"),
            models.CheckConstraint(
                condition=Q(duration__gt=0, max_capacity__gt=0), name="exp_duration_capacity_pos"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=0, rating__lte=5), name="exp_rating_range"
            ),
        ]
        indexes = [
            # The public list: always isActive, newest first, optionally by category/price.
            models.Index(fields=["is_active", "-created_at"], name="exp_active_created"),
            models.Index(fields=["category", "is_active", "-created_at"], name="exp_cat_active"),
            models.Index(fields=["price"], name="exp_price"),
            models.Index(fields=["host", "-created_at"], name="exp_host_created"),
        ]

    def __str__(self) -> str:
        return self.title


class ExperienceTimeSlot(models.Model):
    id = IdField()
    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, related_name="time_slots")
    date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    capacity = models.PositiveIntegerField()
    booked_count = models.IntegerField(default=0)
    is_available = models.BooleanField(default=True)
    # Optimistic lock: every booking create/cancel bumps it (docs/api.md#booking-rules).
    version = models.IntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked_count__gte=0, booked_count__lte=F("capacity")),
                name="slot_booked_within_capacity",
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="slot_capacity_positive"),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="slot_end_after_start"
            ),
            # No duplicate slots [F20].
            models.UniqueConstraint(
                fields=["experience", "date", "start_time"], name="slot_unique_start"
            ),
        ]
        indexes = [
            # The slots list (experience, date range, ordered by time) uses the unique
            # index above; this one serves the available-slots gauge and the expiry job.
            models.Index(fields=["date"], name="slot_date"),
        ]

    def __str__(self) -> str:
        return f"{self.experience_id} {self.date} {self.start_time:%H:%M}"

    def save(self, *args, **kwargs) -> None:
        # Seats and version change only through the booking services' version-checked
        # UPDATE; a full save of an instance loaded earlier (an admin edit) must never
        # write back a stale bookedCount.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in {"booked_count", "version"}
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.capacity is not None and self.capacity < self.booked_count:
            raise ValidationError(
                {"capacity": "La capacidad no puede ser menor que los lugares reservados"}
            )
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "endTime debe ser posterior a startTime"})

    @property
    def available_spots(self) -> int:
        return self.capacity - self.booked_count


class Booking(TimestampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookings"
    )
    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, related_name="bookings")
    # RESTRICT: a slot with booking history is never deleted on its own (the slot delete
    # answers 400), yet deleting the whole experience still takes its bookings with it.
    time_slot = models.ForeignKey(
        ExperienceTimeSlot, on_delete=models.RESTRICT, related_name="bookings"
    )
    status = models.CharField(
        max_length=20, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    guest_count = models.PositiveIntegerField(default=1)
    total_price = models.DecimalField(max_digits=10, decimal_places=2)
    special_requests = models.TextField(max_length=500, null=True, blank=True)
    stripe_payment_id = models.CharField(max_length=255, null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(guest_count__gte=1), name="booking_guests_positive"),
            models.UniqueConstraint(
                fields=["user", "time_slot"],
                condition=Q(status__in=[s.value for s in ACTIVE_STATUSES]),
                name="booking_one_active_per_user_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="booking_user_created"),
            models.Index(fields=["user", "status", "-created_at"], name="booking_user_status"),
            models.Index(fields=["experience", "-created_at"], name="booking_exp_created"),
            models.Index(fields=["status", "updated_at"], name="booking_status_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"


class ExperienceReview(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experience_reviews"
    )
    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=1000, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "experience"], name="review_one_per_user_exp"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_range"
            ),
        ]
        indexes = [models.Index(fields=["experience", "-created_at"], name="review_exp_created")]

    def __str__(self) -> str:
        return f"{self.experience_id} {self.rating}"


class BookingIdempotencyKey(models.Model):
    """The first response to a POST /bookings/bookings carrying an ``Idempotency-Key``.

    The unique (user, key) index is also the lock: a concurrent request with the same key
    waits on it until the first one commits, then replays what it stored.
    """

    id = IdField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Null while the first request is still running (its transaction holds the row).
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="booking_idem_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"
