# shellcheck shell=bash
# The single-node cluster: network namespace, etcd, control plane, containerd,
# kubelet, kube-proxy, cluster add-ons; and its complete teardown.
#
# Layout of the node's network namespace ($E2E_NETNS):
#   lo        127.0.0.1 (etcd, apiserver, controller-manager, scheduler, kubelet
#             healthz, kube-proxy metrics) and the node address $E2E_NODE_IP
#             (apiserver for pods, kubelet :10250 for metrics-server)
#   $E2E_BRIDGE  $E2E_POD_GW/24, the pods' veths (CNI bridge plugin)
#   routes    $E2E_SVC_CIDR via the bridge, so Service IPs are routable and
#             kube-proxy's DNAT applies; no default route, no link to the host
#             network: nothing in the namespace can reach another machine.
# Processes run with `nsenter --net` only: they share the host's mounts,
# cgroups and /sys (the kubelet and runc need them) but not its network.

E2E_PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

# start_proc NAME CMD...: start CMD in the namespace, log to logs/NAME.log.
start_proc() {
  local name=$1; shift
  # nsenter directly (not the innetns function, which would put a subshell
  # between $! and the process): nsenter and the commands it runs exec, so
  # $! is the component's own pid.
  # fd 9 (run.sh's lock) is closed for it: a component that outlives a killed
  # run must not keep the next run (or --teardown-stale) locked out.
  nsenter --net="/run/netns/$E2E_NETNS" -- "$@" >"$E2E_STATE/logs/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$E2E_STATE/pids/$name"
  log "started $name (pid $!)"
}

proc_alive() { local p; p=$(cat "$E2E_STATE/pids/$1" 2>/dev/null) && kill -0 "$p" 2>/dev/null; }

# wait_component NAME SECONDS DESCRIPTION CMD...: like wait_until, but fails at
# once (with the end of its log) when the process died.
wait_component() {
  local name=$1 limit=$2 what=$3 start; shift 3
  start=$(date +%s)
  while ! "$@" >/dev/null 2>&1; do
    if ! proc_alive "$name"; then
      log "$name exited; last lines of $E2E_STATE/logs/$name.log:"
      tail -n 25 "$E2E_STATE/logs/$name.log" >&2
      return 1
    fi
    if [ $(( $(date +%s) - start )) -ge "$limit" ]; then
      log "$name: timed out after ${limit}s waiting for $what; last lines of its log:"
      tail -n 25 "$E2E_STATE/logs/$name.log" >&2
      return 1
    fi
    sleep 1
  done
}

netns_up() {
  ip netns add "$E2E_NETNS" || die "ip netns add $E2E_NETNS failed"
  innetns ip link set lo up
  innetns ip addr add "$E2E_NODE_IP/32" dev lo
  # The bridge the CNI plugin will use, made now so the Service route exists
  # before kube-proxy and the first pod.
  innetns ip link add "$E2E_BRIDGE" type bridge
  innetns ip addr add "$E2E_POD_GW/24" dev "$E2E_BRIDGE"
  innetns ip link set "$E2E_BRIDGE" up
  innetns ip route add "$E2E_SVC_CIDR" dev "$E2E_BRIDGE" src "$E2E_NODE_IP"
  innetns sysctl -qw net.ipv4.ip_forward=1
  innetns sysctl -qw net.bridge.bridge-nf-call-iptables=1
}

start_etcd() {
  mkdir -p "$E2E_STATE/etcd" && chmod 700 "$E2E_STATE/etcd"
  start_proc etcd "$E2E_ETCD" --name e2e --data-dir "$E2E_STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster e2e=http://127.0.0.1:2380 --initial-cluster-state new \
    --quota-backend-bytes 2147483648 --snapshot-count 10000 --log-level warn --logger zap
  wait_component etcd 60 "etcd /health" innetns curl -sf http://127.0.0.1:2379/health
}

start_apiserver() {
  local p="$E2E_STATE/pki"
  start_proc kube-apiserver "$E2E_BIN/k8s/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$E2E_NODE_IP" \
    --service-cluster-ip-range="$E2E_SVC_CIDR" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false \
    --client-ca-file="$p/ca.crt" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --kubelet-client-certificate="$p/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$p/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$p/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --requestheader-client-ca-file="$p/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="$p/front-proxy-client.crt" --proxy-client-key-file="$p/front-proxy-client.key" \
    --enable-aggregator-routing=true
  wait_component kube-apiserver 120 "apiserver /readyz" \
    innetns curl -sf --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" https://127.0.0.1:6443/readyz
}

