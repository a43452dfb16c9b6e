# shellcheck shell=bash
# Small helpers shared by tests/container/run.sh, tests/compose/run.sh,
# tests/version/check.sh and tests/scripts/run.sh, plus the engine helpers of
# docker-env.sh (only defined here, nothing started). Every request goes to 127.0.0.1 only.

# shellcheck source=scripts/docker-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/docker-env.sh"

TL_PASSED=0
TL_FAILED=0
TL_T0=$(date +%s.%N)

tl_log() { printf '[%6ss] %s\n' "$(tl_elapsed "$TL_T0")" "$*"; }
tl_pass() { TL_PASSED=$((TL_PASSED + 1)); tl_log "ok   - $*"; }
tl_fail() { TL_FAILED=$((TL_FAILED + 1)); tl_log "FAIL - $*"; }
# tl_check DESCRIPTION CMD...: pass when CMD succeeds.
tl_check() {
  local what=$1; shift
  if "$@"; then tl_pass "$what"; else tl_fail "$what"; fi
}
# tl_eval DESCRIPTION 'EXPRESSION': pass when the shell expression (pipes, &&, ...) succeeds.
tl_eval() {
  if eval "$2"; then tl_pass "$1"; else tl_fail "$1"; fi
}
# tl_same DESCRIPTION EXPECTED CMD...: pass when CMD succeeds and prints exactly EXPECTED.
tl_same() {
  local what=$1 expected=$2 got; shift 2
  if got=$("$@" 2>&1) && [ "$got" = "$expected" ]; then tl_pass "$what"; return 0; fi
  tl_fail "$what"
  printf '         expected: %s\n         got:      %s\n' "$expected" "$got"
}
# tl_summary NAME: the closing line CI reads; returns non-zero on any failure.
tl_summary() {
  echo "$1: $TL_PASSED passed, $TL_FAILED failed"
  [ "$TL_FAILED" -eq 0 ] && [ "$TL_PASSED" -gt 0 ]
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
tl_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
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

# tl_elapsed SINCE: seconds (one decimal) since the `date +%s.%N` value SINCE.
tl_elapsed() { awk -v now="$(date +%s.%N)" -v t0="$1" 'BEGIN { printf "%.1f", now - t0 }'; }
