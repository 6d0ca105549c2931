"""Festival events, RSVPs and reminders (docs/api.md#events)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from guelaguetza.models import IdField, TimestampedModel


class EventCategory(models.TextChoices):
    # Declaration order is the enum order of docs/api.md#enums.
    DANZA = "DANZA"
    MUSICA = "MUSICA"
    GASTRONOMIA = "GASTRONOMIA"
    ARTESANIA = "ARTESANIA"
    CEREMONIA = "CEREMONIA"
    DESFILE = "DESFILE"
    OTRO = "OTRO"


class Event(TimestampedModel):
    """A festival event. Read through events.selectors (cached); edits come from the admin."""

    title = models.CharField(max_length=200)
    description = models.TextField()
    image_url = models.URLField(max_length=500, null=True, blank=True)
    location = models.CharField(max_length=255)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=EventCategory.choices)
    is_official = models.BooleanField(default=False)

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [
            # The list filters on startDate bounds (optionally with a category) and
            # orders by startDate: both are served by an index scan in order.
            models.Index(fields=["start_date", "id"], name="events_event_start_idx"),
            models.Index(fields=["category", "start_date"], name="events_event_cat_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=EventCategory.values),
                name="events_event_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="events_event_end_after_start",
                violation_error_message="La fecha de fin debe ser posterior al inicio",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="events_event_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="events_event_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EventRSVP(models.Model):
    id = IdField()
    # No separate index on user: the unique (user, event) index serves user lookups.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_rsvps",
        db_index=False,
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "RSVP"
        verbose_name_plural = "RSVPs"
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="events_rsvp_user_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.event_id}"


class EventReminder(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_reminders",
        db_index=False,
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reminders")
    remind_at = models.DateTimeField()
    sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event"], name="events_reminder_user_event_unique"
            )
        ]
        indexes = [
            # The (future) reminder job scans only the unsent reminders that are due.
            models.Index(
                fields=["remind_at"],
                condition=Q(sent=False),
                name="events_reminder_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.event_id} @ {self.remind_at:%Y-%m-%d %H:%M}"
