"""The load benchmark's floor (bench/load.py): constant bytes through the same stack.

Routed only when BENCH_ENDPOINTS_ENABLED is set (the benchmark's server sets it), so a
production deployment never exposes it (nor imports this module: guelaguetza/urls.py
imports it only then). It runs every middleware an API request runs
and nothing else, so "cached read throughput / floor throughput" says how close a cache
hit comes to the cost of serving anything at all.
"""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

FLOOR_BODY = b'{"success":true,"data":{"entries":[],"total":0}}'


@require_GET
def floor(request):
    return HttpResponse(FLOOR_BODY, content_type="application/json")
