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
# shellcheck source=scripts/docker-testlib.sh
. scripts/docker-testlib.sh
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh

version=$(scripts/version.sh) || { fail "a project version in CMakeLists.txt"; checks_summary version; exit 1; }
pass "project version $version (CMakeLists.txt)"

if out=$(scripts/version.sh --check 2>&1); then
  pass "chart appVersion, ci values, compose.yaml, k8s/base: $(grep -c '^ok' <<<"$out") copies say $version"
else
  fail "every copy says $version (scripts/version.sh --sync writes them)"
  printf '%s\n' "$out"
fi

check_same "make image-name is scalecache:$version" "scalecache:$version" make --no-print-directory -s image-name

if [ -x "$SCALECACHE_BIN" ]; then
  check_same "User-Agent to an http origin is scalecache/$version" "scalecache/$version" python3 tests/version/user_agent.py
else
  fail "User-Agent to an http origin: no binary at $SCALECACHE_BIN (make build)"
fi

checks_summary version
