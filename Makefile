# Thin wrapper over CMake and the test scripts. `make run` and `make test`
# install whatever is missing first (Debian 12, as root or through sudo).

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
BIN        := $(BUILD_DIR)/scalecache
PYTEST     := python3 -m pytest -q -p no:cacheprovider

.PHONY: all deps build run test test-unit test-integration test-container \
        test-compose test-chart test-observability image bench clean

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@scripts/install-deps.sh run
	@scripts/run-local.sh $(BIN)

test: build
	$(MAKE) --no-print-directory test-unit test-integration
	@for t in test-container test-compose test-chart test-observability; do \
	  $(MAKE) --no-print-directory $$t || exit 1; done

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-integration: build
	@scripts/install-deps.sh test
	SCALECACHE_BIN=$(abspath $(BIN)) $(PYTEST) tests/integration tests/benchdoc

# Each script installs and starts what it needs and cleans up after itself.
# Called directly, without an existence check: a missing script or a lost
# exec bit fails the target.
test-container: build
	tests/container/run.sh

test-compose: build
	tests/compose/run.sh

test-chart: build
	tests/chart/run.sh

test-observability: build
	tests/observability/run.sh

-include mk/*.mk

clean:
	rm -rf $(BUILD_DIR)
