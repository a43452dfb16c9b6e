# shellcheck shell=bash
# The Redis Cluster phase of the e2e (after the users' flow of flow.sh): the
# chart installed once more, in its own namespace, with the in-chart Redis
# Cluster (tests/e2e/values-redis-cluster.yaml: 3 masters x 1 replica, L1
# off) and scalecache in mode cluster; steady load through the Service; one
# Redis master pod deleted; its replica must be promoted, the cluster must
# heal by itself (the replaced pod joins as a replica, the old node is
# forgotten) and no client request may fail. Measured: time to promotion, to
# a healed cluster, and how long answers came from the origin instead of L2.
#
# SCALECACHE_E2E_RC_REPLICAS overrides redis.cluster.replicasPerMaster (0
# shows the checks failing: nothing to promote).

E2E_RC_NS=scalecache-cluster
E2E_RC_RELEASE=scalecache
E2E_RC_VALUES="$E2E_DIR/values-redis-cluster.yaml"
E2E_RC_MASTERS=3
E2E_RC_REPLICAS=${SCALECACHE_E2E_RC_REPLICAS:-1}
E2E_RC_SIZE=$(( E2E_RC_MASTERS * (1 + E2E_RC_REPLICAS) ))
E2E_RC_PASS=""

rc_kc() { kc -n "$E2E_RC_NS" "$@"; }
# rc_pods: "name ip deletionTimestamp" of each Redis pod.
rc_pods() {
  rc_kc get pods -l "app.kubernetes.io/instance=$E2E_RC_RELEASE,app.kubernetes.io/component=redis" \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.podIP}{" "}{.metadata.deletionTimestamp}{"\n"}{end}'
}
# rcli IP ARGS...: redis-cli (Debian's redis-tools on the host) from the node's namespace.
rcli() {
  local ip=$1; shift
  REDISCLI_AUTH=$E2E_RC_PASS innetns timeout 3 redis-cli -h "$ip" -p 6379 "$@" 2>/dev/null | tr -d '\r'
}
rc_app_ips() {
  rc_kc get pods -l "app.kubernetes.io/instance=$E2E_RC_RELEASE,app.kubernetes.io/component=server" \
    --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}'
}
# rc_metric NAME: the sum of a scalecache metric over the phase's scalecache pods.
rc_metric() {
  local ip sum=0 v
  for ip in $(rc_app_ips); do
    v=$(get "http://$ip:8080/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d", s }')
    sum=$(( sum + ${v:-0} ))
  done
  echo "$sum"
}
rc_redis_up_everywhere() {
  local ip n=0
  for ip in $(rc_app_ips); do
    get "http://$ip:8080/metrics" | awk '$1 == "scalecache_redis_up" && $2 == 1 { up = 1 } END { exit !up }' || return 1
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}

# rc_healthy: every Redis pod is up (none terminating), each one's server
# sees cluster_state ok, all slots served and exactly the pods as nodes; the
# cluster has the wanted masters, each with its replicas, and no failed node.
rc_healthy() {
  local _name ip del n=0 info last=""
  while read -r _name ip del; do
    [ -z "$del" ] && [ -n "$ip" ] || return 1
    info=$(rcli "$ip" CLUSTER INFO)
    echo "$info" | grep -qx 'cluster_state:ok' || return 1
    echo "$info" | grep -qx 'cluster_slots_ok:16384' || return 1
    echo "$info" | grep -qx "cluster_known_nodes:$E2E_RC_SIZE" || return 1
    n=$((n + 1)) last=$ip
  done < <(rc_pods)
  [ "$n" = "$E2E_RC_SIZE" ] || return 1
  rcli "$last" CLUSTER NODES | awk -v m="$E2E_RC_MASTERS" -v r="$E2E_RC_REPLICAS" '
    $3 ~ /fail/ { bad = 1 }
    $3 ~ /master/ && NF > 8 { masters[$1] = 1 }
    $3 ~ /slave/ { reps[$4]++ }
    END { if (bad) exit 1; n = 0; for (x in masters) { n++; if (reps[x] + 0 < r) exit 1 } exit !(n == m) }'
}
rc_shape() {
  local ip
  ip=$(rc_pods | awk '$2 != "" && $3 == "" { print $2; exit }')
  rcli "$ip" CLUSTER NODES | awk '{ f = $3; sub(/myself,/, "", f); printf "%s %s %s%s; ", substr($1, 1, 8), $2, f, (NF > 8 ? " " $9 : "") }'
}
now_ms() { date +%s%3N; }

