#!/usr/bin/env bash
# Offline checks of the Helm chart (charts/scalecache) and the plain manifests
# (k8s/). No cluster needed. Run by `make test` (target test-chart) and by
# `make chart-check`.
#
#  1. tools       helm, kubeconform, kustomize: `go install` at pinned versions
#                 through the Go module proxy into $SCALECACHE_TOOLS (once);
#                 a Python venv with pinned PyYAML and yamllint.
#  2. schemas     Kubernetes OpenAPI (k8s.io/kubernetes module) and the CRDs of
#                 ServiceMonitor, PrometheusRule (prometheus-operator),
#                 ScaledObject (KEDA), HTTPRoute (Gateway API), all fetched with
#                 `go mod download`, turned into strict JSON schemas (cached).
#  3. sources     chart copies of dashboards/scalecache.json and
#                 deploy/prometheus/scalecache-rules.yaml are byte-identical;
#                 appVersion matches the project version.
#  4. docs        every value documented, README table current, schema and
#                 config/scalecache.yaml in step; yamllint.
#  5. lint        helm lint --strict for every ci/*-values.yaml.
#  6. render      helm template for every ci/*-values.yaml.
#  7. negative    schema rejects a typo'd key and wrong types; the templates
#                 refuse HPA+KEDA, a short grace period, image tag latest.
#  8. kubeconform strict validation of every rendered object and of every
#                 kustomize output; a typo'd manifest must be rejected.
#  9. policy      tests/chart/policy.py on every output.
# 10. k8s         k8s/base equals the chart's defaults (regenerated and
#                 compared); overlays build.
# 11. config      each rendered ConfigMap passes `scalecache --check-config`.
#
# `run.sh --tools` only installs the tools and prints shell assignments
# (HELM=... KUBECONFORM=... KUSTOMIZE=... PY=...) for mk/kubernetes.mk.
#
# Environment: SCALECACHE_TOOLS (tool cache, default ~/.cache/scalecache-tools),
# SCALECACHE_BIN (default build/scalecache), KEEP=1 keeps the work directory.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1

# ---- pinned versions --------------------------------------------------------
HELM_VERSION=v4.3.2            # helm.sh/helm/v4 (no replace directives)
HELM3_VERSION=v3.19.5          # helm.sh/helm/v3: users on Helm 3 get the same objects
KUBECONFORM_VERSION=v0.8.0     # github.com/yannh/kubeconform
KUSTOMIZE_VERSION=v5.8.2       # sigs.k8s.io/kustomize/kustomize/v5 (v5.8.3 needs go 1.27)
K8S_VERSION=v1.37.2            # k8s.io/kubernetes: api/openapi-spec/swagger.json
PROMETHEUS_OPERATOR_VERSION=v0.94.0  # example/prometheus-operator-crd/
KEDA_VERSION=v2.21.0           # github.com/kedacore/keda/v2: config/crd/bases/
GATEWAY_API_VERSION=v1.6.3     # sigs.k8s.io/gateway-api: config/crd/standard/ (v1.7 needs go 1.27)
PYYAML_VERSION=6.0.3
YAMLLINT_VERSION=1.38.0

CHART=charts/scalecache
TOOLS="${SCALECACHE_TOOLS:-$HOME/.cache/scalecache-tools}"
BIN="${SCALECACHE_BIN:-$ROOT/build/scalecache}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scalecache-chart.XXXXXX")"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

TOOLS_ONLY=0
case "${1:-}" in
  --tools) TOOLS_ONLY=1; exec 3>&1 1>&2 ;;
  "") ;;
  *) echo "usage: $0 [--tools]" >&2; exit 2 ;;
esac

START=$(date +%s)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# check_quiet, pass, fail, skip, checks_summary: the suites' check library.
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
say()  { printf '\n== %s\n' "$*"; }
# refuse NAME PATTERN CMD...: CMD must fail and its output must match PATTERN.
refuse() {
  local name=$1 pattern=$2; shift 2
  if "$@" >"$WORK/out.log" 2>&1; then
    echo "(command succeeded but should have been refused)" >>"$WORK/out.log"; fail "$name" "$WORK/out.log"
  elif grep -Eq -- "$pattern" "$WORK/out.log"; then pass "$name"
  else echo "(refused, but not with /$pattern/)" >>"$WORK/out.log"; fail "$name" "$WORK/out.log"; fi
}

