#!/usr/bin/env bash
# Observability suite (make test-observability):
#   1. promtool check rules + promtool test rules on deploy/prometheus/
#   2. the dashboard against Grafana's dashboard model (@grafana/schema) and the
#      compose stack's Grafana provisioning files against the documented format,
#      type-checked with TypeScript (schema/check.sh; npm ci on first use, cached)
#   3. pytest tests/observability: the schema check bites (test_schema.py), static
#      dashboard checks, then a real Prometheus
#      scraping 3 scalecache replicas + Redis, every dashboard panel query checked
#      through the HTTP API, and the main panels rendered to a PNG.
# Installs what is missing (Debian prometheus, nodejs/npm, python3-yaml, matplotlib). Everything runs on
# 127.0.0.1 with free ports and temp dirs; pytest stops what it started.
#
#   OBS_OUT=DIR     where dashboard.png and summary.json go (default $TMPDIR/scalecache-observability)
#   OBS_PNG=FILE    write the PNG there instead, e.g. OBS_PNG=docs/img/dashboard.png to refresh the docs
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

export OBS_OUT="${OBS_OUT:-${TMPDIR:-/tmp}/scalecache-observability}"
export SCALECACHE_BIN="${SCALECACHE_BIN:-$PWD/build/scalecache}"
mkdir -p "$OBS_OUT"

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
apt_install() {
  "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends "$@" >/dev/null
}

# redis-server, pytest (and the build deps) come from the project's installer.
[ -x scripts/install-deps.sh ] && scripts/install-deps.sh test

# Debian's prometheus (2.42) ships promtool too. Its maintainer script starts the
# service only under systemd or a sysvinit runlevel; either way we never use that
# instance: the test runs its own on a free loopback port.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  echo "installing Debian package prometheus"
  apt_install prometheus
fi

# matplotlib renders the PNG: pip for a venv/pyenv python, Debian's package for the system one.
if ! python3 -c 'import matplotlib' 2>/dev/null; then
  echo "installing matplotlib"
  python3 -m pip install --quiet --disable-pip-version-check matplotlib 2>/dev/null \
    || apt_install python3-matplotlib || true
fi

# The schema check: npm for the pinned packages, PyYAML for the provisioning files.
if ! command -v npm >/dev/null; then
  echo "installing Debian packages nodejs npm"
  apt_install nodejs npm
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "installing PyYAML"
  python3 -m pip install --quiet --disable-pip-version-check pyyaml 2>/dev/null || apt_install python3-yaml
fi

# The checks: each runs even when one before failed; checks_summary decides the exit code.
set +e
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
check "promtool check rules deploy/prometheus/scalecache-rules.yaml" \
  promtool check rules deploy/prometheus/scalecache-rules.yaml
check "promtool test rules deploy/prometheus/tests/" promtool test rules deploy/prometheus/tests/*.yaml
check "Grafana schema: dashboard and provisioning files" tests/observability/schema/check.sh
check "pytest tests/observability (dashboard and rules against a real Prometheus)" \
  timeout 600 python3 -m pytest -q -p no:cacheprovider tests/observability

if [ -f "$OBS_OUT/summary.json" ]; then
  python3 - "$OBS_OUT/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
h, r = s.get("hit_ratio", {}), s.get("requests_per_second", {})
def pct(v): return "n/a" if v is None else f"{v:.2%}"
def num(v): return "n/a" if v is None else f"{v:.1f}"
print(f"observability: hit ratio from origin calls {pct(h.get('expected'))} vs panel {pct(h.get('panel_rate'))}"
      f" (increase-based stat {pct(h.get('panel_increase'))});"
      f" req/s client {num(r.get('client'))} vs panel {num(r.get('panel'))}")
if "png" in s:
    print(f"observability: dashboard rendered to {s['png']}")
PY
fi
echo "observability suite: $(( $(date +%s) - started ))s"
checks_summary observability
