#!/usr/bin/env bash
# Type-checks the Grafana dashboard against Grafana's own dashboard model
# (@grafana/schema) and the compose stack's Grafana provisioning files against
# the documented provisioning format (provisioning-model.ts), with TypeScript in
# strict mode: unknown properties, wrong types and unknown enum values fail.
#
#   check.sh                       the project's files (dashboards/*.json, deploy/compose/grafana/provisioning)
#   check.sh --dashboard F --datasources F --providers F    other files (each option repeatable)
#
# The pinned packages (package-lock.json) are installed with `npm ci` on first
# use into $SCALECACHE_TOOLS/grafana-schema-<lock hash> (default
# ~/.cache/scalecache-tools) and reused after that; a run then takes about a second.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

command -v npm >/dev/null || { echo "schema check: npm is missing (Debian: apt-get install nodejs npm)" >&2; exit 1; }

tools="${SCALECACHE_TOOLS:-$HOME/.cache/scalecache-tools}"
lock_hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-12)
cache="$tools/grafana-schema-$lock_hash"
if [ ! -x "$cache/node_modules/.bin/tsc" ]; then
  echo "schema check: installing @grafana/schema and typescript (npm ci) into $cache"
  mkdir -p "$tools"
  staging=$(mktemp -d "$tools/.grafana-schema.XXXXXX")
  cp "$here/package.json" "$here/package-lock.json" "$here/.npmrc" "$staging/"
  (cd "$staging" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  rm -rf "$cache"
  mv "$staging" "$cache"
fi

# The work directory sits inside the cache so that TypeScript finds node_modules.
work=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/tsconfig.json" "$here/dashboard-model.ts" "$here/provisioning-model.ts" "$work/"
python3 "$here/generate.py" "$work" "$@" >/dev/null

rc=0
(cd "$work" && "$cache/node_modules/.bin/tsc" -p . --pretty false) >"$work/tsc.out" 2>&1 || rc=$?
python3 - "$work" "$rc" <<'PY'
import json, re, sys
from pathlib import Path
work, rc = Path(sys.argv[1]), int(sys.argv[2])
where = json.loads((work / "checked.map.json").read_text())
out = (work / "tsc.out").read_text()
errors = 0
for line in out.splitlines():
    m = re.match(r"checked\.ts\((\d+),(\d+)\): (error TS\d+): (.*)", line)
    if m:
        errors += 1
        print(f"{where[int(m[1]) - 1] or 'checked.ts'}: {m[4]} ({m[3]}, checked.ts:{m[1]})")
    elif line.strip():
        print(line)
kinds = [l for l in (work / "checked.ts").read_text().splitlines() if l.startswith("// ") and not l.startswith("// Generated")]
if rc == 0:
    print(f"schema check: {len(kinds)} files match Grafana's models: " + ", ".join(k[3:] for k in kinds))
else:
    print(f"schema check: FAILED ({errors} errors)", file=sys.stderr)
PY
exit $rc
