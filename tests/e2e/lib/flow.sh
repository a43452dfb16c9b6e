# shellcheck shell=bash
# The users' flow of docs/kubernetes.md, on the node: helm install --wait,
# helm test, requests through the Service, the Ingress (Traefik's ingress-nginx
# provider) and the Gateway (its Gateway API provider), kubectl scale, the HPA
# under load through the Ingress, kubectl rollout restart under load through
# the Ingress, helm uninstall; then the Redis Cluster phase (flow_cluster.sh).

E2E_SEL="app.kubernetes.io/instance=$E2E_RELEASE,app.kubernetes.io/component=server"
E2E_VALUES="$E2E_DIR/values.yaml"
E2E_CHART="$E2E_ROOT/charts/scalecache"
E2E_HPA_LOAD_SECONDS=90

svc_ip() { kc -n "$E2E_NS" get svc "$E2E_RELEASE" -o jsonpath='{.spec.clusterIP}'; }
# get URL: one request from the node's network namespace (through kube-proxy).
get() { innetns curl -s --max-time 15 "$@"; }

# check_miss_then_hit WHERE BASE_URL [CURL_ARGS...]: a new key fetched twice
# through BASE_URL: a miss served by the origin, then a hit.
check_miss_then_hit() {
  local where=$1 base=$2 key first second; shift 2
  key="e2e-$(date +%s%N)"
  first=$(get "$@" "$base/data/$key"); second=$(get "$@" "$base/data/$key")
  log "$where, first:  $first"; log "$where, second: $second"
  # shellcheck disable=SC2016  # $1 is sh's
  check "$where: first GET is a miss served by the origin" \
    sh -c 'echo "$1" | grep -Eq "\"source\": ?\"origin\""' _ "$first"
  # shellcheck disable=SC2016
  check "$where: second GET is a hit (cached true, l1 or l2)" \
    sh -c 'echo "$1" | grep -Eq "\"cached\": ?true" && echo "$1" | grep -Eq "\"source\": ?\"l[12]\""' _ "$second"
}
ready_count() {
  kc -n "$E2E_NS" get pods -l "$E2E_SEL" \
    -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    | grep -c '^|True$'
}
deploy_replicas() { kc -n "$E2E_NS" get deploy "$E2E_RELEASE" -o jsonpath='{.spec.replicas}'; }
hpa_field() { kc -n "$E2E_NS" get hpa "$E2E_RELEASE" -o jsonpath="$1" 2>/dev/null; }
pod_ips() {
  kc -n "$E2E_NS" get pods -l "$E2E_SEL" --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.podIP}{"\n"}{end}'
}
# ready_seconds: "pod seconds" from creation to Ready for the pods matching $1.
ready_seconds() {
  kc -n "$E2E_NS" get pods -l "$1" \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.creationTimestamp}{" "}{.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\n"}{end}' |
    while read -r name created ready; do
      [ -n "$ready" ] && echo "$name $(( $(date -d "$ready" +%s) - $(date -d "$created" +%s) ))"
    done
}
# data_requests POD_IP: the pod's scalecache_http_requests_total for route="data", from its /metrics.
data_requests() {
  get "http://$1:8080/metrics" | awk '/^scalecache_http_requests_total\{/ && /route="data"/ { s += $NF } END { print s + 0 }'
}

flow_install() {
  step "helm install --wait (chart defaults + tests/e2e/values.yaml)"
  local start rc
  start=$(date +%s)
  helm_ install "$E2E_RELEASE" "$E2E_CHART" --namespace "$E2E_NS" --create-namespace \
    -f "$E2E_VALUES" --wait --timeout 5m >"$E2E_STATE/helm-install.log" 2>&1
  rc=$?
  sed 's/^/  | /' "$E2E_STATE/helm-install.log" | head -40 >&2
  check "helm install --wait succeeds" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || { kc -n "$E2E_NS" get pods -o wide >&2; kc -n "$E2E_NS" get events --sort-by=.lastTimestamp | tail -30 >&2; return 1; }
  record "helm install --wait" "$(( $(date +%s) - start )) s"
  kc -n "$E2E_NS" get deploy,pods,svc,ingress,httproute,hpa,pdb,networkpolicy -o wide >&2
  local line
  while read -r line; do record "time to Ready: ${line% *}" "${line##* } s"; done < <(ready_seconds "app.kubernetes.io/instance=$E2E_RELEASE")
  check "2 scalecache pods Ready after install (HPA minReplicas)" [ "$(ready_count)" = 2 ]
  # `--wait` waits for Ready pods, and scalecache is Ready before it has
  # reached Redis (Redis starts beside it; the connection is retried). Until
  # then a pod answers a key another pod filled from the origin: helm test
  # failed that way once ("second request was not a hit", both answers
  # "source":"origin", 5 s after install). So the flow waits for Redis on
  # every pod first, and says how long that took.
  check "every scalecache pod reaches Redis (its scalecache_redis_up is 1, within 60 s)" \
    wait_until 60 "every pod's scalecache_redis_up 1" redis_up_everywhere &&
    record "helm install: every pod connected to Redis, from the install's start" "$(( $(date +%s) - start )) s"
  return 0   # installed: the flow goes on even if those checks failed
}
# redis_up_everywhere: each running scalecache pod's /metrics says scalecache_redis_up 1.
redis_up_everywhere() {
  local name pip
  while read -r name pip; do
    get "http://$pip:8080/metrics" | awk '$1 == "scalecache_redis_up" && $2 == 1 { up = 1 } END { exit !up }' || return 1
  done < <(pod_ips)
}

