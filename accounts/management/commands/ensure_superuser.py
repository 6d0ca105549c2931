"""Create the Django admin's staff superuser once (`make run`, the Docker stack).

Email from ``DJANGO_SUPERUSER_EMAIL`` (default ``staff@guelaguetza.mx``); password from
``DJANGO_SUPERUSER_PASSWORD``, or else generated and printed this once: the repository
holds no password, and the demo logins (public passwords) are never staff. An existing
account is left as it is; `manage.py changepassword <email>` sets a new password.
"""

import os
import secrets

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.seed import DEMO_USERS

DEFAULT_EMAIL = "staff@guelaguetza.mx"


class Command(BaseCommand):
    help = "Create the staff superuser if missing (password generated and printed once)."

    def handle(self, *args, **options):
        email = (os.environ.get("DJANGO_SUPERUSER_EMAIL") or DEFAULT_EMAIL).strip().lower()
        if email in {row[0] for row in DEMO_USERS}:
            raise CommandError(f"{email} is a demo login with a public password: pick another")
        if User.objects.filter(email=email).exists():
            self.stdout.write(f"superuser {email} exists")
            return
        given = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or ""
        password = given or secrets.token_urlsafe(18)
        User.objects.create_superuser(email=email, password=password, nombre="Staff")
        if given:
            self.stdout.write(f"superuser {email} created (password from the environment)")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"superuser {email} created for /admin; password (shown only now): {password}"
                )
            )
