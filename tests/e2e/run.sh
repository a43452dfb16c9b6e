#!/usr/bin/env bash
# End-to-end test of the chart on a real single-node Kubernetes built on this
# machine (docs/kubernetes-e2e.md):
#
#   1. build    Kubernetes node binaries, CoreDNS and metrics-server (one go
#               build, tests/e2e/k8s-build), Traefik (go build in its module),
#               Gateway API CRDs, etcd, CNI plugins and busybox from Debian
#               packages, a static pause binary, images (pause, CoreDNS,
#               metrics-server, Traefik, busybox, Redis, `make image`).
#               Cached in ~/.cache/scalecache-e2e: a warm run builds nothing.
#   2. node     a network namespace with a pod bridge; certificates;
#               etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#               containerd (own root, state and socket), kubelet, kube-proxy
#               (iptables); CoreDNS, metrics-server, Traefik (ingress-nginx
#               provider; Gateway API provider, with a Gateway) as pods.
#   3. flow     helm install --wait, helm test, requests through the Service,
#               the Ingress and the Gateway,
#               kubectl scale to 3, the HPA scaling out under load and back in,
#               kubectl rollout restart under load, the worker tier's
#               Deployment scaling out on a backlog of jobs and back in,
#               helm uninstall; the chart again with its in-chart Redis
#               Cluster, a master pod deleted under load (promotion,
#               self-healing, zero failed requests).
#   4. teardown every process, mount, network namespace (with its iptables
#               rules), cgroup and file of the run; checked afterwards.
#
# Usage: tests/e2e/run.sh [--build-only | --if-warm | --teardown-stale]
#   --build-only      fill the cache and stop (no node)
#   --if-warm         exit 0 with a message when the cache is cold, else run
#   --teardown-stale  remove what a killed run left behind, then exit
# Environment: SCALECACHE_E2E_CACHE (default ~/.cache/scalecache-e2e),
#   SCALECACHE_E2E_ONLY=redis-cluster runs only the Redis Cluster phase,
#   SCALECACHE_E2E_RC_REPLICAS sets its replicas per master (default 1),
#   SCALECACHE_E2E_KEEP_LOGS=1 copies the component and pod logs to
#   <cache>/last-logs (done anyway when something failed),
#   SCALECACHE_E2E_STEPS the flow's steps between install and uninstall
#   (default: helm_test service ingress scale hpa rollout worker).
# Needs root (network namespaces, cgroups, mounts). Exit status: 0 when every
# check passed and the teardown left nothing behind.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=tests/e2e/lib/build.sh
. "$here/lib/build.sh"
# shellcheck source=tests/e2e/lib/pki.sh
. "$here/lib/pki.sh"
# shellcheck source=tests/e2e/lib/node.sh
. "$here/lib/node.sh"
# shellcheck source=tests/e2e/lib/flow.sh
. "$here/lib/flow.sh"
# shellcheck source=tests/e2e/lib/flow_cluster.sh
. "$here/lib/flow_cluster.sh"

mode=${1:-run}
case $mode in
  run | --build-only | --if-warm | --teardown-stale) ;;
  *) echo "usage: $0 [--build-only | --if-warm | --teardown-stale]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, cgroups, mounts)"

mkdir -p "$E2E_CACHE"
exec 9>"$E2E_CACHE/run.lock"
flock -n 9 || die "another tests/e2e run holds $E2E_CACHE/run.lock"

# A run that was killed (SIGKILL, machine reboot) leaves its state path here.
teardown_stale() {
  local stale
  stale=$(cat "$E2E_CACHE/current-state" 2>/dev/null) || return 0
  [ -n "$stale" ] || return 0
  log "cleaning up after an interrupted run ($stale)"
  E2E_STATE=$stale
  E2E_CRI_SOCK="$stale/containerd/containerd.sock"
  E2E_CTR=$(command -v ctr || echo ctr)
  node_down
  E2E_STATE=""
}

if [ "$mode" = --teardown-stale ]; then
  teardown_stale
  exit 0
fi

if [ "$mode" = --if-warm ] && ! cache_is_warm; then
  echo "e2e-k8s: SKIPPED, the build cache $E2E_CACHE is cold (a cold run builds Kubernetes, CoreDNS," \
       "metrics-server and Traefik from source first). Fill it with \`make e2e-k8s\` (or tests/e2e/run.sh --build-only)." >&2
  exit 0
fi

teardown_stale

step "build (cache: $E2E_CACHE)"
# The build's figures go to the run's results once its state directory exists.
E2E_RESULTS="$E2E_CACHE/build-results.tmp"
: >"$E2E_RESULTS"
build_all
[ "$mode" = --build-only ] && { log "cache filled: $E2E_CACHE ($(du -sh "$E2E_CACHE" | cut -f1))"; exit 0; }

E2E_STATE=$(mktemp -d /var/tmp/sce2e.XXXXXX)
chmod 711 "$E2E_STATE"
mkdir -p "$E2E_STATE/logs" "$E2E_STATE/pids"
echo "$E2E_STATE" >"$E2E_CACHE/current-state"
mv "$E2E_RESULTS" "$E2E_STATE/results"
E2E_RESULTS="$E2E_STATE/results"
CHECKS_RESULTS=$E2E_RESULTS   # every check's line goes there too (tests/lib/checks.sh)
ls /run/netns 2>/dev/null >"$E2E_STATE/netns-before"
[ -e /var/lib/kubelet ] || touch "$E2E_STATE/var-lib-kubelet-absent"
RESULTS_COPY="$E2E_CACHE/last-results.txt"

finish() {
  local rc=$?
  trap - EXIT INT TERM
  [ -f "${E2E_RESULTS:-}" ] && cp "$E2E_RESULTS" "$RESULTS_COPY"
  # On any failure keep the component and pod logs for a look afterwards.
  if [ "$rc" != 0 ] || [ "$CHECKS_FAILED" != 0 ]; then SCALECACHE_E2E_KEEP_LOGS=1; fi
  node_down
  step "summary"
  cat "$RESULTS_COPY" 2>/dev/null
  printf '  teardown: %s\n' "$([ "${E2E_TEARDOWN_LEFTOVERS:-1}" = 0 ] && echo clean || echo "LEFT ${E2E_TEARDOWN_LEFTOVERS:-?} THING(S)")" | tee -a "$RESULTS_COPY"
  [ "$rc" = 0 ] || printf '  ABORTED (exit %s) before the flow finished\n' "$rc" | tee -a "$RESULTS_COPY"
  printf '  %d passed, %d failed, total %d s\n' "$CHECKS_PASSED" "$CHECKS_FAILED" "$(( $(date +%s) - E2E_T0 ))" | tee -a "$RESULTS_COPY"
  [ "$rc" = 0 ] && [ "$CHECKS_FAILED" = 0 ] && [ "${E2E_TEARDOWN_LEFTOVERS:-1}" = 0 ] && exit 0
  exit 1
}
trap finish EXIT
trap 'log "interrupted"; exit 130' INT TERM

step "node ($K8S_VERSION; state $E2E_STATE)"
node_up
flow_all