flow_helm_test() {
  step "helm test"
  local out
  out=$(helm_ test "$E2E_RELEASE" --namespace "$E2E_NS" --logs --timeout 3m 2>&1)
  local rc=$?
  # shellcheck disable=SC2001  # a prefix on every line: sed, not ${out//}
  echo "$out" | sed 's/^/  | /' >&2
  check "helm test passes (miss then hit through the Service, from a pod, by DNS name)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'PASS: miss then hit'" _ "$out"
}

flow_service() {
  step "requests through the Service (ClusterIP, kube-proxy iptables)"
  local ip key first l2=""
  ip=$(svc_ip)
  log "Service $E2E_RELEASE: ClusterIP $ip"
  check_miss_then_hit "through the Service" "http://$ip"
  # Redis (L2): a key filled through one pod is served by another pod from
  # Redis, which scalecache reached through its Service name (cluster DNS).
  local pods a b
  pods=$(pod_ips | awk '{print $2}')
  a=$(echo "$pods" | sed -n 1p); b=$(echo "$pods" | sed -n 2p)
  key="e2e-l2-$(date +%s)"
  first=$(get "http://$a:8080/data/$key"); l2=$(get "http://$b:8080/data/$key")
  log "pod $a: $first"; log "pod $b: $l2"
  check "a key filled by one pod is served by another from Redis (source l2)" \
    sh -c "echo '$first' | grep -Eq '\"source\": ?\"origin\"' && echo '$l2' | grep -Eq '\"source\": ?\"l2\"'"
  check "/healthz through the Service" sh -c "[ \"\$(nsenter --net=/run/netns/$E2E_NETNS curl -s -o /dev/null -w '%{http_code}' http://$ip/healthz)\" = 200 ]"
  check "/readyz through the Service" sh -c "[ \"\$(nsenter --net=/run/netns/$E2E_NETNS curl -s -o /dev/null -w '%{http_code}' http://$ip/readyz)\" = 200 ]"
}

# ---- the Ingress and the Gateway ------------------------------------------------
# Set by flow_ingress: where users reach scalecache through each controller
# (the addresses the controllers publish in the Ingress's and the Gateway's
# status) and the Host each answers for.
E2E_INGRESS_IP="" E2E_INGRESS_HOST="" E2E_GATEWAY_IP="" E2E_GATEWAY_HOST=""

