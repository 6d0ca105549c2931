"""ASGI entry point of bench/bare_django.py (bench only: granian's ASGI interface against
its WSGI one, README.md#performance)."""

import os

from django.core.asgi import get_asgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_django"
application = get_asgi_application()
