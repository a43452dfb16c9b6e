# shellcheck shell=bash
# The one check library of the bash suites (tests/container, tests/compose,
# tests/chart, tests/observability, tests/e2e): how a result is counted,
# printed and summed up. Source it once per run.
#
#   check NAME CMD...         pass when CMD succeeds, else fail; returns CMD's verdict (0 or 1)
#   check_quiet NAME CMD...   the same, CMD's output shown only when it fails
#   check_eval NAME 'EXPR'    the same for a shell expression (pipes, &&, ...), evaluated here
#   check_same NAME WANT CMD...  pass when CMD succeeds and prints exactly WANT (else both shown)
#   pass NAME                 count a success
#   fail NAME [FILE]          count a failure (FILE: its first 40 lines shown); returns 0
#   skip NAME                 count a visible skip
#   checks_summary SUITE      the closing lines; returns 1 when anything failed or nothing passed
#   checks_log MESSAGE        a line with the elapsed time, counted as nothing
#   checks_elapsed SINCE      seconds (one decimal) since the `date +%s.%N` value SINCE
#
# Settings, read when a result is printed:
#   CHECKS_OUTPUT_FD   file descriptor results go to (default 1; the e2e uses 2)
#   CHECKS_RESULTS     a file every result line is appended to as well
#   CHECKS_T0          `date +%s.%N` the elapsed time in each line counts from

CHECKS_PASSED=0 CHECKS_FAILED=0 CHECKS_SKIPPED=0
CHECKS_FAILED_NAMES=() CHECKS_SKIPPED_NAMES=()
CHECKS_T0=${CHECKS_T0:-$(date +%s.%N)}

checks_elapsed() { awk -v now="$(date +%s.%N)" -v t0="$1" 'BEGIN { printf "%.1f", now - t0 }'; }

checks_log() { printf '[%6ss] %s\n' "$(checks_elapsed "$CHECKS_T0")" "$*" >&"${CHECKS_OUTPUT_FD:-1}"; }

# checks_line WORD NAME: one result line, to the output and the results file.
checks_line() {
  local _checks_line
  _checks_line=$(printf '[%6ss] %-4s  %s' "$(checks_elapsed "$CHECKS_T0")" "$1" "$2")
  printf '%s\n' "$_checks_line" >&"${CHECKS_OUTPUT_FD:-1}"
  if [ -n "${CHECKS_RESULTS:-}" ]; then printf '%s\n' "$_checks_line" >>"$CHECKS_RESULTS"; fi
}

pass() { CHECKS_PASSED=$((CHECKS_PASSED + 1)); checks_line ok "$1"; }
fail() {
  CHECKS_FAILED=$((CHECKS_FAILED + 1)); CHECKS_FAILED_NAMES+=("$1"); checks_line FAIL "$1"
  if [ -n "${2:-}" ]; then sed 's/^/        /' "$2" | head -40 >&"${CHECKS_OUTPUT_FD:-1}"; fi
  return 0
}
skip() { CHECKS_SKIPPED=$((CHECKS_SKIPPED + 1)); CHECKS_SKIPPED_NAMES+=("$1"); checks_line SKIP "$1"; }

# (Locals are prefixed: bash scopes them dynamically, so a plain `name` here
# would hide a caller's global `name` from the CMD being checked.)
check() {
  local _checks_name=$1; shift
  if "$@"; then pass "$_checks_name"; else fail "$_checks_name"; return 1; fi
}

check_quiet() {
  local _checks_name=$1 _checks_out; shift
  _checks_out=$(mktemp)
  if "$@" >"$_checks_out" 2>&1; then pass "$_checks_name"; rm -f "$_checks_out"
  else fail "$_checks_name" "$_checks_out"; rm -f "$_checks_out"; return 1; fi
}

check_eval() {
  if eval "$2"; then pass "$1"; else fail "$1"; return 1; fi
}

check_same() {
  local _checks_name=$1 _checks_want=$2 _checks_got; shift 2
  if _checks_got=$("$@" 2>&1) && [ "$_checks_got" = "$_checks_want" ]; then pass "$_checks_name"; return 0; fi
  fail "$_checks_name"
  printf '         expected: %s\n         got:      %s\n' "$_checks_want" "$_checks_got" >&"${CHECKS_OUTPUT_FD:-1}"
  return 1
}

checks_summary() {
  local _checks_name _checks_total
  for _checks_name in "${CHECKS_SKIPPED_NAMES[@]}"; do checks_line SKIP "$_checks_name"; done
  for _checks_name in "${CHECKS_FAILED_NAMES[@]}"; do checks_line FAIL "$_checks_name"; done
  _checks_total=$(printf '%s: %d passed, %d failed, %d skipped' "$1" "$CHECKS_PASSED" "$CHECKS_FAILED" "$CHECKS_SKIPPED")
  printf '%s\n' "$_checks_total" >&"${CHECKS_OUTPUT_FD:-1}"
  if [ -n "${CHECKS_RESULTS:-}" ]; then printf '%s\n' "$_checks_total" >>"$CHECKS_RESULTS"; fi
  [ "$CHECKS_FAILED" -eq 0 ] && [ "$CHECKS_PASSED" -gt 0 ]
}