ingress_address() { kc -n "$E2E_NS" get ingress "$E2E_RELEASE" -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null; }
gateway_address() { kc -n traefik get gateway scalecache-e2e -o jsonpath='{.status.addresses[0].value}' 2>/dev/null; }
has_output() { [ -n "$("$@")" ]; }
# route_accepted: the HTTPRoute's status, for the Gateway its spec names now,
# says Accepted and ResolvedRefs for its current generation. (Traefik leaves
# the entry of a Gateway the route no longer names in place: a route moved to
# a Gateway that does not exist still showed Accepted at parents[0].)
route_accepted() {
  kc -n "$E2E_NS" get httproute "$E2E_RELEASE" -o json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
want = r["spec"]["parentRefs"][0]
true = {c["type"] for p in r.get("status", {}).get("parents", [])
        if (p["parentRef"]["name"], p["parentRef"].get("namespace")) == (want["name"], want.get("namespace"))
        for c in p["conditions"] if c["status"] == "True" and c.get("observedGeneration") == r["metadata"]["generation"]}
sys.exit(not {"Accepted", "ResolvedRefs"} <= true)'
}
# serves BASE_URL HOST: GET /healthz through BASE_URL with that Host answers
# 200 (the controller has put the route in its configuration; it applies
# changes a few seconds after it writes their status).
serves() { [ "$(get -o /dev/null -w '%{http_code}' -H "Host: $2" "$1/healthz")" = 200 ]; }
# traefik_web_requests CODE_REGEX: requests Traefik's ingress-nginx instance
# counted on its `web` entry point (its own /metrics), for the codes matching.
traefik_web_requests() {
  local pod
  pod=$(kc -n traefik get pods -l app=traefik-ingress -o jsonpath='{.items[0].status.podIP}')
  get "http://$pod:8080/metrics" |
    awk -v codes="^($1)\$" '/^traefik_entrypoint_requests_total\{/ && /entrypoint="web"/ {
        if (match($0, /code="[0-9]+"/) && substr($0, RSTART + 6, RLENGTH - 7) ~ codes) s += $NF }
      END { printf "%d\n", s }'
}

