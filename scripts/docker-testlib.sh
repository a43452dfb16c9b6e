# shellcheck shell=bash
# Small helpers shared by tests/container/run.sh, tests/compose/run.sh,
# tests/version/check.sh and tests/scripts/run.sh, plus the engine helpers of
# docker-env.sh (only defined here, nothing started). Every request goes to
# 127.0.0.1 only. Results are counted and printed by tests/lib/checks.sh.

# shellcheck source=scripts/docker-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/docker-env.sh"

# A TCP port on 127.0.0.1 that nothing listens on right now (tests/lib/helpers.py).
tl_free_port() {
  PYTHONPATH="$(dirname "${BASH_SOURCE[0]}")/../tests/lib" python3 -c 'from helpers import free_port; print(free_port())'
}

# tl_http URL [curl args...]: sets TL_CODE (status, 000 on no answer) and TL_BODY.
tl_http() {
  local url=$1; shift
  local out
  out=$(curl -s --max-time 10 -w '\n%{http_code}' "$@" "$url" 2>/dev/null) || true
  TL_CODE=${out##*$'\n'}
  TL_BODY=${out%$'\n'*}
  [ -n "$TL_CODE" ] || TL_CODE=000
}

# tl_wait_http URL CODE SECONDS: poll until URL answers CODE; returns 1 on timeout.
tl_wait_http() {
  local url=$1 want=$2 limit=$3 deadline
  deadline=$(($(date +%s) + limit))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    tl_http "$url"
    [ "$TL_CODE" = "$want" ] && return 0
    sleep 0.2
  done
  return 1
}

# tl_until SECONDS CMD...: run CMD every second until it succeeds; returns 1 on timeout.
tl_until() {
  local deadline=$(($(date +%s) + $1))
  shift
  while [ "$(date +%s)" -lt "$deadline" ]; do
    "$@" && return 0
    sleep 1
  done
  return 1
}

# tl_json FIELD: print FIELD of the JSON object in $TL_BODY (empty if absent).
tl_json() {
  python3 -c 'import json, sys
try:
    v = json.loads(sys.argv[1]).get(sys.argv[2], "")
except ValueError:
    v = ""
print(str(v).lower() if isinstance(v, bool) else v)' "$TL_BODY" "$1"
}
