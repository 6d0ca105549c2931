#!/usr/bin/env bash
# Serve the app with gunicorn on 0.0.0.0:$PORT with $WEB_CONCURRENCY workers.
# prometheus_client multiprocess mode: every worker writes its samples to
# PROMETHEUS_MULTIPROC_DIR and /metrics aggregates them. The directory must be set
# before Python starts and emptied at each start, or a previous run's counters
# (and its dead workers' gauges) would be added to this one's.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT="${PORT:-3005}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
BIN="${VENV_BIN:-.venv/bin}"
echo "gunicorn on 0.0.0.0:$PORT, $WEB_CONCURRENCY workers (metrics: $PROMETHEUS_MULTIPROC_DIR)"
exec "$BIN/gunicorn" -c gunicorn.conf.py guelaguetza.wsgi:application