flow_ingress() {
  step "requests through the Ingress (Traefik, ingress-nginx provider) and the Gateway (Traefik, Gateway API provider)"
  local ing_svc gw_svc
  ing_svc=$(kc -n traefik get svc traefik-ingress -o jsonpath='{.spec.clusterIP}')
  gw_svc=$(kc -n traefik get svc traefik-gateway -o jsonpath='{.spec.clusterIP}')
  log "the chart's Ingress, as rendered: $(kc -n "$E2E_NS" get ingress "$E2E_RELEASE" \
    -o jsonpath='class {.spec.ingressClassName}, host "{.spec.rules[0].host}", path {.spec.rules[0].http.paths[0].path}, annotations {.metadata.annotations}')"
  # As `kubectl get ingress` shows users: the controller publishes its address.
  wait_until 60 "the Ingress's status address" has_output ingress_address
  E2E_INGRESS_IP=$(ingress_address)
  check "Traefik publishes its Service's address ($ing_svc) in the Ingress's status" [ "$E2E_INGRESS_IP" = "$ing_svc" ]
  # The chart's default rule has no host (any Host header); a named one is used when set.
  E2E_INGRESS_HOST=$(kc -n "$E2E_NS" get ingress "$E2E_RELEASE" -o jsonpath='{.spec.rules[0].host}')
  E2E_INGRESS_HOST=${E2E_INGRESS_HOST:-scalecache.test}
  wait_until 30 "the Ingress routes /healthz" serves "http://$E2E_INGRESS_IP" "$E2E_INGRESS_HOST"
  check_miss_then_hit "through the Ingress (Host $E2E_INGRESS_HOST)" "http://$E2E_INGRESS_IP" -H "Host: $E2E_INGRESS_HOST"

  check "the HTTPRoute is accepted by the Gateway and its backend resolved" \
    wait_until 60 "the HTTPRoute accepted" route_accepted
  E2E_GATEWAY_IP=$(gateway_address)
  E2E_GATEWAY_HOST=$(kc -n "$E2E_NS" get httproute "$E2E_RELEASE" -o jsonpath='{.spec.hostnames[0]}')
  # (Traefik's Gateway provider publishes a given address, or a LoadBalancer
  # Service's: it is given traefik-gateway's fixed cluster IP.)
  check "the Gateway's status address is traefik-gateway's Service ($gw_svc)" [ "$E2E_GATEWAY_IP" = "$gw_svc" ]
  wait_until 30 "the Gateway routes /healthz" serves "http://$E2E_GATEWAY_IP" "$E2E_GATEWAY_HOST"
  check_miss_then_hit "through the Gateway (Host $E2E_GATEWAY_HOST)" "http://$E2E_GATEWAY_IP" -H "Host: $E2E_GATEWAY_HOST"
  # The route lists one host name: the Gateway must not route any other.
  check "the Gateway answers 404 for a Host the HTTPRoute does not list" \
    [ "$(get -o /dev/null -w '%{http_code}' -H 'Host: other.scalecache.test' "http://$E2E_GATEWAY_IP/data/e2e-other")" = 404 ]
}

ready_is() { [ "$(ready_count)" = "$1" ]; }

flow_scale() {
  step "kubectl scale to 3 (HPA turned off first, as docs/kubernetes.md says for manual control)"
  local start ip name pip n total=0 serving=0
  helm_ upgrade "$E2E_RELEASE" "$E2E_CHART" --namespace "$E2E_NS" --reuse-values \
    --set autoscaling.enabled=false --set replicaCount=2 --wait --timeout 3m >/dev/null 2>&1
  check "helm upgrade --set autoscaling.enabled=false: Deployment has replicas 2, no HPA" \
    sh -c "[ '$(deploy_replicas)' = 2 ] && [ -z '$(hpa_field '{.metadata.name}')' ]"
  start=$(date +%s)
  kc -n "$E2E_NS" scale "deployment/$E2E_RELEASE" --replicas=3 >&2
  wait_until 120 "3 Ready pods" ready_is 3 &&
    record "kubectl scale 2 -> 3: third pod Ready after" "$(( $(date +%s) - start )) s"
  check "3 Ready pods after kubectl scale --replicas=3" ready_is 3
  # Requests on fresh and kept-alive connections through the Service for 8 s,
  # then each pod's own /metrics (pod IP, port 8080).
  ip=$(svc_ip)
  innetns /usr/bin/python3 "$E2E_DIR/load.py" --host "$ip" --seconds 8 --rate 0 --workers 6 --keys 50 \
    --prefill >"$E2E_STATE/scale-load.json" 2>&1
  log "load through the Service: $(tr -d '\n ' <"$E2E_STATE/scale-load.json" | grep -o '"requests":[0-9]*,\|"failed":[0-9]*,' | tr -d '\n')"
  while read -r name pip; do
    n=$(data_requests "$pip")
    log "pod $name ($pip): scalecache_http_requests_total{route=\"data\"} = $n"
    total=$((total + n)); [ "${n:-0}" -gt 0 ] && serving=$((serving + 1))
  done < <(pod_ips)
  record "pods serving after scale to 3" "$serving of 3 (data requests counted by the pods: $total)"
  check "all 3 pods serve (each pod's /metrics counts data requests)" [ "$serving" = 3 ]
}

hpa_has_metrics() { [ -n "$(hpa_field '{.status.currentMetrics[0].resource.current.averageUtilization}')" ]; }
hpa_at() { [ "$(hpa_field '{.status.desiredReplicas}')" = "$1" ] && [ "$(deploy_replicas)" = "$1" ] && ready_is "$1" && ! terminating_pods; }
# hpa_steady_at N: hpa_at N has held at every poll for 15 s (three HPA sync
# periods). hpa_at reads four things one after the other, so in the middle of
# a scale-in (3 -> 2 right after 4 -> 3) it can hold for one poll; measured:
# the "load starts from 2" check then failed 4 s later.
E2E_STEADY_SINCE=""
hpa_steady_at() {
  if ! hpa_at "$1"; then E2E_STEADY_SINCE=""; return 1; fi
  E2E_STEADY_SINCE=${E2E_STEADY_SINCE:-$(date +%s)}
  [ $(( $(date +%s) - E2E_STEADY_SINCE )) -ge 15 ]
}
terminating_pods() {
  kc -n "$E2E_NS" get pods -l "$E2E_SEL" -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{"\n"}{end}' | grep -q .
}
hpa_line() {
  printf 'cpu %s%% of request (target %s%%), HPA desired %s, Deployment %s, Ready %s' \
    "$(hpa_field '{.status.currentMetrics[0].resource.current.averageUtilization}')" \
    "$(hpa_field '{.spec.metrics[0].resource.target.averageUtilization}')" \
    "$(hpa_field '{.status.desiredReplicas}')" "$(deploy_replicas)" "$(ready_count)"
}

flow_hpa() {
  step "HorizontalPodAutoscaler under load through the Ingress (metrics-server -> HPA -> Deployment)"
  local start ip wrkpid t_load t_first="" t_max="" t_stop t_in="" max target peak=0 u d
  helm_ upgrade "$E2E_RELEASE" "$E2E_CHART" --namespace "$E2E_NS" --reuse-values \
    --set autoscaling.enabled=true --wait --timeout 3m >/dev/null 2>&1
  check "helm upgrade --set autoscaling.enabled=true: HPA exists" hpa_has_name
  record "Deployment replicas right after re-enabling the HPA" "$(deploy_replicas)"
  max=$(hpa_field '{.spec.maxReplicas}')
  target=$(hpa_field '{.spec.metrics[0].resource.target.averageUtilization}')
  start=$(date +%s)
  # The step before leaves 3 replicas: without the settled minimum, "scaled out"
  # below could hold before any load. Either wait timing out ends the step.
  check "HPA reads CPU from the metrics API (within 180 s)" \
    wait_until 180 "HPA reads CPU from the metrics API" hpa_has_metrics || return 1
  record "HPA first CPU reading after re-enable" "$(( $(date +%s) - start )) s"
  E2E_STEADY_SINCE=""
  check "HPA settles at minReplicas 2 while idle, steady for 15 s (within 240 s)" \
    wait_until 240 "HPA settles at minReplicas 2 while idle" hpa_steady_at 2 || { log "$(hpa_line)"; return 1; }
  record "HPA idle at minReplicas 2 after re-enable" "$(( $(date +%s) - start )) s"
  log "idle: $(hpa_line)"
  kc top pods -n "$E2E_NS" >&2

  # Through the Ingress, as users' traffic comes.
  ip=$E2E_INGRESS_IP
  # Fill the 50 keys first (each miss waits 2 s for the simulated origin), so
  # the load is all cache hits from its first second.
  local k fills=()
  for k in $(seq 0 49); do get -o /dev/null -H "Host: $E2E_INGRESS_HOST" "http://$ip/data/e2e-hpa-$k" & fills+=($!); done
  wait "${fills[@]}"   # (a bare `wait` would wait for the node's processes too)
  check "the load starts from minReplicas 2 ($(hpa_line))" hpa_at 2 ||
    { kc -n "$E2E_NS" get pods -l "$E2E_SEL" -o wide >&2; return 1; }
  log "load: wrk -t2 -c32 -d${E2E_HPA_LOAD_SECONDS}s (keep-alive, every 20th request closes) on http://$ip/ (the Ingress, Host $E2E_INGRESS_HOST)"
  innetns wrk -t2 -c32 -d"${E2E_HPA_LOAD_SECONDS}s" --timeout 10s -H "Host: $E2E_INGRESS_HOST" \
    -s "$E2E_DIR/hpa-load.lua" "http://$ip/" >"$E2E_STATE/wrk-hpa.log" 2>&1 &
  wrkpid=$!
  t_load=$(date +%s)
  while kill -0 "$wrkpid" 2>/dev/null; do
    u=$(hpa_field '{.status.currentMetrics[0].resource.current.averageUtilization}')
    d=$(hpa_field '{.status.desiredReplicas}')
    [ "${u:-0}" -gt "$peak" ] && peak=${u:-0}
    [ -z "$t_first" ] && [ "${d:-2}" -gt 2 ] && t_first=$(( $(date +%s) - t_load ))
    [ -z "$t_max" ] && [ "$(ready_count)" = "$max" ] && t_max=$(( $(date +%s) - t_load ))
    log "load +$(( $(date +%s) - t_load ))s: $(hpa_line)"
    sleep 3
  done
  wait "$wrkpid"
  t_stop=$(date +%s)
  sed 's/^/  | /' "$E2E_STATE/wrk-hpa.log" >&2
  record "HPA load" "$(grep -E 'Requests/sec' "$E2E_STATE/wrk-hpa.log" | awk '{print $2}') req/s for $(( t_stop - t_load )) s; peak CPU ${peak}% of request; wrk errors: $(grep -E 'Socket errors|Non-2xx' "$E2E_STATE/wrk-hpa.log" | tr -s ' ' | tr '\n' ' ' || true)"
  record "HPA first scale-out decision after load start" "${t_first:-never} s"
  record "HPA all $max pods Ready after load start" "${t_max:-never} s"
  check "HPA observed CPU above its target under load (peak ${peak}%, target ${target}%)" \
    [ "$peak" -gt "${target:?HPA target not read}" ]
  check "HPA scaled out under load (desired > 2)" [ -n "$t_first" ]
  check "HPA reached maxReplicas ($max Ready pods) under load" [ -n "$t_max" ]
  kc -n "$E2E_NS" describe hpa "$E2E_RELEASE" | sed -n '/^Events:/,$p' >&2

  while [ $(( $(date +%s) - t_stop )) -lt 300 ]; do
    if hpa_at 2; then t_in=$(( $(date +%s) - t_stop )); break; fi
    log "after load +$(( $(date +%s) - t_stop ))s: $(hpa_line)"
    sleep 2
  done
  record "HPA back to 2 Ready pods after load stop" "${t_in:-never} s (scale-down stabilization 30 s)"
  check "HPA scaled back in to minReplicas 2 after the load stopped" [ -n "$t_in" ]
}
hpa_has_name() { [ -n "$(hpa_field '{.metadata.name}')" ]; }

flow_rollout() {
  step "kubectl rollout restart under load through the Ingress (zero failed requests expected)"
  local lp stopf="$E2E_STATE/rollout.stop" out="$E2E_STATE/rollout-load.json" start summary failed total
  local rate=200 seconds prefilled counted0 counted ok0 ok
  local -a old
  read -r -a old < <(kc -n "$E2E_NS" get pods -l "$E2E_SEL" -o jsonpath='{.items[*].metadata.name}')
  # Traefik's own count of the requests it served, before and after: the
  # client's requests must all have gone through the Ingress, each once.
  counted0=$(traefik_web_requests '[0-9]+'); ok0=$(traefik_web_requests 200)
  # 200 req/s over 100 keys (filled first), half on kept-alive connections,
  # half on a new connection each; the restart begins 5 s into the run.
  rm -f "$stopf" "$stopf.started"
  innetns /usr/bin/python3 "$E2E_DIR/load.py" --host "$E2E_INGRESS_IP" --host-header "$E2E_INGRESS_HOST" \
    --seconds 400 --rate "$rate" --workers 8 --keys 100 \
    --prefill --stop-file "$stopf" --started-file "$stopf.started" --out "$out" \
    >/dev/null 2>"$E2E_STATE/rollout-load.err" &
  lp=$!
  wait_until 120 "the load client's warm-up" test -f "$stopf.started"
  sleep 5
  start=$(date +%s)
  kc -n "$E2E_NS" rollout restart "deployment/$E2E_RELEASE" >&2
  kc -n "$E2E_NS" rollout status "deployment/$E2E_RELEASE" --timeout=300s >&2
  record "rollout restart: rollout status done after" "$(( $(date +%s) - start )) s"
  wait_until 120 "the old pods are gone" old_pods_gone "${old[@]}" &&
    record "rollout restart: last old pod gone after" "$(( $(date +%s) - start )) s"
  sleep 3
  touch "$stopf"; wait "$lp"
  counted=$(( $(traefik_web_requests '[0-9]+') - counted0 )); ok=$(( $(traefik_web_requests 200) - ok0 ))
  summary=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["requests"], s["failed"], s["seconds"], s["req_per_s"], s["latency_ms"]["p99"], s["latency_ms"]["max"], s["keepalive_reconnects_on_close"], s["prefill_requests"], json.dumps(s["failures_by_kind"]))' "$out" 2>/dev/null)
  read -r total failed seconds rps p99 maxl reconn prefilled kinds <<<"$summary"
  record "rollout under load: requests" "${total:-?} (${rps:-?} req/s, half keep-alive, half new connections)"
  record "rollout under load: failed requests" "${failed:-?} ${kinds:-}"
  record "rollout under load: latency" "p99 ${p99:-?} ms, max ${maxl:-?} ms; keep-alive reconnects on Connection: close: ${reconn:-?}"
  [ "${failed:-1}" = 0 ] || sed 's/^/  | /' "$out" >&2
  check "rollout restart under load: zero failed requests" [ "${failed:-1}" = 0 ]
  # "0 failed" holds for a client that sent nothing too: the load must have kept
  # (nearly) its pace through the restart (measured: 4,776-5,096 requests in about 25 s).
  check "rollout restart under load: ${total:-?} requests in ${seconds:-?} s, at least 80 % of $rate/s" \
    awk -v n="${total:-0}" -v s="${seconds:-0}" -v r="$rate" 'BEGIN { exit !(s > 0 && n >= 0.8 * r * s) }'
  record "rollout under load: requests Traefik counted on the Ingress's entry point" "$counted ($ok answered 200; the client sent ${prefilled:-?} to fill the keys, then ${total:-?})"
  check "rollout restart under load: Traefik served exactly the client's $(( ${prefilled:-0} + ${total:-0} )) requests (${prefilled:-?} fills + ${total:-?}), all 200" \
    [ "$counted" = "$(( ${prefilled:-0} + ${total:-0} ))" ] && [ "$ok" = "$counted" ] && [ "${total:-0}" -gt 0 ]
  check "rollout restart: every pod replaced" old_pods_gone "${old[@]}"
}
old_pods_gone() {
  local p
  for p in "$@"; do kc -n "$E2E_NS" get pod "$p" >/dev/null 2>&1 && return 1; done
  return 0
}

