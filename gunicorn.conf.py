"""gunicorn settings for `make run` (scripts/start.sh) and the Docker image.

Environment: PORT (3005), WEB_CONCURRENCY (2 workers), GUNICORN_TIMEOUT (30 s),
GUNICORN_ACCESS_LOG ("-"; empty: none),
PROMETHEUS_MULTIPROC_DIR (set by scripts/start.sh: metrics of every worker in one scrape).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '3005')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# GUNICORN_ACCESS_LOG: "-" (stdout, the default), a file path, or empty for none.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# Workers import the app themselves (no preload): each opens its own DB and Redis
# connections and its own prometheus_client multiprocess files.
preload_app = False
# Several servers may run on one machine (tests, `make run`): no shared control socket.
control_socket_disable = True


def child_exit(server, worker):
    """A worker's live gauges must not outlive it in the aggregated scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
