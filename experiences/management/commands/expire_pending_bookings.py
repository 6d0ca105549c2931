"""Cancel stale PENDING_PAYMENT / PAYMENT_FAILED bookings and give their seats back;
forget Idempotency-Key responses older than a day.

The original backend's 30-minute cleanup job. Nothing produces those statuses while
payments are out of scope (docs/api.md#booking-rules), so it is normally a no-op; imported data may
still hold some.
"""

import datetime as dt

from django.core.management.base import BaseCommand

from experiences.services import bookings_expire_pending, idempotency_keys_purge


class Command(BaseCommand):
    help = "Cancel PENDING_PAYMENT/PAYMENT_FAILED bookings older than --older-than minutes."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=30, help="minutes (default 30)")
        parser.add_argument(
            "--keys-older-than",
            type=int,
            default=24,
            help="hours after which stored Idempotency-Key responses are forgotten (default 24)",
        )

    def handle(self, *args, **options):
        minutes = options["older_than"]
        if minutes < 0:
            self.stderr.write("--older-than must be >= 0")
            return
        expired = bookings_expire_pending(older_than=dt.timedelta(minutes=minutes))
        self.stdout.write(f"expired {expired} booking(s) older than {minutes} min")
        hours = max(options["keys_older_than"], 1)
        purged = idempotency_keys_purge(older_than=dt.timedelta(hours=hours))
        self.stdout.write(f"purged {purged} idempotency key(s) older than {hours} h")
