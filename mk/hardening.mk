# Reliability, hostile input and hardening. docs/RELIABILITY.md
# describes every test and its last result.
#
#   make test-reliability     faults, overload, slow clients, NGINX fleet + hostile corpus (build/scalecache)
#   make test-hostile         only the hostile request corpus
#   make test-asan            ASan+UBSan build in build-asan: ctest, integration, hostile suites
#   make test-tsan            TSan build in build-tsan: ctest, integration, hostile suites
#   make fuzz                 libFuzzer targets in build-fuzz, FUZZ_SECONDS each (default 60)
#   make soak                 SOAK_MINUTES (default 30) of mixed load with Redis restarts; PNG plot
#
# CI (.ci/run) calls: make test-reliability test-asan test-tsan fuzz FUZZ_SECONDS=30

ASAN_BUILD_DIR  ?= build-asan
TSAN_BUILD_DIR  ?= build-tsan
FUZZ_BUILD_DIR  ?= build-fuzz
# Debug (-O0 -g): builds in about 60 % of the time of RelWithDebInfo; the tests are I/O bound.
SANITIZE_BUILD_TYPE ?= Debug
FUZZ_SECONDS    ?= 60
SOAK_MINUTES    ?= 30
SOAK_DIR        ?= $(BUILD_DIR)/soak
# The sanitized suites run the same Python tests against the instrumented binary.
SANITIZED_SUITES ?= tests/integration tests/hostile

.PHONY: hardening-deps test-reliability test-hostile test-asan test-tsan \
        build-asan build-tsan fuzz fuzz-build soak

hardening-deps:
	@tests/sanitizers/install-deps.sh

## Faults, overload, slow clients, NGINX fleet and hostile corpus against build/scalecache.
test-reliability: build hardening-deps
	SCALECACHE_BIN=$(abspath $(BIN)) tests/reliability/run.sh

## Only the hostile request corpus.
test-hostile: build hardening-deps
	SCALECACHE_BIN=$(abspath $(BIN)) $(PYTEST) tests/hostile

# -fno-sanitize-recover: UBSan aborts at the first report instead of printing and going on.
$(ASAN_BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(SANITIZE_BUILD_TYPE) \
	  -DSCALECACHE_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=undefined

$(TSAN_BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(TSAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(SANITIZE_BUILD_TYPE) \
	  -DSCALECACHE_SANITIZE=thread

## ASan+UBSan build in build-asan.
build-asan: deps $(ASAN_BUILD_DIR)/build.ninja
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

## TSan build in build-tsan.
build-tsan: deps $(TSAN_BUILD_DIR)/build.ninja
	cmake --build $(TSAN_BUILD_DIR) -j $(JOBS)

## ctest, integration and hostile suites under ASan+UBSan.
test-asan: build-asan hardening-deps
	tests/sanitizers/run.sh asan $(abspath $(ASAN_BUILD_DIR)) $(SANITIZED_SUITES)

## ctest, integration and hostile suites under TSan.
test-tsan: build-tsan hardening-deps
	tests/sanitizers/run.sh tsan $(abspath $(TSAN_BUILD_DIR)) $(SANITIZED_SUITES)

## Build the libFuzzer targets in build-fuzz.
fuzz-build: hardening-deps
	tests/fuzz/build.sh $(abspath $(FUZZ_BUILD_DIR))

## Run each libFuzzer target for FUZZ_SECONDS (60).
fuzz: fuzz-build
	tests/fuzz/run.sh $(abspath $(FUZZ_BUILD_DIR)) $(FUZZ_SECONDS)

## SOAK_MINUTES (30) of mixed load with Redis restarts; PNG plot in build/soak.
soak: build hardening-deps
	SCALECACHE_BIN=$(abspath $(BIN)) python3 tests/reliability/soak.py \
	  --minutes $(SOAK_MINUTES) --out $(abspath $(SOAK_DIR))
