#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer before migrating, serving or testing.
# Waits up to SERVICE_WAIT_SECONDS (30). If a service on this machine is down and its
# server binaries are installed, starts it once; otherwise says how to get one.
set -uo pipefail
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/guelaguetza}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
WAIT="${SERVICE_WAIT_SECONDS:-30}"

hostport() {  # URL default_port -> "host port"
  python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or int(sys.argv[2]))
PY
}
up() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
is_local() { [[ "$1" == 127.* || "$1" == localhost || "$1" == ::1 ]]; }

start_postgres() {
  command -v pg_ctlcluster >/dev/null || return 1
  local v; v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1); [ -n "$v" ] || return 1
  echo "starting PostgreSQL $v (pg_ctlcluster)"
  pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1
}
start_redis() {
  command -v redis-server >/dev/null || return 1
  echo "starting redis-server on port $1"
  mkdir -p /tmp/guelaguetza-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$1" --save "" --appendonly no \
    --dir /tmp/guelaguetza-redis --logfile /tmp/guelaguetza-redis/redis.log >/dev/null
}

wait_for() {  # name host port starter
  local name=$1 host=$2 port=$3 starter=$4 tried=0
  for ((i = 0; i < WAIT * 2; i++)); do
    up "$host" "$port" && return 0
    if (( tried == 0 )) && is_local "$host"; then tried=1; $starter "$port" || true; fi
    sleep 0.5
  done
  return 1
}

read -r PGH PGP < <(hostport "$DATABASE_URL" 5432)
read -r RH RP < <(hostport "$REDIS_URL" 6379)
fail=0
if ! wait_for PostgreSQL "$PGH" "$PGP" start_postgres; then
  echo "PostgreSQL is not reachable at $PGH:$PGP (DATABASE_URL=$DATABASE_URL)." >&2
  echo "  Start it (Debian: apt-get install postgresql && pg_ctlcluster 15 main start)" >&2
  echo "  or point DATABASE_URL at a running server." >&2
  fail=1
fi
if ! wait_for Redis "$RH" "$RP" start_redis; then
  echo "Redis is not reachable at $RH:$RP (REDIS_URL=$REDIS_URL)." >&2
  echo "  Start it (Debian: apt-get install redis-server && redis-server --daemonize yes)" >&2
  echo "  or point REDIS_URL at a running server." >&2
  fail=1
fi
exit $fail
