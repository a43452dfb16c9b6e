#!/usr/bin/env bash
# `make run`: a private redis-server on a free loopback port, then scalecache
# on 127.0.0.1:${PORT:-8080} in the foreground. Ctrl-C stops both and removes
# the temporary directory. Without redis-server it runs L1-only and says so.
# Purges need an admin token: unless SCALECACHE_ADMIN_TOKEN (or
# SCALECACHE_ADMIN_TOKEN_FILE) is set, a random one is generated for this run
# and the purge command that uses it is printed.
set -euo pipefail

bin="${1:-build/scalecache}"
port="${PORT:-8080}"
workdir="$(mktemp -d /tmp/scalecache-run.XXXXXX)"
redis_pid=""
app_pid=""

# stop_pid PID: TERM and reap it, if it was started and is still there.
stop_pid() {
  [ -n "$1" ] || return 0
  if kill -TERM "$1" 2>/dev/null; then wait "$1" 2>/dev/null || true; fi
}

cleanup() {
  trap - EXIT INT TERM
  stop_pid "$app_pid"
  stop_pid "$redis_pid"
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_in_use "$port"; then
  echo "make run: port $port is taken; choose another with PORT=8081 make run" >&2
  exit 1
fi

redis_url=""
if command -v redis-server >/dev/null; then
  redis_port=""
  for p in $(shuf -i 20000-29999 -n 50); do
    if ! port_in_use "$p"; then redis_port="$p"; break; fi
  done
  if [ -n "$redis_port" ]; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$workdir" --logfile "$workdir/redis.log" &
    redis_pid=$!
    for _ in $(seq 50); do port_in_use "$redis_port" && break; sleep 0.1; done
    if port_in_use "$redis_port"; then
      redis_url="redis://127.0.0.1:$redis_port"
    else
      echo "make run: redis-server did not start (see below); running L1-only" >&2
      cat "$workdir/redis.log" >&2 || true
    fi
  fi
else
  echo "make run: redis-server is not installed; running L1-only (no shared L2)" >&2
fi

# A fresh random token per run, unless one is configured.
if [ -n "${SCALECACHE_ADMIN_TOKEN_FILE:-}" ]; then
  token=$(head -n 1 "$SCALECACHE_ADMIN_TOKEN_FILE")
elif [ -n "${SCALECACHE_ADMIN_TOKEN:-}" ]; then
  token=$SCALECACHE_ADMIN_TOKEN
else
  token=$(od -An -tx1 -N 24 /dev/urandom | tr -d ' \n')
fi

cat <<MSG

  scalecache on http://127.0.0.1:$port  (L2: ${redis_url:-none, L1 only})
    curl -s http://127.0.0.1:$port/data/hello      first call waits for the origin (2 s)
    curl -s http://127.0.0.1:$port/data/hello      then answered from L1
    curl -s -X DELETE -H "Authorization: Bearer $token" http://127.0.0.1:$port/data/hello
    curl -s http://127.0.0.1:$port/metrics | grep scalecache_
    curl -s http://127.0.0.1:$port/readyz
  Ctrl-C stops scalecache and its Redis.

MSG

SCALECACHE_SERVER_HOST=127.0.0.1 SCALECACHE_SERVER_PORT="$port" SCALECACHE_REDIS_URL="$redis_url" \
SCALECACHE_ADMIN_TOKEN="$token" \
SCALECACHE_SHUTDOWN_DRAIN_SECONDS="${SCALECACHE_SHUTDOWN_DRAIN_SECONDS:-0}" \
  "$bin" --config config/scalecache.yaml &
app_pid=$!
wait "$app_pid" || true
app_pid=""
