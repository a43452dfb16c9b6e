# make bench: scalecache side by side with nginx, NGINX proxy_cache,
# Varnish, a Pistache hello server and the original Flask + Redis app, plus the
# stampede, scale-out, memory, L1 micro-benchmarks and the worker tier. Installs the Debian
# packages it needs, runs everything on 127.0.0.1 with private ports and
# directories, and writes bench/results/latest.{md,png,json} and the figures
# block of BENCHMARKS.md. Takes about 12 minutes; it never fails on speed.
#
#   make bench                                   full run
#   make bench BENCH_ARGS="--only matrix,stampede --rounds 3"
#   make bench-quick                             harness check (~1 min), results in build/bench-quick
#   make bench-worker                            the worker section alone, results in build/bench-worker

BENCH_PYTHON ?= /usr/bin/python3
BENCH_ARGS   ?=

.PHONY: bench bench-quick bench-deps bench-worker

bench-deps:
	@bench/install-deps.sh

## Benchmarks side by side with nginx, Varnish and others (~12 min); BENCH_ARGS for options.
bench: build bench-deps
	PYTHONDONTWRITEBYTECODE=1 $(BENCH_PYTHON) bench/run.py --bin $(abspath $(BIN)) $(BENCH_ARGS)

## Benchmark harness check (~1 min), results in build/bench-quick.
bench-quick: build bench-deps
	PYTHONDONTWRITEBYTECODE=1 $(BENCH_PYTHON) bench/run.py --bin $(abspath $(BIN)) --quick \
	  --results-dir $(BUILD_DIR)/bench-quick $(BENCH_ARGS)

## make bench's worker section alone (~2 min), results in build/bench-worker: misses/s, 1/2/4 workers, queue latency.
bench-worker: build bench-deps
	PYTHONDONTWRITEBYTECODE=1 $(BENCH_PYTHON) bench/run.py --bin $(abspath $(BIN)) --only worker \
	  --results-dir $(BUILD_DIR)/bench-worker $(BENCH_ARGS)
