"""Staff views. Edits save through the ORM, so the receivers in signals.py invalidate the
cache exactly as API writes do; booking writes go through the services (seats)."""

from django import forms
from django.contrib import admin
from django.contrib.postgres.forms import SimpleArrayField
from django.db import models

from experiences import services
from experiences.models import Booking, Experience, ExperienceReview, ExperienceTimeSlot
from guelaguetza.admin_errors import RefusalsAsMessages


class TimeSlotInline(admin.TabularInline):
    model = ExperienceTimeSlot
    extra = 0
    fields = ("date", "start_time", "end_time", "capacity", "seats", "is_available")
    readonly_fields = ("seats",)
    ordering = ("date", "start_time")
    show_change_link = True

    @admin.display(description="bookedCount/capacity")
    def seats(self, obj) -> str:
        return f"{obj.booked_count}/{obj.capacity}" if obj.pk else "-"


@admin.register(Experience)
class ExperienceAdmin(admin.ModelAdmin):
    # Scheme-less URLs are https (Django 6 default; silences its deprecation warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("title", "category", "host", "price", "is_active", "rating", "review_count")
    list_filter = ("category", "is_active", "created_at")
    search_fields = ("title", "description", "location", "host__email")
    raw_id_fields = ("host",)
    readonly_fields = ("rating", "review_count", "created_at", "updated_at")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "images":  # an ArrayField of URLs: same scheme rule per item
            item = forms.URLField(max_length=500, assume_scheme="https")
            return SimpleArrayField(item, required=False, label="Images")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    inlines = [TimeSlotInline]


@admin.register(ExperienceTimeSlot)
class ExperienceTimeSlotAdmin(admin.ModelAdmin):
    list_display = ("experience", "date", "start_time", "end_time", "booked_count", "capacity")
    list_filter = ("date", "is_available")
    search_fields = ("experience__title",)
    raw_id_fields = ("experience",)
    # Seats move only through bookings (the version-checked UPDATE), never by hand.
    readonly_fields = ("booked_count", "version", "created_at")


@admin.register(Booking)
class BookingAdmin(RefusalsAsMessages, admin.ModelAdmin):
    """Every write that moves seats goes through the booking services, so a slot's
    bookedCount always equals the guests of its bookings that hold seats:

    - add: ``booking_create`` (the API's rules: capacity, slot of the experience, not
      started, one active booking per user and slot); the price is computed there;
    - change: the time slot (``booking_move_by_staff``) and the special requests only;
    - cancel: the action below (``bookings_cancel_by_staff``);
    - delete, one or many: ``bookings_delete_by_staff`` (seats given back first).

    A refused write shows the service's message and changes nothing (RefusalsAsMessages).
    """

    list_display = (
        "id",
        "user",
        "experience",
        "status",
        "guest_count",
        "total_price",
        "created_at",
    )
    list_filter = ("status", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("user__email", "id", "experience__title")
    raw_id_fields = ("user", "experience", "time_slot")
    # On change; see get_readonly_fields for add.
    readonly_fields = (
        "user",
        "experience",
        "status",
        "guest_count",
        "total_price",
        "stripe_payment_id",
        "confirmed_at",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    add_readonly_fields = (
        "status",
        "total_price",
        "stripe_payment_id",
        "confirmed_at",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    actions = ["cancel_bookings"]

    def get_readonly_fields(self, request, obj=None):
        return self.add_readonly_fields if obj is None else self.readonly_fields

    @admin.action(description="Cancelar reservaciones (devuelve los lugares)")
    def cancel_bookings(self, request, queryset) -> None:
        done = services.bookings_cancel_by_staff(
            booking_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{done} reservación(es) cancelada(s)")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            booking = services.booking_create(
                user=obj.user,
                experience_id=obj.experience_id,
                time_slot_id=obj.time_slot_id,
                guest_count=obj.guest_count,
                special_requests=obj.special_requests,
            )
            # The admin goes on with ``obj`` (log entry, redirect): make it the row.
            for field in Booking._meta.concrete_fields:
                setattr(obj, field.attname, getattr(booking, field.attname))
            obj._state.adding = False
            return
        if "time_slot" in form.changed_data:
            services.booking_move_by_staff(booking_id=obj.pk, time_slot_id=obj.time_slot_id)
        obj.save(update_fields=["special_requests", "updated_at"])

    def delete_model(self, request, obj) -> None:
        services.bookings_delete_by_staff(booking_ids=[obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        services.bookings_delete_by_staff(booking_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(ExperienceReview)
class ExperienceReviewAdmin(admin.ModelAdmin):
    list_display = ("experience", "user", "rating", "created_at")
    list_filter = ("rating", "created_at")
    search_fields = ("experience__title", "user__email", "comment")
    raw_id_fields = ("user", "experience")

    # Moderation edits and deletes keep the experience's rating and reviewCount true.
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        ids = {obj.experience_id}
        if change and "experience" in form.changed_data:
            ids.add(form.initial["experience"])  # moved: the one it left changed too
        services.reviews_changed_by_staff(experience_ids=ids)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        services.reviews_changed_by_staff(experience_ids={obj.experience_id})

    def delete_queryset(self, request, queryset) -> None:
        ids = set(queryset.values_list("experience_id", flat=True))
        super().delete_queryset(request, queryset)
        services.reviews_changed_by_staff(experience_ids=ids)
