"""``manage.py cache_tree``: the key registry, live key counts and the invalidation map."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from guelaguetza.cache import CASCADES, FAMILIES, cache, docs
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
        parser.add_argument(
            "--markdown", action="store_true", help="the registry's tables, as in docs/cache.md"
        )
        parser.add_argument(
            "--write", metavar="FILE", help="with --markdown: rewrite FILE's generated part"
        )

    def handle(self, *args, **options):
        out = self.stdout
        if options["markdown"]:
            if options["write"]:
                changed = docs.write(Path(options["write"]))
                out.write(f"{options['write']}: {'updated' if changed else 'up to date'}")
            else:
                out.write(docs.registry_markdown(), ending="")
            return
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
            if family.captures:
                out.write(f"{'':<48}and, recorded by its loader: {', '.join(family.captures)}")
        if counts is not None:
            out.write(
                f"generation keys: {counts['gen']}, single-flight locks: {counts['lock']}, "
                f"other keys under the prefix: {counts['other']}"
            )
        out.write("")
        out.write("Named cascades of writes that fire no signal (cache.cascade, after commit);")
        out.write("every other write is cleared from the families' declarations (--markdown).")
        for name, targets in CASCADES.items():
            out.write(f"  {name:<24} {', '.join(targets)}")
