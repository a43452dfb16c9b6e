#!/usr/bin/env bash
# `make lint` and its parts (docs/development.md):
#   lint.sh format   clang-format --dry-run --Werror on src/, tests/unit, tests/fuzz (.clang-format)
#   lint.sh tidy     clang-tidy on src/*.cpp, files in parallel (.clang-tidy); needs a
#                    configured build dir with compile_commands.json ($BUILD_DIR)
#   lint.sh shell    shellcheck on every shell script (*.sh, or a sh/bash shebang)
#   lint.sh python   ruff check on every Python file (ruff.toml)
# Several parts may be given; each runs even when an earlier one failed, and
# the exit status is 1 when any failed. Tools come from scripts/install-deps.sh
# lint (Debian) and a pinned ruff in a venv under $SCALECACHE_TOOLS.
# Environment: BUILD_DIR (default build), JOBS (default nproc),
#              SCALECACHE_TOOLS (default ~/.cache/scalecache-tools).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUFF_VERSION=0.17.5
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
TOOLS=${SCALECACHE_TOOLS:-${HOME:-/root}/.cache/scalecache-tools}

[ $# -gt 0 ] || set -- format tidy shell python

# Tracked files plus new ones not ignored, so a file is linted before its first commit.
files() { git ls-files --cached --others --exclude-standard -- "$@" | sort -u | while read -r f; do if [ -f "$f" ]; then echo "$f"; fi; done; }

cxx_files() { files 'src/*.cpp' 'src/*.hpp' 'tests/unit/*.cpp' 'tests/unit/*.hpp' 'tests/fuzz/*.cpp' 'tests/fuzz/*.hpp'; }

shell_files() {
  local f
  files | while read -r f; do
    case "$f" in
      *.sh) echo "$f" ;;
      *) if head -n 1 "$f" 2>/dev/null | grep -qE '^#!.*(/|env +)(ba|da)?sh( |$)'; then echo "$f"; fi ;;
    esac
  done
}

lint_format() {
  local out
  out=$(cxx_files | xargs clang-format --dry-run --Werror 2>&1) && return 0
  printf '%s\n' "$out"
  local places
  places=$(printf '%s\n' "$out" | grep -E '^[^ :]+:[0-9]+:[0-9]+: error:')
  echo "lint-format: $(wc -l <<<"$places") place(s) in $(cut -d: -f1 <<<"$places" | sort -u | wc -l) file(s) differ from .clang-format (clang-format -i FILE...)"
  return 1
}

lint_tidy() {
  if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
    echo "lint-tidy: no $BUILD_DIR/compile_commands.json: configure first (make lint-tidy does)" >&2
    return 1
  fi
  # A file clang-tidy found clean is remembered under a hash of everything
  # that could change that verdict: the file, every header of the project (the
  # generated one included), .clang-tidy, the compile commands and the
  # clang-tidy version. A later run re-checks only files whose inputs changed;
  # findings are never remembered, so they show on every run.
  local clean="$TOOLS/tidy-clean" inputs
  mkdir -p "$clean"
  # (The checkout's own path is left out: another clone of the same tree hits the same entries.)
  inputs=$({ clang-tidy --version; cat .clang-tidy; sed "s|$PWD|@ROOT@|g" "$BUILD_DIR/compile_commands.json"
             files 'src/*.hpp' 'src/*.hpp.in' | xargs cat; cat "$BUILD_DIR"/generated/*.hpp 2>/dev/null || true
           } | sha256sum | cut -d' ' -f1)
  # One clang-tidy per file, JOBS at a time; a file's report is printed whole, and only when it has findings.
  # shellcheck disable=SC2016  # $1..$4 are the inner shell's
  files 'src/*.cpp' | xargs -P "$JOBS" -I{} sh -c '
    key=$( { echo "$3"; cat "$2"; } | sha256sum | cut -d" " -f1)
    [ -e "$4/$key" ] && exit 0
    out=$(clang-tidy -p "$1" --quiet "$2" 2>&1) || { printf "%s\n" "$out" | grep -v "warnings generated\.$"; exit 1; }
    touch "$4/$key"' _ "$BUILD_DIR" {} "$inputs" "$clean"
}

lint_shell() {
  # -x: follow `source`d files (paths relative to the repository root).
  shell_files | xargs shellcheck -x
}

ruff_bin() {
  local venv="$TOOLS/ruff-$RUFF_VERSION"
  if [ ! -x "$venv/bin/ruff" ]; then
    echo "installing ruff $RUFF_VERSION into $venv" >&2
    rm -rf "$venv"
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "ruff==$RUFF_VERSION"; } >&2 \
      || { rm -rf "$venv"; echo "lint-python: cannot install ruff (python3-venv installed?)" >&2; return 1; }
  fi
  echo "$venv/bin/ruff"
}

lint_python() {
  local ruff
  ruff=$(ruff_bin) || return 1
  "$ruff" check --no-cache .
}

run_part() {
  case "$1" in
    format) lint_format ;;
    tidy)   lint_tidy ;;
    shell)  lint_shell ;;
    python) lint_python ;;
  esac
}

for part in "$@"; do
  case "$part" in
    format|tidy|shell|python) ;;
    *) echo "usage: $0 [format|tidy|shell|python]..." >&2; exit 2 ;;
  esac
done
status=0
for part in "$@"; do
  if run_part "$part"; then
    echo "lint-$part: clean"
  else
    echo "lint-$part: FAILED" >&2
    status=1
  fi
done
exit "$status"
