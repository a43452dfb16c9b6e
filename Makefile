# Thin wrapper over CMake and the test scripts. `make run` and `make test`
# install whatever is missing first (Debian 12, as root or through sudo).

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
BIN        := $(BUILD_DIR)/scalecache
PYTEST     := python3 -m pytest -q -p no:cacheprovider

.PHONY: all help deps build run test test-unit test-integration test-version test-scripts test-container \
        test-compose test-chart test-observability image bench clean

## Same as build.
all: build

## This list: every target with a `## ` comment on the line above it.
help:
	@awk '/^## / { doc = substr($$0, 4); next } \
	      /^[a-zA-Z0-9_.-]+:/ && doc != "" { split($$0, t, ":"); printf "  %-22s %s\n", t[1], doc } \
	      { doc = "" }' $(MAKEFILE_LIST)

## Install the Debian packages the build needs (only those missing).
deps:
	@scripts/install-deps.sh build

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

## Configure (CMake, Ninja) and build scalecache and the unit tests in BUILD_DIR (build).
build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

## Run scalecache on 127.0.0.1, port PORT (8080), with a private redis-server; Ctrl-C stops both.
run: build
	@scripts/install-deps.sh run
	@scripts/run-local.sh $(BIN)

## Every suite: unit, integration, version, scripts, container, compose, chart, observability.
test: build
	$(MAKE) --no-print-directory test-unit test-integration
	@for t in test-version test-scripts test-container test-compose test-chart test-observability; do \
	  $(MAKE) --no-print-directory $$t || exit 1; done

## GoogleTest unit tests (ctest).
test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

## Python integration tests against the built binary and a local Redis.
test-integration: build
	@scripts/install-deps.sh test
	SCALECACHE_BIN=$(abspath $(BIN)) $(PYTEST) tests/integration tests/benchdoc

## The project version and every copy of it agree, binary's User-Agent included (tests/version).
test-version: build
	SCALECACHE_BIN=$(abspath $(BIN)) tests/version/check.sh

## The helper scripts that need no service: scripts/debian-mirror.sh on apt source fixtures (tests/scripts).
test-scripts:
	tests/scripts/run.sh

# Each script installs and starts what it needs and cleans up after itself.
# Called directly, without an existence check: a missing script or a lost
# exec bit fails the target.
## The container image suite (tests/container).
test-container: build
	tests/container/run.sh

## The compose stack suite (tests/compose).
test-compose: build
	tests/compose/run.sh

## The Helm chart and k8s/ manifests suite (tests/chart).
test-chart: build
	tests/chart/run.sh

## Metrics, dashboard and alert rules against a real Prometheus (tests/observability).
test-observability: build
	tests/observability/run.sh

-include mk/*.mk

## Remove BUILD_DIR (build).
clean:
	rm -rf $(BUILD_DIR)
