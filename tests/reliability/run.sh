#!/usr/bin/env bash
# The reliability suite (faults, overload, slow clients, NGINX fleet) and the
# hostile request corpus against $SCALECACHE_BIN (default build/scalecache).
# Called by `make test-reliability` (mk/hardening.mk), which builds first and
# installs redis-server, nginx and pytest when missing. Every process the
# tests start (redis-server, nginx, scalecache, a Python origin) listens on
# 127.0.0.1 on a free port and is stopped by the test.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export SCALECACHE_BIN=${SCALECACHE_BIN:-$repo/build/scalecache}
started=$(date +%s)
python3 -m pytest -q -p no:cacheprovider -rxX tests/reliability tests/hostile "$@"
echo "test-reliability: $(( $(date +%s) - started )) s"