# ---- the worker tier ---------------------------------------------------------------
# The chart's CPU HPA fallback, not KEDA: KEDA cannot be built here within the
# CI budget (docs/kubernetes-e2e.md, "The worker tier"). A backlog of jobs
# costs CPU because the simulated origin burns its delay (tests/e2e/worker-values.yaml).
E2E_WORKER="$E2E_RELEASE-worker"
E2E_WORKER_SEL="app.kubernetes.io/instance=$E2E_RELEASE,app.kubernetes.io/component=worker"
E2E_BACKLOG_KEYS=90
worker_hpa() { kc -n "$E2E_NS" get hpa "$E2E_WORKER" -o jsonpath="$1" 2>/dev/null; }
worker_deploy() { kc -n "$E2E_NS" get deploy "$E2E_WORKER" -o jsonpath="$1" 2>/dev/null; }
worker_line() {
  printf 'cpu %s%% of request (target %s%%), HPA desired %s, Deployment %s, Ready %s' \
    "$(worker_hpa '{.status.currentMetrics[0].resource.current.averageUtilization}')" \
    "$(worker_hpa '{.spec.metrics[0].resource.target.averageUtilization}')" \
    "$(worker_hpa '{.status.desiredReplicas}')" "$(worker_deploy '{.spec.replicas}')" \
    "$(worker_deploy '{.status.readyReplicas}')"
}
# Each poll of a wait below also keeps the highest worker count and CPU seen.
E2E_WORKER_PEAK=0 E2E_WORKER_PEAK_CPU=0
worker_track() {
  local n u
  n=$(worker_deploy '{.spec.replicas}'); u=$(worker_hpa '{.status.currentMetrics[0].resource.current.averageUtilization}')
  [ "${n:-0}" -gt "$E2E_WORKER_PEAK" ] && E2E_WORKER_PEAK=$n
  [ "${u:-0}" -gt "$E2E_WORKER_PEAK_CPU" ] && E2E_WORKER_PEAK_CPU=$u
  log "workers: $(worker_line)"
}
worker_has_metrics() { [ -n "$(worker_hpa '{.status.currentMetrics[0].resource.current.averageUtilization}')" ]; }
worker_terminating() {
  kc -n "$E2E_NS" get pods -l "$E2E_WORKER_SEL" -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{"\n"}{end}' | grep -q .
}
# worker_at N: HPA, Deployment and Ready pods all at N, none terminating.
worker_at() {
  worker_track
  [ "$(worker_hpa '{.status.desiredReplicas}')" = "$1" ] && [ "$(worker_deploy '{.spec.replicas}')" = "$1" ] &&
    [ "$(worker_deploy '{.status.readyReplicas}')" = "$1" ] && ! worker_terminating
}
worker_idle_at() { worker_has_metrics && worker_at "$1"; }
worker_above() { worker_track; [ "$(worker_deploy '{.spec.replicas}')" -gt "$1" ]; }
backlog() { innetns /usr/bin/python3 "$E2E_DIR/backlog.py" "$1" --host "$(svc_ip)" --keys "$E2E_BACKLOG_KEYS" --prefix "$2"; }
backlog_answered() { worker_track; backlog answered "$1"; }

