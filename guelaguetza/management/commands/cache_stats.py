"""``manage.py cache_stats``: hits, misses, errors and hit rate per service.

Counters live in the processes that serve requests. Under the server they are in
PROMETHEUS_MULTIPROC_DIR, which this command reads when that variable is set (same as
/metrics); ``--url`` reads a running server's /metrics page instead. Without either it
can only show this process's own (empty) counters, and says so.
"""

import os
import urllib.request

from django.core.management.base import BaseCommand, CommandError
from prometheus_client.parser import text_string_to_metric_families

from guelaguetza.cache import cache
from guelaguetza.cache.metrics import SERVICES, hit_rate, totals


class Command(BaseCommand):
    help = "Cache hits, misses, errors and hit rate per service, and keys in Redis."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="read a running server's /metrics page")
        parser.add_argument("--token", default="", help="bearer token for --url (METRICS_TOKEN)")

    def handle(self, *args, url: str | None, token: str, **options):
        if url:
            source = url
            families = list(text_string_to_metric_families(self._fetch(url, token)))
        elif os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            source = f"all workers ({os.environ['PROMETHEUS_MULTIPROC_DIR']})"
            families = None
        else:
            source = "this process only (set PROMETHEUS_MULTIPROC_DIR or use --url)"
            families = None
        t = totals(families)
        self.stdout.write(f"source: {source}")
        self.stdout.write(
            f"{'service':<14}{'hits':>10}{'misses':>10}{'errors':>10}{'hit rate':>10}"
        )
        for service in (*SERVICES, "total"):
            if service == "total":
                h, m, e = (sum(t[k].values()) for k in ("hits", "misses", "errors"))
            else:
                h, m, e = (t[k][service] for k in ("hits", "misses", "errors"))
            rate = f"{hit_rate(h, m):.1f} %"
            self.stdout.write(f"{service:<14}{h:>10.0f}{m:>10.0f}{e:>10.0f}{rate:>10}")
        keys = cache.key_count()
        self.stdout.write(
            f"keys in the cache's Redis DB: {'unavailable' if keys is None else keys}"
        )

    @staticmethod
    def _fetch(url: str, token: str) -> str:
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode()
        except OSError as exc:
            raise CommandError(f"cannot read {url}: {exc}") from None
