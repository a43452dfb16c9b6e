#!/usr/bin/env bash
# Installs the Debian 12 packages a stage needs, only when some are missing,
# so `make run` and `make test` work on a fresh machine and cost nothing after.
#   install-deps.sh build   compiler, CMake and the service's libraries
#   install-deps.sh test    plus what the integration tests run (redis-server, pytest)
#   install-deps.sh run     plus redis-server for `make run`
#   install-deps.sh lint    clang-format, clang-tidy, shellcheck, python3-venv (`make lint`)
set -euo pipefail

build_pkgs=(g++ cmake ninja-build pkg-config libpistache-dev libhiredis-dev
            prometheus-cpp-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev rapidjson-dev libabsl-dev
            libgtest-dev)
test_pkgs=(redis-server redis-tools python3-pytest curl openssl)
run_pkgs=(redis-server curl)
lint_pkgs=(clang-format clang-tidy shellcheck python3-venv)

case "${1:-build}" in
  build) wanted=("${build_pkgs[@]}") ;;
  test)  wanted=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  run)   wanted=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
  lint)  wanted=("${lint_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|run|lint" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing Debian packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
