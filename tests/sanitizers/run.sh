#!/usr/bin/env bash
# Runs the unit suite (ctest) and Python suites against a sanitized build.
#   tests/sanitizers/run.sh asan|tsan BUILD_DIR SUITE...
# Called by `make test-asan` / `make test-tsan` (mk/hardening.mk). Any
# sanitizer report fails: the processes abort on the first one
# (halt_on_error=1) and tests/sanitizers/sanitizer_check.py turns a report
# in a scalecache log into a test failure; test_sanitizer_check.py first shows
# that its patterns recognise each kind of report this sanitizer prints.
set -euo pipefail
kind=$1 build=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || echo /usr/lib/llvm-14/bin/llvm-symbolizer)
case "$kind" in
  asan)
    export ASAN_SYMBOLIZER_PATH=$symbolizer
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:print_stacktrace=1:external_symbolizer_path=$symbolizer"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:external_symbolizer_path=$symbolizer"
    export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
    ;;
  tsan)
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tsan.supp:print_suppressions=0:external_symbolizer_path=$symbolizer"
    ;;
  *) echo "usage: $0 asan|tsan BUILD_DIR SUITE..." >&2; exit 2 ;;
esac

# Both halves run even when the first fails, so one CI run shows everything.
export SCALECACHE_SANITIZER=$kind
started=$(date +%s)
failed=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)") || failed=1
cd "$repo"
SCALECACHE_BIN="$build/scalecache" PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -m pytest -q -p no:cacheprovider -p sanitizer_check "$here/test_sanitizer_check.py" "$@" || failed=1
echo "test-$kind: $(( $(date +%s) - started )) s"
exit $failed
