#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS (default 60) on its committed seed
# corpus (tests/fuzz/corpus/<target>, read only) plus a working corpus in
# OUT_DIR/corpus/<target>. A crash, a sanitizer report, a leak, a timeout
# (>10 s per input) or >2 GB RSS fails; the input is kept in OUT_DIR/artifacts.
#   tests/fuzz/run.sh OUT_DIR [SECONDS]
set -euo pipefail
out=${1:?usage: run.sh OUT_DIR [SECONDS]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
symbolizer=$(command -v llvm-symbolizer-14 || echo /usr/lib/llvm-14/bin/llvm-symbolizer)
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:external_symbolizer_path=$symbolizer"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:external_symbolizer_path=$symbolizer"
mkdir -p "$out/artifacts"
status=0
for target in key_decoder entry_codec config_loader; do
  mkdir -p "$out/corpus/$target"
  echo "fuzz: $target for ${seconds}s"
  if ! "$out/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" \
       "$out/corpus/$target" "$here/corpus/$target" >"$out/$target.log" 2>&1; then
    echo "fuzz: $target FAILED (log: $out/$target.log)"
    tail -40 "$out/$target.log"
    status=1
  else
    grep -E "stat::number_of_executed_runs|cov: " "$out/$target.log" | tail -2 | sed "s/^/fuzz: $target: /"
  fi
done
exit $status