flow_worker() {
  step "worker tier: the worker Deployment scales out on a backlog of jobs and back in (CPU HPA fallback)"
  local start rc min max target t0 prefix pushed t_out="" t_drained=""
  start=$(date +%s)
  prefix="e2e-backlog-$start-"
  helm_ upgrade "$E2E_RELEASE" "$E2E_CHART" --namespace "$E2E_NS" --reuse-values \
    -f "$E2E_DIR/worker-values.yaml" --wait --timeout 4m >"$E2E_STATE/helm-worker.log" 2>&1
  rc=$?
  sed 's/^/  | /' "$E2E_STATE/helm-worker.log" | head -20 >&2
  check "helm upgrade -f tests/e2e/worker-values.yaml (worker.enabled, origin kind queue) succeeds" [ "$rc" = 0 ] ||
    { kc -n "$E2E_NS" get pods -o wide >&2; return 1; }
  record "worker tier: helm upgrade --wait" "$(( $(date +%s) - start )) s"
  min=$(worker_hpa '{.spec.minReplicas}'); max=$(worker_hpa '{.spec.maxReplicas}')
  target=$(worker_hpa '{.spec.metrics[0].resource.target.averageUtilization}')
  check "the worker HPA exists, minReplicas $min < maxReplicas $max" [ "${min:-0}" -lt "${max:-0}" ] || return 1
  # The clock of the scale-out starts with the HPA reading the workers' CPU
  # and holding them at the minimum: before that it could not react at all.
  check "worker HPA reads the workers' CPU and holds minReplicas $min (within 180 s)" \
    wait_until 180 "worker HPA at minReplicas with a CPU reading" worker_idle_at "$min" || { log "$(worker_line)"; return 1; }
  E2E_WORKER_PEAK=0 E2E_WORKER_PEAK_CPU=0
  t0=$(date +%s)
  pushed=$(backlog push "$prefix")
  rc=$?
  record "worker tier: backlog pushed through the Service" "$E2E_BACKLOG_KEYS cold keys (Prefer: respond-async) in $(( $(date +%s) - t0 )) s, answers $pushed"
  check "every backlog request answered at once, 202 or 200 ($pushed)" [ "$rc" = 0 ] || return 1
  check "the worker Deployment scales out above minReplicas $min on the backlog (within 120 s)" \
    wait_until 120 "workers above minReplicas" worker_above "$min" &&
    t_out=$(( $(date +%s) - t0 ))
  record "worker tier: scale-out above $min workers after the backlog started" "${t_out:-never} s"
  check "the backlog drains: all $E2E_BACKLOG_KEYS keys answer 200 from the cache (within 240 s)" \
    wait_until 240 "every backlog key cached" backlog_answered "$prefix" &&
    t_drained=$(( $(date +%s) - t0 ))
  record "worker tier: backlog drained after" "${t_drained:-never} s"
  record "worker tier: peak workers, peak CPU" "$E2E_WORKER_PEAK of max $max, ${E2E_WORKER_PEAK_CPU}% of the request (target ${target}%)"
  check "the workers' CPU rose above the HPA target under the backlog (peak ${E2E_WORKER_PEAK_CPU}%, target ${target}%)" \
    [ "$E2E_WORKER_PEAK_CPU" -gt "${target:-100}" ]
  t0=$(date +%s)
  check "the workers settle back at minReplicas $min after the backlog (within 180 s)" \
    wait_until 180 "workers back at minReplicas" worker_at "$min" &&
    record "worker tier: back to $min worker(s) after the drain" "$(( $(date +%s) - t0 )) s (scale-down stabilization 15 s)"
  kc -n "$E2E_NS" describe hpa "$E2E_WORKER" | sed -n '/^Events:/,$p' >&2
  return 0
}

