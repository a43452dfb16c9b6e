# Lint (docs/development.md): clang-format and clang-tidy on the C++,
# shellcheck on the shell scripts, ruff on the Python. Each part installs
# what it needs when missing (scripts/install-deps.sh lint; ruff pinned in
# scripts/lint.sh, in a venv under ~/.cache/scalecache-tools).
#
#   make lint                                   every part; fails if any fails
#   make lint-shell lint-python                 only those parts
#   make lint-tidy BUILD_DIR=build-habits       clang-tidy with that build dir's compile_commands.json

LINT = BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) scripts/lint.sh

.PHONY: lint lint-deps lint-format lint-tidy lint-shell lint-python

lint-deps:
	@scripts/install-deps.sh lint

## Every linter (format, tidy, shell, python); each part runs, fails if any fails.
lint: lint-deps deps $(BUILD_DIR)/build.ninja
	@$(LINT) format tidy shell python

## clang-format --dry-run --Werror on src/, tests/unit, tests/fuzz (.clang-format).
lint-format: lint-deps
	@$(LINT) format

## clang-tidy on src/ with $(BUILD_DIR)/compile_commands.json, JOBS files at a time (.clang-tidy).
lint-tidy: lint-deps deps $(BUILD_DIR)/build.ninja
	@$(LINT) tidy

## shellcheck on every shell script in the tree (*.sh and sh/bash shebangs).
lint-shell: lint-deps
	@$(LINT) shell

## ruff check on all Python (ruff.toml).
lint-python: lint-deps
	@$(LINT) python
