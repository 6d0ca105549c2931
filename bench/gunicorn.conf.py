"""gunicorn (sync workers) settings, for bench/hitpath.py's server comparison only: the
project runs under granian (scripts/start.sh; README.md#performance says why).

Environment: WEB_CONCURRENCY (2 workers), ACCESS_LOG (false), PROMETHEUS_MULTIPROC_DIR.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 30
graceful_timeout = 10
accesslog = "-" if os.environ.get("ACCESS_LOG", "false").lower() == "true" else None
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