namespace_leftovers() {
  kc -n "$E2E_NS" get all,pvc,configmap,secret,ingress,httproute,hpa,pdb,networkpolicy,serviceaccount,role,rolebinding,endpointslices \
    -o name 2>/dev/null | grep -v -e '^configmap/kube-root-ca.crt$' -e '^serviceaccount/default$'
}
ns_empty() { [ -z "$(namespace_leftovers)" ]; }
no_pods() { [ -z "$(kc -n "$E2E_NS" get pods -o name 2>/dev/null)" ]; }

flow_uninstall() {
  step "helm uninstall"
  local start left
  start=$(date +%s)
  helm_ uninstall "$E2E_RELEASE" --namespace "$E2E_NS" --wait --timeout 3m >&2
  wait_until 120 "no pods left in namespace $E2E_NS" no_pods
  record "helm uninstall: namespace empty after" "$(( $(date +%s) - start )) s"
  wait_until 30 "no objects left" ns_empty
  left=$(namespace_leftovers)
  [ -n "$left" ] && log "left in namespace $E2E_NS: ${left//$'\n'/ }"
  check "helm uninstall leaves nothing (no pods, services, PVCs, config, secrets, Ingress, HTTPRoute, HPA, PDB, policies)" [ -z "$left" ]
}

# SCALECACHE_E2E_STEPS: the steps run between install and uninstall, in order
# (default all of them); fewer when working on one step.
E2E_STEPS=${SCALECACHE_E2E_STEPS:-helm_test service ingress scale hpa rollout worker}

flow_all() {
  local s
  # SCALECACHE_E2E_ONLY=redis-cluster: only the Redis Cluster phase (flow_cluster.sh).
  if [ "${SCALECACHE_E2E_ONLY:-}" = redis-cluster ]; then flow_redis_cluster; return 0; fi
  flow_install || return 1
  for s in $E2E_STEPS; do
    case $s in
      helm_test | service | ingress | scale | hpa | rollout | worker) "flow_$s" ;;
      *) fail "unknown step in SCALECACHE_E2E_STEPS: $s" ;;
    esac
  done
  flow_uninstall
  flow_redis_cluster
  return 0   # failed checks are counted; only a failed install aborts the flow
}