flow_redis_cluster() {
  step "Redis Cluster: the chart's in-chart cluster, a master pod deleted under load (zero failed requests expected)"
  local start rc out="$E2E_STATE/rc-load.json" stopf="$E2E_STATE/rc.stop" lp
  start=$(date +%s)
  helm_ install "$E2E_RC_RELEASE" "$E2E_CHART" --namespace "$E2E_RC_NS" --create-namespace \
    -f "$E2E_VALUES" -f "$E2E_RC_VALUES" --set "redis.cluster.replicasPerMaster=$E2E_RC_REPLICAS" \
    --wait --timeout 5m >"$E2E_STATE/helm-install-rc.log" 2>&1
  rc=$?
  sed 's/^/  | /' "$E2E_STATE/helm-install-rc.log" | head -20 >&2
  check "helm install --wait with redis.mode cluster (in-chart cluster, $E2E_RC_MASTERS masters x $E2E_RC_REPLICAS replica(s))" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || { rc_kc get pods -o wide >&2; rc_kc get events --sort-by=.lastTimestamp | tail -30 >&2; return 1; }
  record "cluster: helm install --wait" "$(( $(date +%s) - start )) s"
  E2E_RC_PASS=$(rc_kc get secret "$E2E_RC_RELEASE" -o jsonpath='{.data.redis-password}' | base64 -d)
  rc_kc get statefulset,pods,svc,pdb -o wide >&2
  check "the Redis Cluster is created by the chart alone: $E2E_RC_SIZE nodes, $E2E_RC_MASTERS masters with $E2E_RC_REPLICAS replica(s) each, all slots served (within 120 s)" \
    wait_until 120 "a complete Redis Cluster" rc_healthy || { rc_kc logs "$E2E_RC_RELEASE-redis-0" -c cluster-agent >&2; return 1; }
  record "cluster: complete, from the install's start" "$(( $(date +%s) - start )) s"
  log "cluster: $(rc_shape)"
  check "every scalecache pod reaches the cluster (scalecache_redis_up 1, within 60 s)" \
    wait_until 60 "scalecache_redis_up 1 on every pod" rc_redis_up_everywhere
  local ip
  ip=$(rc_kc get svc "$E2E_RC_RELEASE" -o jsonpath='{.spec.clusterIP}')
  check_miss_then_hit "cluster mode, through the Service" "http://$ip"

  # The victim: a master with slots, and its replica (the one to be promoted).
  local probe_ip victim_id victim_ip victim replica_id replica_ip replica
  probe_ip=$(rc_pods | awk '$2 != "" { print $2; exit }')
  read -r victim_id victim_ip < <(rcli "$probe_ip" CLUSTER NODES | awk '$3 ~ /master/ && NF > 8 { split($2, a, ":"); print $1, a[1]; exit }')
  victim=$(rc_pods | awk -v ip="$victim_ip" '$2 == ip { print $1 }')
  read -r replica_id replica_ip < <(rcli "$probe_ip" CLUSTER NODES | awk -v m="$victim_id" '$3 ~ /slave/ && $4 == m { split($2, a, ":"); print $1, a[1]; exit }')
  replica=$(rc_pods | awk -v ip="$replica_ip" '$2 == ip { print $1 }')
  log "victim: master $victim ($victim_ip, ${victim_id:0:8}); its replica: ${replica:-none} (${replica_ip:-}, ${replica_id:0:8})"
  [ -n "$victim" ] || { check "a master pod to delete was found" false; return 1; }

  local redirects0 refresh0
  redirects0=$(rc_metric scalecache_redis_redirects_total); refresh0=$(rc_metric scalecache_redis_topology_refreshes_total)
  rm -f "$stopf" "$stopf.started"
  innetns /usr/bin/python3 "$E2E_DIR/load.py" --host "$ip" --seconds 240 --rate 150 --workers 8 --keys 100 \
    --prefill --stop-file "$stopf" --started-file "$stopf.started" --out "$out" >/dev/null 2>"$E2E_STATE/rc-load.err" &
  lp=$!
  wait_until 120 "the load client's warm-up" test -f "$stopf.started"
  # Steady state first: 300 answers counted by the pods since the load began.
  local base
  base=$(rc_metric scalecache_http_requests_total)
  wait_until 30 "300 requests served under load" rc_served_since "$base" 300

  local t_kill t_promoted="" t_up="" t_healed=""
  t_kill=$(now_ms)
  rc_kc delete pod "$victim" --wait=false >&2
  # Poll the replica's role every 0.2 s for at most 60 s.
  for _ in $(seq 300); do
    if [ -n "$replica_ip" ] && [ "$(rcli "$replica_ip" ROLE | head -1)" = master ]; then t_promoted=$(now_ms); break; fi
    sleep 0.2
  done
  if [ -n "$t_promoted" ]; then
    record "cluster: master deleted -> replica promoted" "$(( t_promoted - t_kill )) ms"
    for _ in $(seq 150); do
      if rc_redis_up_everywhere; then t_up=$(now_ms); break; fi
      sleep 0.2
    done
    [ -n "$t_up" ] && record "cluster: master deleted -> every scalecache pod's redis_up 1" "$(( t_up - t_kill )) ms"
  fi
  check "the deleted master's replica ($replica) is promoted (within 60 s)" [ -n "$t_promoted" ]
  log "after the failover: $(rc_shape)"
  if wait_until 180 "the cluster healed ($E2E_RC_SIZE nodes, no failed one, every master with its replicas)" rc_healthy; then
    t_healed=$(now_ms)
    record "cluster: master deleted -> cluster healed (replaced pod joined, old node forgotten)" "$(( t_healed - t_kill )) ms"
  fi
  log "healed: $(rc_shape)"
  check "the cluster heals by itself: the replaced pod joins as a replica, the failed node is forgotten (within 180 s)" [ -n "$t_healed" ]
  # The load goes on over the healed cluster before it stops.
  base=$(rc_metric scalecache_http_requests_total)
  wait_until 30 "300 requests served after healing" rc_served_since "$base" 300
  touch "$stopf"; wait "$lp"

  local summary total failed seconds rps kinds nc_count nc_first nc_last sources nc_seconds
  summary=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); n=s["not_cached"]; k=int(sys.argv[2])//1000
