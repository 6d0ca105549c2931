from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ExperiencesConfig(AppConfig):
    name = "experiences"

    def ready(self) -> None:
        # Cache-invalidation receivers, all wired here (STYLE.md), per DESIGN.md's map.
        from experiences import signals
        from experiences.models import Booking, Experience, ExperienceReview, ExperienceTimeSlot

        wiring = (
            (Experience, signals.experience_changed, "experience"),
            (ExperienceTimeSlot, signals.slot_changed, "slot"),
            (Booking, signals.booking_changed, "booking"),
            (ExperienceReview, signals.review_changed, "review"),
        )
        for model, receiver, name in wiring:
            post_save.connect(receiver, sender=model, dispatch_uid=f"experiences.{name}.saved")
            post_delete.connect(receiver, sender=model, dispatch_uid=f"experiences.{name}.deleted")
