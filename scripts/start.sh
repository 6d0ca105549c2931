#!/usr/bin/env bash
# Serve the app with granian (WSGI) on $HOST:$PORT: $WEB_CONCURRENCY worker processes,
# $WEB_THREADS threads each. Why granian and not gunicorn: README.md#performance.
#
# Graceful restart: `kill -HUP <granian pid>` respawns the workers one by one; SIGTERM
# stops after in-flight requests (workers that do not stop within
# $GRACEFUL_TIMEOUT seconds are killed). A worker that dies is respawned.
#
# prometheus_client multiprocess mode: every worker writes its samples to
# PROMETHEUS_MULTIPROC_DIR and /metrics aggregates them (and drops the live gauges of
# workers that are gone: guelaguetza/observability/views.py). The directory must be set
# before Python starts and emptied at each start, or a previous run's counters would be
# added to this one's.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT="${PORT:-3005}"
HOST="${HOST:-0.0.0.0}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
WEB_THREADS="${WEB_THREADS:-1}"
GRACEFUL_TIMEOUT="${GRACEFUL_TIMEOUT:-10}"
ACCESS_LOG="${ACCESS_LOG:-true}"
WSGI_APP="${WSGI_APP:-guelaguetza.wsgi:application}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
BIN="${VENV_BIN:-.venv/bin}"
args=(
    --interface wsgi --host "$HOST" --port "$PORT"
    --workers "$WEB_CONCURRENCY" --blocking-threads "$WEB_THREADS"
    --respawn-failed-workers --workers-kill-timeout "$GRACEFUL_TIMEOUT"
    --log-level "${SERVER_LOG_LEVEL:-info}"
)
case "${ACCESS_LOG,,}" in
    true | 1 | yes | on) args+=(--access-log) ;;
    *) args+=(--no-access-log) ;;
esac
echo "granian on $HOST:$PORT, $WEB_CONCURRENCY workers x $WEB_THREADS threads," \
    "access log ${ACCESS_LOG} (metrics: $PROMETHEUS_MULTIPROC_DIR)"
exec "$BIN/granian" "${args[@]}" "$WSGI_APP"
