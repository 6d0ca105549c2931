"""Seed demo data: each app's ``seed`` module, in dependency order (idempotent).

``<app>/seed.py`` may define ``add_arguments(parser)`` and defines
``run(*, options: dict, stdout) -> None``. Apps without a seed module are skipped.
Long steps show a tqdm progress bar on stderr when it is a terminal; ``--no-progress``
(``options["no_progress"]``) turns it off there too. What was done is written to stdout.
"""

import importlib
import time

from django.core.management.base import BaseCommand

SEED_APPS = ("accounts", "gamification", "events", "experiences")


def seed_modules():
    modules = []
    for app in SEED_APPS:
        name = f"{app}.seed"
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the seed module exists but one of its imports is missing
                raise
    return modules


class Command(BaseCommand):
    help = "Create the demo logins and demo data (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="no progress bars (they are off without a TTY)",
        )
        for module in seed_modules():
            if hasattr(module, "add_arguments"):
                module.add_arguments(parser)

    def handle(self, *args, **options):
        for module in seed_modules():
            start = time.monotonic()
            module.run(options=options, stdout=self.stdout)
            app = module.__name__.split(".")[0]
            self.stdout.write(f"seed {app}: done in {time.monotonic() - start:.1f} s")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
