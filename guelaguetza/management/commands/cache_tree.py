"""``manage.py cache_tree``: the key registry, live key counts and the invalidation map."""

from django.conf import settings
from django.core.management.base import BaseCommand

from guelaguetza.cache import CASCADES, FAMILIES, cache
from guelaguetza.cache.ops import family_counts


class Command(BaseCommand):
    help = (
        "Print every cache key family (template, TTL, service, namespaces), how many keys "
        "of each Redis holds now (SCAN, ops only) and the invalidation map (CASCADES)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-count", action="store_true", help="skip the live key count (no SCAN)"
        )

    def handle(self, *args, **options):
        out = self.stdout
        counts = None if options["no_count"] else family_counts(cache)
        jitter = float(settings.CACHE_TTL_JITTER) * 100
        out.write(f'Key tree (Redis prefix "{cache.prefix}", TTL jitter +-{jitter:g} %)')
        out.write(f"{'family':<18} {'service':<13} {'TTL':>6} {'keys':>7}  template")
        for family in FAMILIES.values():
            ttl = settings.CACHE_TTLS[family.name]
            live = "-" if counts is None else str(counts[family.name])
            out.write(
                f"{family.name:<18} {family.service:<13} {ttl:>5}s {live:>7}  {family.template}"
            )
            out.write(f"{'':<48}namespaces: {', '.join(family.namespaces)}")
            if family.tag_templates:
                out.write(f"{'':<48}and, by its parts: {', '.join(family.tag_templates)}")
        if counts is not None:
            out.write(
                f"generation keys: {counts['gen']}, single-flight locks: {counts['lock']}, "
                f"other keys under the prefix: {counts['other']}"
            )
        out.write("")
        out.write("Invalidation map (cache.cascade(name, **ids), after commit):")
        for name, targets in CASCADES.items():
            out.write(f"  {name:<24} {', '.join(targets)}")
