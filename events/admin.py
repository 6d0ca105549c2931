"""Staff edit events here; saves and deletes go through the model signals, so the
caches of docs/cache.md#invalidation-map (detail, every list, attendees' my-rsvps) follow."""

from django.contrib import admin
from django.db import models
from django.db.models import Count

from events.models import Event, EventReminder, EventRSVP


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    # Scheme-less URLs are https (Django 6 default; silences its deprecation warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("title", "category", "start_date", "location", "is_official", "rsvp_count")
    list_filter = ("category", "is_official", "start_date")
    search_fields = ("title", "location", "description")
    date_hierarchy = "start_date"
    ordering = ("start_date",)
    readonly_fields = ("id", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rsvp_total=Count("rsvps", distinct=True))

    @admin.display(description="RSVPs", ordering="rsvp_total")
    def rsvp_count(self, obj: Event) -> int:
        return obj.rsvp_total


class ReadOnlyAdmin(admin.ModelAdmin):
    """RSVPs and reminders are the users' own actions: staff only look."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EventRSVP)
class EventRSVPAdmin(ReadOnlyAdmin):
    list_display = ("event", "user", "created_at")
    list_select_related = ("event", "user")
    search_fields = ("event__title", "user__email")
    list_filter = ("event__category",)
    date_hierarchy = "created_at"


@admin.register(EventReminder)
class EventReminderAdmin(ReadOnlyAdmin):
    list_display = ("event", "user", "remind_at", "sent")
    list_select_related = ("event", "user")
    search_fields = ("event__title", "user__email")
    list_filter = ("sent",)