summary() {
  printf '\n== summary (%ss)\n' "$(( $(date +%s) - START ))"
  checks_summary chart
}
abort() { fail "$1" "${2:-/dev/null}"; summary; exit 1; }

# ---- 1. tools ---------------------------------------------------------------
say "tools (cache: $TOOLS)"
command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || abort "Go toolchain (>= 1.26) not found: needed to install helm, kubeconform and kustomize"
mkdir -p "$TOOLS"

# go_tool NAME PACKAGE VERSION: print the path of the binary, installing it once.
go_tool() {
  local name=$1 pkg=$2 version=$3 dir="$TOOLS/$1-$3"
  if [ ! -x "$dir/$name" ]; then
    echo "  installing $name $version: go install $pkg@$version (once; helm takes minutes on 2 cores)" >&2
    mkdir -p "$dir.tmp"
    if ! GOBIN="$dir.tmp" go install "$pkg@$version" >"$WORK/go-$name.log" 2>&1; then
      tail -20 "$WORK/go-$name.log" >&2; rm -rf "$dir.tmp"; return 1
    fi
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
  fi
  echo "$dir/$name"
}
HELM=$(go_tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION") || abort "install helm $HELM_VERSION"
KUBECONFORM=$(go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION") \
  || abort "install kubeconform $KUBECONFORM_VERSION"
KUSTOMIZE=$(go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION") \
  || abort "install kustomize $KUSTOMIZE_VERSION"
HELM3=$(go_tool helm helm.sh/helm/v3/cmd/helm "$HELM3_VERSION") || abort "install helm $HELM3_VERSION"
pass "helm $HELM_VERSION and $HELM3_VERSION, kubeconform $KUBECONFORM_VERSION, kustomize $KUSTOMIZE_VERSION"

VENV="$TOOLS/venv-pyyaml$PYYAML_VERSION-yamllint$YAMLLINT_VERSION"
if [ ! -x "$VENV/bin/yamllint" ]; then
  echo "  creating $VENV"
  rm -rf "$VENV"
  { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check \
      "pyyaml==$PYYAML_VERSION" "yamllint==$YAMLLINT_VERSION"; } >"$WORK/venv.log" 2>&1 \
    || { rm -rf "$VENV"; abort "python venv (python3-venv installed?)" "$WORK/venv.log"; }
fi
PY="$VENV/bin/python"
pass "python venv: PyYAML $PYYAML_VERSION, yamllint $YAMLLINT_VERSION"
if [ "$TOOLS_ONLY" = 1 ]; then
  printf 'HELM=%q\nKUBECONFORM=%q\nKUSTOMIZE=%q\nPY=%q\n' "$HELM" "$KUBECONFORM" "$KUSTOMIZE" "$PY" >&3
  exit 0
fi

# ---- 2. schemas -------------------------------------------------------------
say "schemas"
modules=(
  "k8s.io/kubernetes@$K8S_VERSION"
  "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  "github.com/kedacore/keda/v2@$KEDA_VERSION"
  "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
)
gen_sum=$(sha256sum tests/chart/gen_schemas.py | cut -c1-12)
SCHEMAS="$TOOLS/schemas/k8s-$K8S_VERSION-po-$PROMETHEUS_OPERATOR_VERSION-keda-$KEDA_VERSION-gw-$GATEWAY_API_VERSION-$gen_sum"
if [ ! -f "$SCHEMAS/.complete" ]; then
  if ! go mod download -json "${modules[@]}" >"$WORK/modules.json" 2>"$WORK/modules.err"; then
    cat "$WORK/modules.json" >>"$WORK/modules.err"; abort "go mod download of the schema modules" "$WORK/modules.err"
  fi
  dir_of() { "$PY" -c 'import json,sys
dec=json.JSONDecoder(); s=open(sys.argv[1]).read(); i=0
while i < len(s):
    s2=s[i:].lstrip()
    if not s2: break
    o,n=dec.raw_decode(s2); i=len(s)-len(s2)+n
    if o["Path"]==sys.argv[2]: print(o["Dir"])' "$WORK/modules.json" "$1"; }
  K8S_DIR=$(dir_of k8s.io/kubernetes)
  PO_DIR=$(dir_of github.com/prometheus-operator/prometheus-operator)
  KEDA_DIR=$(dir_of github.com/kedacore/keda/v2)
  GW_DIR=$(dir_of sigs.k8s.io/gateway-api)
  rm -rf "$SCHEMAS.tmp"
  if "$PY" tests/chart/gen_schemas.py --out "$SCHEMAS.tmp" \
       --swagger "$K8S_DIR/api/openapi-spec/swagger.json" \
       --crd "$PO_DIR/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
       --crd "$PO_DIR/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
       --crd "$KEDA_DIR/config/crd/bases/keda.sh_scaledobjects.yaml" \
       --crd "$GW_DIR/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" >"$WORK/gen.log" 2>&1; then
    touch "$SCHEMAS.tmp/.complete"; rm -rf "$SCHEMAS"; mv "$SCHEMAS.tmp" "$SCHEMAS"
  else
    abort "generate JSON schemas" "$WORK/gen.log"
  fi
fi
pass "strict schemas: Kubernetes $K8S_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION, KEDA $KEDA_VERSION, Gateway API $GATEWAY_API_VERSION"
SCHEMA_LOCATION="$SCHEMAS/{{ .ResourceKind }}{{ .KindSuffix }}.json"
kubeconform() { "$KUBECONFORM" -strict -summary -schema-location "$SCHEMA_LOCATION" "$@"; }

# ---- 3. sources -------------------------------------------------------------
say "single sources of truth"
# chart copy <- source (also used by `make chart-sync`, which copies them)
copies=(
  "$CHART/files/dashboards/scalecache.json:dashboards/scalecache.json"
  "$CHART/files/prometheus/scalecache-rules.yaml:deploy/prometheus/scalecache-rules.yaml"
)
for pair in "${copies[@]}"; do
  copy=${pair%%:*} src=${pair#*:}
  if [ ! -f "$src" ]; then
    echo "$src does not exist: the chart ships a placeholder ($copy)" >"$WORK/out.log"
    fail "$copy is a copy of $src" "$WORK/out.log"
  elif cmp -s "$copy" "$src"; then
    pass "$copy is byte-identical to $src"
  else
    { echo "$copy differs from $src: run 'make chart-sync'"; diff -u "$src" "$copy" | head -20; } >"$WORK/out.log"
    fail "$copy is byte-identical to $src" "$WORK/out.log"
  fi
done
app_version=$(sed -nE 's/^appVersion: *"?([^"]+)"?$/\1/p' "$CHART/Chart.yaml")
if [ -f CMakeLists.txt ]; then
  project_version=$(sed -nE 's/^project.scalecache VERSION ([0-9][0-9.]*).*/\1/p' CMakeLists.txt)
  if [ "$app_version" = "$project_version" ]; then pass "Chart appVersion $app_version = project version (image tag)"
  else echo "appVersion $app_version, CMakeLists.txt project VERSION $project_version" >"$WORK/out.log"
       fail "Chart appVersion = project version (image tag)" "$WORK/out.log"; fi
else
  skip "appVersion vs project version: no CMakeLists.txt"
fi

# ---- 4. docs and YAML lint --------------------------------------------------
say "values documentation, yamllint"
check_quiet "values.yaml documented, README table current, schema and config/scalecache.yaml in step" \
  "$PY" tests/chart/values_doc.py "$CHART" --check --config config/scalecache.yaml
check_quiet "yamllint (values, ci values, Chart.yaml, k8s/)" "$VENV/bin/yamllint" -s -c tests/chart/yamllint.yaml \
  "$CHART/values.yaml" "$CHART/Chart.yaml" "$CHART"/ci/ k8s/
check_quiet "values.schema.json is valid JSON" "$PY" -m json.tool "$CHART/values.schema.json"

# ---- 5-6. lint and render ---------------------------------------------------
say "helm lint --strict and helm template, per ci values file"
mkdir -p "$WORK/render"
CI_FILES=("$CHART"/ci/*-values.yaml)
[ "${#CI_FILES[@]}" -ge 9 ] || fail "at least 9 ci values files (found ${#CI_FILES[@]})"
for f in "${CI_FILES[@]}"; do
  n=$(basename "$f" -values.yaml)
  check_quiet "lint $n" "$HELM" lint --strict "$CHART" -f "$f" --namespace scalecache
  if "$HELM" template scalecache "$CHART" -f "$f" --namespace scalecache --kube-version 1.37.0 \
       >"$WORK/render/$n.yaml" 2>"$WORK/out.log"; then
    pass "template $n ($(grep -c '^kind:' "$WORK/render/$n.yaml") objects)"
  else
    fail "template $n" "$WORK/out.log"; rm -f "$WORK/render/$n.yaml"
  fi
done
# Helm 3 is still what many kind and minikube users have: it must accept the
# chart and render the same objects as Helm 4.
for f in "${CI_FILES[@]}"; do
  n=$(basename "$f" -values.yaml)
  check_quiet "Helm 3: lint $n" "$HELM3" lint --strict "$CHART" -f "$f" --namespace scalecache
  if "$HELM3" template scalecache "$CHART" -f "$f" --namespace scalecache --kube-version 1.37.0 \
       >"$WORK/helm3-$n.yaml" 2>"$WORK/out.log"; then
    check_quiet "Helm 3: template $n renders the same objects as Helm 4" \
      "$PY" tests/chart/same_manifests.py "$WORK/render/$n.yaml" "$WORK/helm3-$n.yaml"
  else
    fail "Helm 3: template $n" "$WORK/out.log"
  fi
done
refuse "Helm 3: chart refuses Kubernetes < 1.30" "kubeVersion|incompatible" \
  "$HELM3" template scalecache "$CHART" --kube-version 1.29.0
# scalecache refuses purges without a token: the chart must always give it one.
check "admin token: generated (32 characters) when not given, the given one otherwise" \
  "$PY" - "$WORK/render/defaults.yaml" <("$HELM" template scalecache "$CHART" --set admin.token=given-token 2>&1) <<'EOF'
import base64, sys, yaml
def token(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    secret = next(d for d in docs if d["kind"] == "Secret" and "admin-token" in (d.get("data") or {}))
    return base64.b64decode(secret["data"]["admin-token"]).decode()
generated, given = token(sys.argv[1]), token(sys.argv[2])
assert len(generated) == 32 and generated.isalnum(), f"generated token has {len(generated)} characters"
assert given == "given-token", "admin.token not used"
print("admin token ok")
EOF
# redis.tls is scalecache's own (config redis.tls.*): the Secret, when given, is
# mounted read-only into every scalecache and worker container and the config
# names its files; no proxy sidecar in any render.
check "redis.tls: Secret mounted read-only where the config's files are, in every mode; no sidecar anywhere" \
  "$PY" - "$WORK"/render/*.yaml <<'EOF'
import os, sys, yaml
want = {  # render: (mode, Secret, client certificate, server_name)
    "redis-tls": ("standalone", "redis-tls", True, None),
    "external-sentinel-tls": ("sentinel", "redis-tls", True, None),
    "external-cluster-tls": ("cluster", None, False, "clustercfg.cache.example.com"),
}
seen = set()
for path in sys.argv[1:]:
    n = os.path.basename(path)[:-len(".yaml")]
    text = open(path).read()
    assert "stunnel" not in text.lower(), f"{n}: mentions stunnel"
    docs = [d for d in yaml.safe_load_all(text) if d]
    cms = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    for dep in (d for d in docs if d["kind"] == "Deployment"):
        spec = dep["spec"]["template"]["spec"]
        names = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
        if not {"scalecache", "worker"} & set(names):
            continue
        assert names in (["scalecache"], ["worker"]), f"{n}: {dep['metadata']['name']} runs {names}"
        cm = next(v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v)
        rc = yaml.safe_load(cms[cm]["data"]["scalecache.yaml"])["redis"]
        tls = rc.get("tls")
        vols = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
        if n not in want:
            assert tls is None and "redis-tls" not in vols, f"{n}: redis.tls without redis.tls.enabled"
            continue
        seen.add(n)
        mode, secret, client, server_name = want[n]
        assert rc.get("mode", "standalone") == mode, f"{n}: mode {rc.get('mode')}"
        assert tls["enabled"] is True and tls.get("server_name") == server_name, f"{n}: tls {tls}"
        if secret is None:
            bundle = "/etc/ssl/certs/ca-certificates.crt"  # the image's (scripts/docker-rootfs.sh)
            assert tls["ca_file"] == bundle and "redis-tls" not in vols, f"{n}: no Secret, CAs {tls}"
            continue
        vol, mount = vols["redis-tls"], mounts["redis-tls"]
        assert vol["secret"]["secretName"] == secret, f"{n}: volume {vol}"
        keys = [i["key"] for i in vol["secret"]["items"]]
        assert keys == (["ca.crt", "tls.crt", "tls.key"] if client else ["ca.crt"]), f"{n}: keys {keys}"
        assert mount.get("readOnly") is True, f"{n}: {dep['metadata']['name']} mounts the Secret writable"
        files = {"ca_file": "ca.crt", "cert_file": "tls.crt", "key_file": "tls.key"}
        for key, item in files.items():
            if item in keys:
                assert tls[key] == f"{mount['mountPath']}/{item}", f"{n}: {key} {tls.get(key)}"
            else:
                assert key not in tls, f"{n}: {key} without the Secret's {item}"
assert seen == set(want), f"TLS renders missing: {set(want) - seen}"
print("redis.tls ok:", sorted(seen))
EOF
check_quiet "helm package" "$HELM" package "$CHART" -d "$WORK/package"
check_quiet "template from the packaged chart (dashboard and rules files included)" \
  "$HELM" template scalecache "$WORK"/package/scalecache-*.tgz -f "$CHART/ci/everything-on-values.yaml"
# Helm's own install-time checks against the chart's kubeVersion.
refuse "chart refuses Kubernetes < 1.30 (sleep lifecycle action)" "kubeVersion|incompatible" \
  "$HELM" template scalecache "$CHART" --kube-version 1.29.0

# ---- 7. negative tests ------------------------------------------------------
say "negative tests (each must be refused)"
T() { "$HELM" template scalecache "$CHART" "$@"; }
refuse "schema: typo'd top-level key (replicaz)"     "additional propert.*replicaz"     T --set replicaz=3
refuse "schema: typo'd nested key (config.server.threadz)" "additional propert.*threadz" T --set config.server.threadz=2
refuse "schema: typo'd key in a values file"         "additional propert.*enabeld"      T -f <(printf 'autoscaling:\n  enabeld: true\n')
refuse "schema: wrong type (service.port string)"    "/service/port"                     T --set service.port=eighty
refuse "schema: wrong type (autoscaling.enabled string)" "/autoscaling/enabled"          T --set-string autoscaling.enabled=yes
refuse "schema: wrong type (config.cache.ttl_seconds)" "/config/cache/ttl_seconds"       T --set-string config.cache.ttl_seconds=300s
refuse "schema: out-of-range enum (config.log.level)" "/config/log/level"                T --set config.log.level=verbose
refuse "schema: chart-managed key (config.redis.url)" "additional propert.*url"          T --set config.redis.url=redis://x:6379
refuse "schema: image tag latest"                    "/image/tag"                        T --set image.tag=latest
refuse "schema: chart-managed key (config.admin.allow_unauthenticated_purge)" "additional propert.*admin" \
  T --set config.admin.allow_unauthenticated_purge=true
refuse "template: HPA and KEDA together"             "mutually exclusive"                T --set keda.enabled=true
refuse "template: terminationGracePeriodSeconds too short" "must exceed"                 T --set terminationGracePeriodSeconds=20
refuse "template: in-chart and external Redis together" "choose the in-chart Redis"      T --set redis.external.url=redis://r:6379
refuse "policy: HPA and ScaledObject on one Deployment are caught" "also scaled by" \
  "$PY" tests/chart/policy.py <(cat "$WORK/render/defaults.yaml"; echo ---; sed -n '/^# Source: scalecache\/templates\/scaledobject.yaml/,/^---/p' "$WORK/render/keda.yaml" | sed '/^---$/d')
refuse "policy: a container without limits is caught" "no limits.cpu" \
  "$PY" tests/chart/policy.py <(T --set resources.limits=null 2>/dev/null)
refuse "policy: a writable root filesystem is caught" "readOnlyRootFilesystem" \
  "$PY" tests/chart/policy.py <(T --set securityContext.readOnlyRootFilesystem=false 2>/dev/null)
refuse "template: worker HPA and KEDA together"      "mutually exclusive"                T --set worker.enabled=true --set worker.keda.enabled=true
refuse "template: workers without Redis"             "needs Redis"                       T --set worker.enabled=true --set redis.enabled=false
refuse "schema: worker origin kind queue"            "/config/worker/origin_kind"        T --set config.worker.origin_kind=queue
refuse "policy: a worker reachable on any port is caught" "only metrics scraping" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/worker-values.yaml" 2>/dev/null | sed 's/^        - port: metrics$/        - port: 9999/')
refuse "policy: workers whose replicas queue nothing are caught" "origin.kind is not queue" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/worker-values.yaml" 2>/dev/null | sed 's/^      kind: queue$/      kind: http/')
refuse "policy: purges opened to anyone (extraEnv) are caught" "allow_unauthenticated_purge" \
  "$PY" tests/chart/policy.py <(T --set 'extraEnv[0].name=SCALECACHE_ADMIN_ALLOW_UNAUTHENTICATED_PURGE' \
                                  --set-string 'extraEnv[0].value=true' 2>/dev/null)

# Redis topologies (docs/redis-topologies.md).
refuse "schema: TLS with the in-chart Redis (it serves no TLS)" "/redis/tls/enabled" T --set redis.tls.enabled=true
refuse "template: TLS with the in-chart Redis Cluster names the reason" "in-chart Redis \(mode cluster\) does not serve TLS" \
  "$HELM" template scalecache "$CHART" --skip-schema-validation -f "$CHART/ci/redis-cluster-values.yaml" \
  --set redis.tls.enabled=true
refuse "schema: TLS client certificate without a Secret" "/redis/tls/existingSecret" \
  T -f "$CHART/ci/external-cluster-tls-values.yaml" --set redis.tls.clientCert=true
refuse "template: TLS client certificate without a Secret" "clientCert needs redis.tls.existingSecret" \
  "$HELM" template scalecache "$CHART" --skip-schema-validation -f "$CHART/ci/external-cluster-tls-values.yaml" \
  --set redis.tls.clientCert=true
refuse "template: TLS without any Redis" "without a Redis" \
  T --set redis.enabled=false --set redis.tls.enabled=true
refuse "template: in-chart Redis in mode sentinel" "sentinel needs an external Redis" T --set redis.mode=sentinel
refuse "template: external mode cluster without seed nodes" "needs redis.external.nodes" \
  T --set redis.enabled=false --set redis.mode=cluster
refuse "template: a key of another mode (external.url with mode cluster)" "for mode standalone" \
  T -f "$CHART/ci/external-cluster-values.yaml" --set redis.external.url=redis://r:6379
refuse "template: workers outside mode standalone" "mode standalone" \
  T -f "$CHART/ci/redis-cluster-values.yaml" --set worker.enabled=true
refuse "schema: in-chart cluster with fewer than 3 masters" "/redis/cluster/masters" \
  T -f "$CHART/ci/redis-cluster-values.yaml" --set redis.cluster.masters=2
# mutate PYTHON: the rendered objects on stdin, changed by PYTHON (a loop over `docs`), on stdout.
mutate() { "$PY" -c 'import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
exec(sys.argv[1])
yaml.safe_dump_all(docs, sys.stdout)' "$1"; }
refuse "policy: a Redis password as a plain env value is caught" "plain value" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/external-sentinel-values.yaml" 2>/dev/null | mutate '
for d in docs:
    for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", []):
        for e in c.get("env", []):
            if e["name"] == "SCALECACHE_REDIS_SENTINEL_PASSWORD":
                e.pop("valueFrom"); e["value"] = "hunter2"')
refuse "policy: a Redis Cluster without the bus port in its NetworkPolicy is caught" "cluster bus" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/redis-cluster-values.yaml" 2>/dev/null | sed '/^        - port: bus$/,+1d; /^        - port: 16379$/,+1d')
refuse "policy: a Redis Cluster seed list missing a pod is caught" "cluster seeds name pods" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/redis-cluster-values.yaml" 2>/dev/null | sed 's/,scalecache-redis-5\.[^ ]*:6379//')
refuse "policy: a redis.tls CA file not from a Secret is caught" "ca_file /tmp/ca.crt does not come from a Secret" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/redis-tls-values.yaml" 2>/dev/null | sed 's|ca_file: /etc/redis-tls/ca.crt|ca_file: /tmp/ca.crt|')
refuse "policy: a writable redis.tls Secret mount is caught" "not mounted read-only" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/redis-tls-values.yaml" 2>/dev/null | sed '/mountPath: \/etc\/redis-tls$/{n;s/readOnly: true/readOnly: false/}')
refuse "policy: a proxy sidecar next to scalecache is caught" "containers besides scalecache" \
  "$PY" tests/chart/policy.py <(T -f "$CHART/ci/redis-tls-values.yaml" 2>/dev/null | mutate '
for d in docs:
    if d["kind"] == "Deployment":
        spec = d["spec"]["template"]["spec"]
        spec["initContainers"] = [dict(spec["containers"][0], name="redis-tls", restartPolicy="Always")]')

# ---- 10. k8s/ (kustomize) ---------------------------------------------------
say "k8s/: kustomize base = chart defaults, overlays"
mkdir -p "$WORK/k8s-expected"
if "$HELM" template scalecache "$CHART" --namespace scalecache --kube-version 1.37.0 >"$WORK/defaults-for-base.yaml" 2>"$WORK/out.log" \
   && "$PY" tests/chart/render_base.py "$WORK/defaults-for-base.yaml" "$WORK/k8s-expected" >>"$WORK/out.log" 2>&1; then
  if diff -ru "$WORK/k8s-expected" k8s/base >"$WORK/out.log" 2>&1; then
    pass "k8s/base is the chart's default render (make k8s-base)"
  else
    # shellcheck disable=SC2016  # backquotes are text here
    sed -i '1i k8s/base differs from the chart defaults: run `make k8s-base`' "$WORK/out.log"
    fail "k8s/base is the chart's default render (make k8s-base)" "$WORK/out.log"
  fi
else
  fail "render k8s/base from the chart" "$WORK/out.log"
fi
check_quiet "k8s/kind/cluster.yaml: ingress-ready node with ports 80 and 443 mapped" "$PY" - k8s/kind/cluster.yaml <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
assert c["kind"] == "Cluster" and c["apiVersion"] == "kind.x-k8s.io/v1alpha4", "not a kind v1alpha4 Cluster"
nodes = [n for n in c["nodes"] if (n.get("labels") or {}).get("ingress-ready") == "true"]
assert nodes, "no node labelled ingress-ready=true"
ports = {(m["containerPort"], m["hostPort"]) for m in nodes[0].get("extraPortMappings", [])}
assert {(80, 80), (443, 443)} <= ports, f"ports 80/443 not mapped: {ports}"
print("kind cluster config ok")
EOF
for dir in k8s/base k8s/overlays/*/; do
  dir=${dir%/}; n=kustomize-$(basename "$dir")
  if "$KUSTOMIZE" build "$dir" >"$WORK/render/$n.yaml" 2>"$WORK/out.log"; then
    pass "kustomize build $dir ($(grep -c '^kind:' "$WORK/render/$n.yaml") objects)"
  else
    fail "kustomize build $dir" "$WORK/out.log"; rm -f "$WORK/render/$n.yaml"
  fi
done

# ---- 8. kubeconform ---------------------------------------------------------
say "kubeconform -strict (offline schemas)"
for f in "$WORK"/render/*.yaml; do
  check_quiet "kubeconform $(basename "$f" .yaml)" kubeconform "$f"
done
# The validator itself must reject unknown fields, or the checks above prove nothing.
sed 's/^  revisionHistoryLimit:/  revisionHistoryLimitz:/' "$WORK/render/defaults.yaml" >"$WORK/typo.yaml"
refuse "kubeconform rejects an unknown field (revisionHistoryLimitz)" "revisionHistoryLimitz" kubeconform "$WORK/typo.yaml"
sed 's/^  jobLabel:/  jobLabelz:/' "$WORK/render/monitoring.yaml" >"$WORK/typo-crd.yaml"
refuse "kubeconform rejects an unknown field in a CRD object (ServiceMonitor)" "jobLabelz" kubeconform "$WORK/typo-crd.yaml"
sed 's/^  pollingInterval: [0-9]*/  pollingInterval: "often"/' "$WORK/render/keda.yaml" >"$WORK/type-crd.yaml"
refuse "kubeconform rejects a wrong type in a CRD object (ScaledObject)" "pollingInterval" kubeconform "$WORK/type-crd.yaml"
printf 'apiVersion: example.com/v1\nkind: Unknown\nmetadata:\n  name: x\n' >"$WORK/unknown.yaml"
refuse "kubeconform rejects a kind without schema" "could not find schema" kubeconform "$WORK/unknown.yaml"

# ---- 9. policy --------------------------------------------------------------
say "policy checks"
for f in "$WORK"/render/*.yaml; do
  check_quiet "policy $(basename "$f" .yaml)" "$PY" tests/chart/policy.py "$f"
done

# The dashboard ConfigMap carries the source dashboard, usable by Grafana's sidecar.
check_quiet "dashboard ConfigMap = dashboards/scalecache.json, datasource picked by a template variable" \
  "$PY" - "$WORK/render/monitoring.yaml" "$CHART/files/dashboards/scalecache.json" <<'EOF'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cms = [d for d in docs if d["kind"] == "ConfigMap" and "scalecache.json" in (d.get("data") or {})]
assert len(cms) == 1, f"expected one dashboard ConfigMap, found {len(cms)}"
cm = cms[0]
assert cm["metadata"]["labels"].get("grafana_dashboard") == "1", "label grafana_dashboard missing"
text = cm["data"]["scalecache.json"]
dash = json.loads(text)
assert dash == json.load(open(sys.argv[2])), "ConfigMap content differs from the chart's dashboard file"
assert "${DS_" not in text and "__inputs" not in dash, "uses ${DS_...} inputs, which break sidecar provisioning"
kinds = [v.get("type") for v in dash.get("templating", {}).get("list", [])]
assert "datasource" in kinds, "no template variable of type datasource"
print("dashboard ok:", dash.get("title"))
EOF
check_quiet "PrometheusRule groups = deploy/prometheus/scalecache-rules.yaml groups" \
  "$PY" - "$WORK/render/monitoring.yaml" "$CHART/files/prometheus/scalecache-rules.yaml" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rules = [d for d in docs if d["kind"] == "PrometheusRule"]
assert len(rules) == 1, f"expected one PrometheusRule, found {len(rules)}"
assert rules[0]["spec"]["groups"] == yaml.safe_load(open(sys.argv[2]))["groups"], "groups differ"
print("rules ok:", [g["name"] for g in rules[0]["spec"]["groups"]])
EOF

# ---- 11. scalecache --check-config -----------------------------------------
say "rendered ConfigMaps pass scalecache --check-config"
if [ -x "$BIN" ]; then
  # The Secret a redis.tls render mounts (ca.crt, tls.crt, tls.key), made with
  # the integration tests' PKI: check-config loads the CA and the client pair.
  mkdir -p "$WORK/redis-tls"
  if "$PY" -c 'import sys; from pathlib import Path; from tests.lib.tls_pki import make_pki; make_pki(Path(sys.argv[1]))' \
       "$WORK/redis-tls" >"$WORK/out.log" 2>&1; then
    cp "$WORK/redis-tls/client.crt" "$WORK/redis-tls/tls.crt"; cp "$WORK/redis-tls/client.key" "$WORK/redis-tls/tls.key"
  else
    fail "make the redis.tls test certificates" "$WORK/out.log"
  fi
  for f in "$WORK"/render/*.yaml; do
    n=$(basename "$f" .yaml)
    "$PY" - "$f" "$WORK/config-$n.yaml" <<'EOF' || { fail "extract the scalecache ConfigMap of $n"; continue; }
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cms = [d for d in docs if d.get("kind") == "ConfigMap" and "scalecache.yaml" in (d.get("data") or {})]
if len(cms) != 1:
    sys.exit(f"expected one ConfigMap with scalecache.yaml, found {len(cms)}")
open(sys.argv[2], "w").write(cms[0]["data"]["scalecache.yaml"])
EOF
    # redis.tls files come from the pod's Secret volume: throw-away ones here.
    sed -i "s|/etc/redis-tls/|$WORK/redis-tls/|" "$WORK/config-$n.yaml"
    check_quiet "check-config $n" "$BIN" --check-config --config "$WORK/config-$n.yaml"
  done
  printf 'server:\n  threadz: 2\n' >"$WORK/config-typo.yaml"
  refuse "check-config itself rejects an unknown key" "threadz" "$BIN" --check-config --config "$WORK/config-typo.yaml"
else
  echo
  echo "  ############################################################################"
  echo "  ##  SKIPPING scalecache --check-config: $BIN does not exist."
  echo "  ##  Run 'make build' first; CI builds it before this script (make test)."
  echo "  ############################################################################"
  skip "scalecache --check-config of the rendered ConfigMaps ($BIN absent)"
fi

summary