start_controllers() {
  local p="$E2E_STATE/pki"
  # HPA: sync every 5 s (default 15 s) so the test's scale-out/in timings are
  # dominated by the HPA behavior settings, not by the polling period.
  start_proc kube-controller-manager "$E2E_BIN/k8s/kube-controller-manager" \
    --kubeconfig="$p/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$p/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$p/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --use-service-account-credentials=true \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --service-cluster-ip-range="$E2E_SVC_CIDR" --allocate-node-cidrs=false \
    --horizontal-pod-autoscaler-sync-period=5s
  start_proc kube-scheduler "$E2E_BIN/k8s/kube-scheduler" \
    --kubeconfig="$p/scheduler.kubeconfig" \
    --authentication-kubeconfig="$p/scheduler.kubeconfig" \
    --authorization-kubeconfig="$p/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false
  wait_component kube-controller-manager 60 "controller-manager /healthz" \
    innetns curl -skf https://127.0.0.1:10257/healthz
  wait_component kube-scheduler 60 "scheduler /healthz" innetns curl -skf https://127.0.0.1:10259/healthz
}

# containerd: Debian's binary with its own root, state, socket and config, so
# it never meets docker's containerd (/var/run/docker/containerd).
start_containerd() {
  local c="$E2E_STATE/containerd"
  E2E_CRI_SOCK="$c/containerd.sock"
  mkdir -p "$c/root" "$c/state" "$c/opt" "$E2E_STATE/runc" "$E2E_STATE/cni/net.d" "$E2E_STATE/cni/ipam"
  cat >"$E2E_STATE/cni/net.d/10-e2e.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "scalecache-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$E2E_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$E2E_STATE/cni/ipam",
        "ranges": [[{"subnet": "$E2E_POD_SUBNET", "gateway": "$E2E_POD_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$E2E_CRI_SOCK"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$E2E_IMG_PAUSE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # This machine withholds CAP_SYS_RESOURCE even from root (it is missing from
  # the bounding set), so no process may lower an oom_score_adj: runc fails
  # with "failed to update /proc/self/oom_score_adj: Permission denied" for the
  # sandbox (-998) and Guaranteed pods (-997). Clamp them at containerd's own
  # score (0) instead, as rootless setups do.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${E2E_RUNC_WRAPPER:-$E2E_RUNC}"
        Root = "$E2E_STATE/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$E2E_CNI_BIN"
    conf_dir = "$E2E_STATE/cni/net.d"
    max_conf_num = 1
EOF
  start_proc containerd "$E2E_CONTAINERD" --config "$c/config.toml" --log-level warn
  wait_component containerd 60 "containerd socket" ctr_ version
}

ctr_() { "$E2E_CTR" --address "$E2E_CRI_SOCK" --namespace k8s.io "$@"; }

import_images() {
  local t start; start=$(date +%s)
  for t in pause coredns metrics-server traefik busybox redis scalecache; do
    ctr_ images import --no-unpack=false "$E2E_IMAGES/$t.tar" >"$E2E_STATE/logs/import-$t.log" 2>&1 \
      || { cat "$E2E_STATE/logs/import-$t.log" >&2; die "ctr images import $t failed"; }
  done
  ctr_ images ls -q | grep -v '^sha256:' | sed 's/^/  image: /' >&2
  record "images imported into containerd" "$(( $(date +%s) - start )) s"
}

# Pod cgroups go under /$E2E_CGROUP in every cgroup v1 hierarchy (the machine
# runs cgroup v1); made here so cpuset gets its parent's cpus and mems.
cgroup_up() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [ -f "$h/cgroup.procs" ] || continue
    mkdir -p "$h$E2E_CGROUP"
    if [ -f "$h/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" >"$h$E2E_CGROUP/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$E2E_CGROUP/cpuset.mems"
    fi
  done
}

start_kubelet() {
  local p="$E2E_STATE/pki" k="$E2E_STATE/kubelet"
  mkdir -p "$k" "$E2E_STATE/pod-logs" "$E2E_STATE/volume-plugins"
  : >"$E2E_STATE/resolv.conf"
  cat >"$E2E_STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $E2E_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $p/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $p/kubelet-serving.crt
tlsPrivateKeyFile: $p/kubelet-serving.key
containerRuntimeEndpoint: unix://$E2E_CRI_SOCK
# The machine has cgroup v1 only (a hybrid layout without a v2 controller
# set); Kubernetes 1.35+ refuses v1 unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$E2E_CGROUP
failSwapOn: false
clusterDNS: [$E2E_DNS_IP]
clusterDomain: cluster.local
resolvConf: $E2E_STATE/resolv.conf
podLogsDir: $E2E_STATE/pod-logs
volumePluginDir: $E2E_STATE/volume-plugins
maxPods: 30
# Disk is shared with other work: never evict or GC images because of it.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  # hugetlb: the kernel has huge pages (/sys/kernel/mm/hugepages) but its
  # hugetlb controller sits in the cgroup v2 hierarchy, which runc 1.1 does
  # not use on a v1 host. The kubelet gives every container a hugetlb limit
  # for each page size it finds, and runc then fails: "cannot set hugetlb
  # limit: container could not join or create cgroup". So the kubelet runs in
  # its own mount namespace where /sys/kernel/mm/hugepages is empty (the node
  # reports no huge pages, which is the truth for its pods). Its root dir is a
  # shared mount, so the volumes it mounts there (service account tokens) still
  # reach containerd and runc in the host's mount namespace.
  { mount --bind "$k" "$k" && mount --make-shared "$k"; } || die "cannot make $k a shared mount"
  # shellcheck disable=SC2016
  start_proc kubelet unshare --mount --propagation unchanged -- /bin/sh -c \
    'mount -t tmpfs -o ro,size=4k,mode=0755 e2e-no-hugepages /sys/kernel/mm/hugepages && exec "$@"' kubelet \
    "$E2E_BIN/k8s/kubelet" --config="$E2E_STATE/kubelet.yaml" \
    --kubeconfig="$p/kubelet.kubeconfig" --root-dir="$k" \
    --hostname-override="$E2E_NODE" --node-ip="$E2E_NODE_IP" --v=1
  wait_component kubelet 120 "node $E2E_NODE registered" kc get node "$E2E_NODE"
  wait_component kubelet 120 "node $E2E_NODE Ready" \
    kc wait --for=condition=Ready "node/$E2E_NODE" --timeout=2s
}

start_kube_proxy() {
  cat >"$E2E_STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $E2E_STATE/pki/kube-proxy.kubeconfig
hostnameOverride: $E2E_NODE
mode: iptables
clusterCIDR: $E2E_CLUSTER_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$E2E_NODE_IP/32"]
# Leave the conntrack sysctls alone (some are read-only in a network namespace).
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
# Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which this machine withholds.
oomScoreAdj: 0
iptables:
  syncPeriod: 10s
  minSyncPeriod: 1s
EOF
  start_proc kube-proxy "$E2E_BIN/k8s/kube-proxy" --config="$E2E_STATE/kube-proxy.yaml" --v=1
  wait_component kube-proxy 60 "kube-proxy /healthz" innetns curl -sf http://127.0.0.1:10256/healthz
  wait_component kube-proxy 60 "KUBE-SERVICES chain" sh -c "nsenter --net=/run/netns/$E2E_NETNS iptables -t nat -S KUBE-SERVICES | grep -q $E2E_KUBE_SVC_IP"
}

# addon FILE: apply tests/e2e/addons/FILE with the run's names substituted.
addon() {
  sed -e "s|@DNS_IP@|$E2E_DNS_IP|g" -e "s|@COREDNS_IMAGE@|$E2E_IMG_COREDNS|g" \
      -e "s|@METRICS_IMAGE@|$E2E_IMG_METRICS|g" -e "s|@TRAEFIK_IMAGE@|$E2E_IMG_TRAEFIK|g" \
      -e "s|@GATEWAY_SVC_IP@|$E2E_GATEWAY_SVC_IP|g" \
      "$E2E_DIR/addons/$1" >"$E2E_STATE/$1"
  kc apply -f "$E2E_STATE/$1" >/dev/null || die "kubectl apply $1 failed"
}

start_addons() {
  local start; start=$(date +%s)
  addon coredns.yaml
  addon metrics-server.yaml
  # Gateway API's CRDs first (Traefik's Gateway provider waits for their
  # informers); server-side apply, as they are too large for the
  # last-applied annotation.
  kc apply --server-side -f "$E2E_CACHE/gateway-api/" >/dev/null || die "kubectl apply of the Gateway API CRDs failed"
  kc wait --for=condition=Established --timeout=60s -f "$E2E_CACHE/gateway-api/" >/dev/null \
    || die "Gateway API CRDs not established"
  addon traefik.yaml
  addon gateway.yaml
  kc -n kube-system rollout status deploy/coredns --timeout=180s >&2 || die "CoreDNS did not become ready"
  kc -n kube-system rollout status deploy/metrics-server --timeout=180s >&2 || die "metrics-server did not become ready"
  kc -n traefik rollout status deploy/traefik-ingress --timeout=180s >&2 || die "Traefik (ingress-nginx provider) did not become ready"
  kc -n traefik rollout status deploy/traefik-gateway --timeout=180s >&2 || die "Traefik (Gateway API provider) did not become ready"
  kc -n traefik wait --for=condition=Programmed gateway/scalecache-e2e --timeout=120s >&2 \
    || { kc -n traefik get gateway scalecache-e2e -o yaml >&2; die "the Gateway was not programmed by Traefik"; }
  wait_until 180 "metrics API (kubectl top node)" kc top node || die "metrics API never answered"
  record "add-ons ready (CoreDNS, metrics-server, metrics API, Traefik x2, Gateway)" "$(( $(date +%s) - start )) s"
}

node_up() {
  local start; start=$(date +%s)
  pki_all
  netns_up
  start_etcd || die "etcd did not start"
  start_apiserver || die "kube-apiserver did not start"
  start_controllers || die "controller-manager/scheduler did not start"
  record "control plane up (etcd, apiserver, controllers)" "$(( $(date +%s) - start )) s"
  start_containerd || die "containerd did not start"
  import_images
  cgroup_up
  start_kubelet || die "kubelet did not register a Ready node"
  start_kube_proxy || die "kube-proxy did not start"
  record "node Ready (kubelet, kube-proxy)" "$(( $(date +%s) - start )) s"
  start_addons
  kc get nodes -o wide >&2
  kc get pods -A -o wide >&2
  record "cluster up, from nothing to add-ons ready" "$(( $(date +%s) - start )) s"
}

# ---- teardown ------------------------------------------------------------------

# stop_pid NAME PID: SIGTERM, up to 15 s, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  # Only a process of this run (its command line names the state directory):
  # after a reboot the pid of a killed run may belong to something else.
  { tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$E2E_STATE/"; } 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  log "$name (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  sleep 0.5
}

# Processes whose command line names the run's state directory: the
# containerd shims (-address <state>/containerd/containerd.sock) and anything
# else started from it that outlived its parent.
state_pids() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline" | grep -qF "$E2E_STATE/"; } 2>/dev/null && echo "${p#/proc/}"
  done
}

node_down() {
  [ -n "${E2E_STATE:-}" ] && [ -d "$E2E_STATE" ] || return 0
  step "teardown"
  local name pid m i ns leftovers=0
  # 1. Let the kubelet stop the pods it runs (CNI DEL releases their veths and IPs).
  local t0; t0=$(date +%s)
  if proc_alive kube-apiserver && proc_alive kubelet; then
    kc delete namespace "$E2E_NS" --ignore-not-found --wait=false >/dev/null 2>&1
    kc -n kube-system delete deployment --all --wait=false >/dev/null 2>&1
    kc -n traefik delete deployment --all --wait=false >/dev/null 2>&1
    kc delete pods --all --all-namespaces --grace-period=5 --wait=false >/dev/null 2>&1
    # Running tasks (containers and pod sandboxes) gone: the kubelet stopped
    # them; the dead containers themselves go with containerd's state.
    for i in $(seq 1 60); do
      ctr_ tasks ls 2>/dev/null | grep -q RUNNING || break
      sleep 1
    done
    log "pods stopped by the kubelet ($(( $(date +%s) - t0 )) s)"
  fi
  # 2. Node and control plane processes, last started first.
  for ((i = ${#E2E_PROCS[@]} - 1; i >= 0; i--)); do
    name=${E2E_PROCS[$i]}
    pid=$(cat "$E2E_STATE/pids/$name" 2>/dev/null) || continue
    if [ "$name" = containerd ] && proc_alive containerd; then
      # Whatever is still running (normally nothing): kill its tasks first.
      for m in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$m" >/dev/null 2>&1; done
      sleep 1
      for m in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$m" >/dev/null 2>&1; done
      for m in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$m" >/dev/null 2>&1; done
    fi
    stop_pid "$name" "$pid"
  done
  # 3. Shims and container processes left behind (by pid, found by state path).
  for pid in $(state_pids); do
    [ "$pid" = $$ ] && continue
    log "left-over process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
    kill -KILL "$pid" 2>/dev/null
    leftovers=$((leftovers + 1))
  done
  sleep 0.5
  # 4. Mounts under the state directory (container rootfs, tmpfs volumes, shm).
  for i in 1 2 3; do
    for m in $(findmnt -rn -o TARGET | grep -F "$E2E_STATE/" | sort -r); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
  done
  # 5. Pod network namespaces this run created, then the node's own (with the
  #    bridge, the veths and every iptables rule of kube-proxy and CNI).
  for ns in /run/netns/cni-*; do
    [ -e "$ns" ] || continue
    grep -qx "${ns#/run/netns/}" "$E2E_STATE/netns-before" 2>/dev/null && continue
    umount "$ns" 2>/dev/null; rm -f "$ns"
  done
  ip netns del "$E2E_NETNS" 2>/dev/null
  # 6. Pod cgroups.
  for m in /sys/fs/cgroup/*/"$E2E_CGROUP"; do
    [ -d "$m" ] && find "$m" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  # 7. The kubelet keeps its device-plugin socket in a fixed path.
  if [ -f "$E2E_STATE/var-lib-kubelet-absent" ]; then rm -rf /var/lib/kubelet; fi
  # 8. Files.
  if findmnt -rn -o TARGET | grep -qF "$E2E_STATE/"; then
    log "mounts still under $E2E_STATE; leaving the directory"
    leftovers=$((leftovers + 1))
  else
    if [ "${SCALECACHE_E2E_KEEP_LOGS:-0}" = 1 ]; then
      rm -rf "$E2E_CACHE/last-logs"
      cp -r "$E2E_STATE/logs" "$E2E_CACHE/last-logs" 2>/dev/null
      cp -r "$E2E_STATE/pod-logs" "$E2E_CACHE/last-logs/pods" 2>/dev/null
      log "component and pod logs kept in $E2E_CACHE/last-logs"
    fi
    rm -rf --one-file-system "$E2E_STATE"
  fi
  rm -f "$E2E_CACHE/current-state"
  node_verify_clean "$leftovers"
}

# After teardown: nothing of the run may remain.
node_verify_clean() {
  local bad=${1:-0} m
  ip netns list 2>/dev/null | grep -qw "$E2E_NETNS" && { log "netns $E2E_NETNS still exists"; bad=$((bad + 1)); }
  [ -n "$(state_pids)" ] && { log "processes of the run still alive: $(state_pids | tr '\n' ' ')"; bad=$((bad + 1)); }
  findmnt -rn -o TARGET | grep -qF "$E2E_STATE/" && { log "mounts left under $E2E_STATE"; bad=$((bad + 1)); }
  for m in /sys/fs/cgroup/*/"$E2E_CGROUP"; do [ -d "$m" ] && { log "cgroup $m left"; bad=$((bad + 1)); }; done
  iptables-save 2>/dev/null | grep -qE 'KUBE-|CNI-|10\.244\.' && { log "host iptables holds KUBE-/CNI- rules"; bad=$((bad + 1)); }
  if [ "$bad" = 0 ]; then
    log "teardown complete: no process, mount, netns, cgroup, iptables rule or file of the run is left"
  else
    log "teardown left $bad thing(s) behind (see above)"
  fi
  # shellcheck disable=SC2034  # read by run.sh
  E2E_TEARDOWN_LEFTOVERS=$bad
}
