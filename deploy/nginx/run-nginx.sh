#!/bin/sh
# Entrypoint of the compose stack's NGINX: runs nginx in the foreground and
# reloads it whenever the addresses behind the upstream's service name change
# (`docker compose up --scale scalecache=N`, a replica recreated with a new IP).
#
# Open-source nginx resolves the names in an upstream{} block only when it
# loads its configuration (re-resolving them needs the `resolve` server
# parameter of nginx >= 1.27.3; Debian 12 has 1.22). A reload is graceful:
# in-flight requests finish on the old workers.
#
# Environment: UPSTREAM_NAME (default scalecache), RESOLVE_INTERVAL seconds (default 5).
set -u

name=${UPSTREAM_NAME:-scalecache}
interval=${RESOLVE_INTERVAL:-5}

log() { echo "run-nginx: $*" >&2; }
addresses() { getent ahostsv4 "$name" 2>/dev/null | awk '{ print $1 }' | sort -u | tr '\n' ' '; }

# nginx refuses to start while the name does not resolve: wait for a replica.
tries=0
while [ -z "$(addresses)" ] && [ "$tries" -lt 120 ]; do
  tries=$((tries + 1))
  sleep 0.5
done

nginx -g 'daemon off;' &
nginx_pid=$!
log "nginx started (pid $nginx_pid); $name -> $(addresses)"

# docker stop sends SIGQUIT (stop_signal) or SIGTERM: both end nginx gracefully.
stop() { kill -QUIT "$nginx_pid" 2>/dev/null; }
trap stop TERM QUIT INT

last=$(addresses)
while kill -0 "$nginx_pid" 2>/dev/null; do
  sleep "$interval" &
  wait $! 2>/dev/null
  now=$(addresses)
  if [ -n "$now" ] && [ "$now" != "$last" ]; then
    if nginx -t -q 2>/dev/null; then
      log "$name: [$last] -> [$now]; reloading nginx"
      kill -HUP "$nginx_pid" && last=$now
    else
      log "$name: [$now] but the configuration does not load; keeping the running one"
    fi
  fi
done
wait "$nginx_pid"