per=",".join(f"+{int(t)-k}s:{c}" for t, c in sorted(n.get("per_second", {}).items(), key=lambda i: int(i[0])))
print(s["requests"], s["failed"], s["seconds"], s["req_per_s"], n["count"], int((n["first"] or 0)*1000), int((n["last"] or 0)*1000), json.dumps(s["failures_by_kind"],separators=(",",":")), json.dumps(s["sources"],separators=(",",":")), per or "-")' "$out" "$t_kill" 2>/dev/null)
  read -r total failed seconds rps nc_count nc_first nc_last kinds sources nc_seconds <<<"$summary"
  record "cluster: requests under load" "${total:-?} in ${seconds:-?} s (${rps:-?} req/s, L1 off); sources ${sources:-?}"
  record "cluster: failed requests" "${failed:-?} ${kinds:-}"
  if [ "${nc_count:-0}" -gt 0 ]; then
    record "cluster: L2 hits missing (answers from the origin)" "${nc_count} answers, from +$(( nc_first - t_kill )) ms to +$(( nc_last - t_kill )) ms after the delete: $(( nc_last - nc_first )) ms"
    record "cluster: answers from the origin per second after the delete" "${nc_seconds:-?}"
  else
    record "cluster: L2 hits missing (answers from the origin)" "none"
  fi
  record "cluster: scalecache redirects / topology refreshes during the phase" \
    "$(( $(rc_metric scalecache_redis_redirects_total) - redirects0 )) / $(( $(rc_metric scalecache_redis_topology_refreshes_total) - refresh0 ))"
  [ "${failed:-1}" = 0 ] || sed 's/^/  | /' "$out" >&2
  check "master deleted under load: zero failed requests" [ "${failed:-1}" = 0 ]
  check "master deleted under load: ${total:-?} requests in ${seconds:-?} s, at least 80 % of 150/s" \
    awk -v n="${total:-0}" -v s="${seconds:-0}" 'BEGIN { exit !(s > 0 && n >= 0.8 * 150 * s) }'
  check "L2 hits resume: 20 keys of the load all answered from L2 after healing" rc_all_l2 "http://$ip" 20

  step "Redis Cluster: helm uninstall"
  start=$(date +%s)
  helm_ uninstall "$E2E_RC_RELEASE" --namespace "$E2E_RC_NS" --wait --timeout 3m >&2
  # namespace_leftovers, no_pods and ns_empty (flow.sh) read E2E_NS.
  # shellcheck disable=SC2034
  local E2E_NS=$E2E_RC_NS left
  wait_until 120 "no pods left in namespace $E2E_RC_NS" no_pods
  wait_until 30 "no objects left" ns_empty
  left=$(namespace_leftovers)
  record "cluster: helm uninstall, namespace empty after" "$(( $(date +%s) - start )) s"
  check "helm uninstall of the cluster release leaves nothing (StatefulSet, pods, Services, PDBs, policies, ConfigMaps, Secrets)" [ -z "$left" ]
}
rc_served_since() { [ $(( $(rc_metric scalecache_http_requests_total) - $1 )) -ge "$2" ]; }
# rc_all_l2 BASE N: the first N keys of the load come from L2.
rc_all_l2() {
  local k body
  for k in $(seq 0 $(( $2 - 1 ))); do
    body=$(get "$1/data/e2e-load-$k")
    echo "$body" | grep -Eq '"source": ?"l2"' || { log "e2e-load-$k: $body"; return 1; }
  done
}
