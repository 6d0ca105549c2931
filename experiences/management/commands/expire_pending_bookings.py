"""Cancel stale PENDING_PAYMENT / PAYMENT_FAILED bookings and give their seats back.

The original backend's 30-minute cleanup job. Nothing produces those statuses while
payments are out of scope (API.md 7.6), so it is normally a no-op; imported data may
still hold some.
"""

import datetime as dt

from django.core.management.base import BaseCommand

from experiences.services import bookings_expire_pending


class Command(BaseCommand):
    help = "Cancel PENDING_PAYMENT/PAYMENT_FAILED bookings older than --older-than minutes."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=30, help="minutes (default 30)")

    def handle(self, *args, **options):
        minutes = options["older_than"]
        if minutes < 0:
            self.stderr.write("--older-than must be >= 0")
            return
        expired = bookings_expire_pending(older_than=dt.timedelta(minutes=minutes))
        self.stdout.write(f"expired {expired} booking(s) older than {minutes} min")
