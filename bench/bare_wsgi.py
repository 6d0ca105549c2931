"""WSGI entry point of bench/bare_django.py (bench only)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_django"
application = get_wsgi_application()
