#!/usr/bin/env bash
# The project has one version, the VERSION of project() in CMakeLists.txt
# (scripts/version.sh). Checks that everything carrying it agrees:
#   1. the copies in the chart, compose.yaml and k8s/ (scripts/version.sh --check)
#   2. the image tag `make image` builds (make image-name)
#   3. the User-Agent the built binary sends to an http origin (user_agent.py)
# Run by `make test` (target test-version). Environment: SCALECACHE_BIN
# (default build/scalecache).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
export SCALECACHE_BIN="${SCALECACHE_BIN:-$ROOT/build/scalecache}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scalecache-version.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

PASSED=(); FAILED=()
pass() { PASSED+=("$1"); printf '  ok    %s\n' "$1"; }
fail() { FAILED+=("$1"); printf '  FAIL  %s\n' "$1"; [ -n "${2:-}" ] && sed 's/^/        /' "$2" | head -40; return 0; }
# same NAME EXPECTED ACTUAL-COMMAND...: the command's output must be EXPECTED.
same() {
  local name=$1 expected=$2; shift 2
  local got
  if got=$("$@" 2>"$WORK/err.log") && [ "$got" = "$expected" ]; then pass "$name: $got"
  else { echo "expected: $expected"; echo "got:      $got"; cat "$WORK/err.log"; } >"$WORK/out.log"; fail "$name" "$WORK/out.log"; fi
}

echo "version (project version in CMakeLists.txt)"
version=$(scripts/version.sh) || { echo "  FAIL  no project version"; exit 1; }
pass "project version $version"

if scripts/version.sh --check >"$WORK/out.log" 2>&1; then
  pass "chart appVersion, ci values, compose.yaml, k8s/base: $(grep -c '^ok' "$WORK/out.log") copies say $version"
else
  fail "every copy says $version (scripts/version.sh --sync writes them)" "$WORK/out.log"
fi

same "make image-name" "scalecache:$version" make --no-print-directory -s image-name

if [ -x "$SCALECACHE_BIN" ]; then
  same "User-Agent to an http origin" "scalecache/$version" python3 tests/version/user_agent.py
else
  fail "User-Agent to an http origin: no binary at $SCALECACHE_BIN (make build)"
fi

echo "${#PASSED[@]} passed, ${#FAILED[@]} failed"
[ "${#FAILED[@]}" -eq 0 ]
