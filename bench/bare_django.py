"""A bare Django for bench/hitpath.py: one view returning constant bytes, no middleware,
no apps, no database. Served by the same application server with the same settings as
the project, it is the cost of Django itself: "project / bare Django" says how much of a
request the project's own code (middleware, DRF, the cache) takes.

Used as DJANGO_SETTINGS_MODULE and ROOT_URLCONF at once (bench/bare_wsgi.py).
"""

import secrets

from django.http import HttpResponse
from django.urls import path

SECRET_KEY = secrets.token_urlsafe(32)  # signs nothing; Django only wants one
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
MIDDLEWARE: list[str] = []
INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
USE_TZ = True

# The size of a cached leaderboard page (page 1, limit 20: ~2.3 KB), so both move the
# same bytes.
BODY = (
    b'{"success":true,"data":{"entries":['
    + b",".join(
        b'{"rank":%d,"userId":"c%023d","nombre":"Nombre","apellido":"Apellido","avatar":null,'
        b'"xp":%d,"level":5,"badgeCount":3}' % (i, i, 10_000 - i)
        for i in range(1, 21)
    )
    + b'],"total":100000,"page":1,"limit":20}}'
)


def constant(request):
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [path("bare", constant)]
