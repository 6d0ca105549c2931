"""Delete refresh-token rows that can no longer be used (run daily, e.g. from cron).

A row is kept until its token expires even once used or revoked: until then a replay
of it must still be recognised (and revoke its family).
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import RefreshToken


class Command(BaseCommand):
    help = "Delete expired refresh-token rows."

    def handle(self, *args, **options):
        deleted, _ = RefreshToken.objects.filter(expires_at__lt=timezone.now()).delete()
        self.stdout.write(f"refresh tokens: {deleted} expired rows deleted")
