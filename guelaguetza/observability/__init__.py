"""Observability in one place: the Prometheus metrics the app defines (``metrics``), the
one request-metrics middleware (``middleware``) and the /metrics view (``views``).

django-prometheus still provides the database and model metrics (its DB backend and
model mixins); its request middleware is not used: ``middleware.RequestMetricsMiddleware``
records requests once (README.md#operations, metrics). The cache layer's metrics live with the
cache (guelaguetza/cache/metrics.py) and are exported by the same view.
"""
