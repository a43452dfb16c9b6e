# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings here are read by the files that source this one
# Shared settings and helpers of tests/e2e (sourced by run.sh and the other
# lib/*.sh files). Everything the node needs lives in one network namespace
# ($E2E_NETNS) that the run creates and deletes: its loopback, the pod bridge
# and every iptables rule kube-proxy writes stay inside it.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
E2E_DIR="$E2E_ROOT/tests/e2e"
E2E_CACHE=${SCALECACHE_E2E_CACHE:-${HOME:-/root}/.cache/scalecache-e2e}

# ---- pinned versions (see docs/kubernetes-e2e.md for why these) -------------
# k8s.io/kubernetes: read from the test's own go.mod, the single place it is pinned.
# e2e_gomod_version MODULE: the version tests/e2e/k8s-build/go.mod requires.
e2e_gomod_version() { sed -nE "s|^[[:space:]]*$1 (v[0-9.]+).*|\1|p" "$E2E_DIR/k8s-build/go.mod"; }
K8S_VERSION=$(e2e_gomod_version k8s.io/kubernetes)
# CoreDNS and metrics-server are built in the same module (same go build), so
# their versions are pinned there too.
COREDNS_VERSION=$(e2e_gomod_version github.com/coredns/coredns)
METRICS_SERVER_VERSION=$(e2e_gomod_version sigs.k8s.io/metrics-server)
# Traefik: the newest release whose whole module graph the Go module proxy
# serves (3.7 needs a forked dependency it refuses); built inside its unpacked
# module, as its replace directives require.
TRAEFIK_VERSION=v3.6.12
# Gateway API standard CRDs (the release Traefik 3.6 implements).
GATEWAY_API_VERSION=v1.4.1
# Debian packages unpacked into the cache (never installed system-wide);
# PKG/SUITE takes another suite's package. busybox-static comes from trixie
# (1.37.0, the chart's helm-test version): bookworm's 1.35.0 wget segfaults
# whenever -T is given, and the chart's helm test uses `wget -T 15`.
E2E_DEBS="etcd-server containernetworking-plugins busybox-static/trixie"

# ---- names and addresses (all inside $E2E_NETNS) ----------------------------
E2E_NETNS=scalecache-e2e
E2E_NODE=sce2e-node
E2E_NODE_IP=10.200.0.1            # on the namespace's loopback
E2E_BRIDGE=sce2e0                 # pod bridge (CNI bridge plugin)
E2E_POD_SUBNET=10.244.0.0/24
E2E_POD_GW=10.244.0.1
E2E_CLUSTER_CIDR=10.244.0.0/16
E2E_SVC_CIDR=10.96.0.0/16
E2E_KUBE_SVC_IP=10.96.0.1
E2E_DNS_IP=10.96.0.10
E2E_GATEWAY_SVC_IP=10.96.0.20     # traefik-gateway's Service, published as the Gateway's address
E2E_CGROUP=scalecache-e2e          # cgroup parent of every pod (cgroupRoot)
E2E_NS=scalecache                  # namespace and release of the chart
E2E_RELEASE=scalecache

E2E_BIN="$E2E_CACHE/bin"
HELM_CACHED="${SCALECACHE_TOOLS:-${HOME:-/root}/.cache/scalecache-tools}/helm-$(sed -nE 's/^HELM_VERSION=(v[0-9.]+).*/\1/p' "$E2E_ROOT/tests/chart/run.sh")/helm"
E2E_IMAGES="$E2E_CACHE/images"
E2E_DEBDIR="$E2E_CACHE/debs"

# ---- output --------------------------------------------------------------------
E2E_T0=${E2E_T0:-$(date +%s)}
log()  { printf '[e2e %4ss] %s\n' "$(( $(date +%s) - E2E_T0 ))" "$*" >&2; }
die()  { log "FATAL: $*"; exit 1; }
step() { printf '\n[e2e %4ss] ==== %s\n' "$(( $(date +%s) - E2E_T0 ))" "$*" >&2; }

# record KEY VALUE: a measured figure, printed in the summary (and kept in
# $E2E_STATE/results for the docs).
record() {
  printf '%-44s %s\n' "$1" "$2" >>"${E2E_RESULTS:-/dev/null}"
  log "result: $1 = $2"
}

# check NAME CMD..., pass, fail: user-visible assertions from the suites' check
# library; failures are counted, not fatal. Results go to stderr and, once
# run.sh sets CHECKS_RESULTS, to the results file.
# shellcheck source=tests/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/checks.sh"
CHECKS_OUTPUT_FD=2

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every second.
wait_until() {
  local limit=$1 what=$2 start; shift 2
  start=$(date +%s)
  while ! "$@" >/dev/null 2>&1; do
    if [ $(( $(date +%s) - start )) -ge "$limit" ]; then
      log "timed out after ${limit}s waiting for: $what"
      return 1
    fi
    sleep 1
  done
}

# innetns CMD...: run CMD in the node's network namespace (only the network
# namespace: mounts, cgroups and /sys stay the host's, which kubelet needs).
innetns() { nsenter --net="/run/netns/$E2E_NETNS" -- "$@"; }

# Clients of the node, run inside its network namespace.
kc()   { innetns "$E2E_BIN/k8s/kubectl" --kubeconfig "$E2E_STATE/pki/admin.kubeconfig" "$@"; }
helm_() { innetns "$HELM" --kubeconfig "$E2E_STATE/pki/admin.kubeconfig" "$@"; }

# stamp_ok FILE KEY: FILE exists and holds KEY (cache entries record their inputs).
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
