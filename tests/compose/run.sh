#!/usr/bin/env bash
# Compose stack test (make test-compose).
#
# Runs compose.yaml with Debian's docker-compose 1.29. Public images cannot be
# pulled here, so redis, nginx and prometheus are local stand-ins built from
# the bootstrapped Debian base (Debian's redis-server, nginx and prometheus),
# tagged exactly as compose.yaml names them; an image of that name that is not
# a stand-in is used as it is. Grafana has no Debian package: its service is
# validated but not started. The test client talks only to the stack's ports
# published on 127.0.0.1. Checks:
#   - compose.yaml valid for docker-compose 1.29 and for Compose v2 (compose-go,
#     when Go is available), nginx -t, promtool check config;
#   - requests through NGINX reach all 3 replicas (per-replica metrics, Prometheus);
#   - the replicas call a test origin (tests/compose/origin.yaml) that counts its
#     calls: one per key during the warm-up, none after it (hit ratio 1 by the
#     origin's count, not by the service's own `source` field);
#   - purges through NGINX need compose.yaml's admin token (401 without, 200 with);
#   - stopping one replica under load fails no client request;
#   - scaling to 4 replicas: NGINX and Prometheus pick the new one up;
#   - the worker tier: the replicas switched to queueing misses and
#     `--scale worker=3`: 3 workers scraped, every request answered, one
#     origin call and one job per key;
#   - deploy/compose/redis-cluster.yaml: a 6-node Redis Cluster made by its
#     one-shot container, the replicas in mode cluster: one origin call per
#     key, then L2 hits across replicas (the sentinel override is validated);
#   - deploy/compose/redis-tls.yaml: redis-server with only a TLS port, the
#     certificates made by its one-shot container, the replicas speaking TLS
#     themselves: a miss then an L2 hit on another replica, redis_up 1 on
#     each; the replicas given another CA: redis_up 0, the verification error
#     in their logs, no crash; everything torn down, volumes included.
# Tears everything down (containers, network, volumes) on exit.
# check_eval takes single-quoted expressions on purpose.
# shellcheck disable=SC2016
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
# shellcheck source=scripts/docker-testlib.sh
. scripts/docker-testlib.sh

here=tests/compose
project="scalecache-compose-test-$$"
client=(python3 "$here/client.py")
yaml_python=/usr/bin/python3    # Debian's python3-yaml (a docker-compose dependency)
keys=20                         # the small key set
drain=2 grace=5                 # SCALECACHE_SHUTDOWN_{DRAIN,GRACE}_SECONDS for the replicas
work=$(mktemp -d)

# dc_product: compose.yaml alone (the static checks); dc: the stack the test
# runs, compose.yaml plus the counting test origin.
dc_product() { docker-compose -p "$project" -f compose.yaml "$@"; }
dc() { docker-compose -p "$project" -f compose.yaml -f "$here/origin.yaml" "$@"; }
origin_image=scalecache-test-origin:1

# The TLS overlay only adds to the stack: down with it removes its volumes too.
dct() { dc -f deploy/compose/redis-tls.yaml "$@"; }

cleanup() {
  if [ -n "${stack_up:-}" ]; then
    dct down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 \
      || dc down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  docker_env_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

abort() { fail "$*"; checks_summary compose; exit 1; }

# json_get FILE FIELD: a top-level field of a JSON file (nested with dots).
json_get() {
  python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k, {}) if isinstance(v, dict) else {}
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"
}

# --- tools, engine, static checks -------------------------------------------
docker_env_install docker-compose python3-yaml curl || abort "install test packages"
docker_env_up || abort "dockerd running"
pass "dockerd answers; $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"

check "compose.yaml valid for docker-compose 1.29 (docker-compose config)" \
  dc_product config -q
for f in deploy/compose/redis-cluster.yaml deploy/compose/redis-sentinel.yaml deploy/compose/redis-tls.yaml; do
  check "compose.yaml + $f valid for docker-compose 1.29" dc_product -f "$f" config -q
done

# service -> image, as docker-compose resolves them (the single source of the names).
dc_product config >"$work/resolved.yaml" || abort "docker-compose config"
images=$("$yaml_python" -c 'import sys, yaml
for name, s in sorted(yaml.safe_load(open(sys.argv[1]))["services"].items()):
    print(name, s["image"])' "$work/resolved.yaml")
image_of() { awk -v s="$1" '$1 == s { print $2 }' <<<"$images"; }
check_eval "no image in compose.yaml is unpinned or :latest" \
  '! awk "{ print \$2 }" <<<"$images" | grep -Eq ":latest$|^[^:]+$"'
expected=$(make --no-print-directory -s image-name)
check_eval "compose's scalecache image $(image_of scalecache) = make image-name ($expected)" \
  '[ "$(image_of scalecache)" = "$expected" ]'
# shellcheck disable=SC2034 # used in check_eval
published=$("$yaml_python" -c 'import sys, yaml
for s in yaml.safe_load(open(sys.argv[1]))["services"].values():
    for p in s.get("ports", []):
        print(p if isinstance(p, str) else p.get("host_ip", "0.0.0.0"))' "$work/resolved.yaml")
check_eval "every published port binds 127.0.0.1 only" \
  '[ -n "$published" ] && ! grep -v "^127\.0\.0\.1:" <<<"$published" | grep -q .'

dct config >"$work/resolved-tls.yaml" || abort "docker-compose config with deploy/compose/redis-tls.yaml"
tls_certs_image=$("$yaml_python" -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["services"]["redis-tls-certs"]["image"])' "$work/resolved-tls.yaml")

# The Compose v2 check is required: no Go, or a validator that does not build,
# fails the suite (the chart suite needs the same Go toolchain).
command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  fail "Compose v2 validation: no Go toolchain (go, or /usr/local/go/bin/go)"
elif ! (cd "$here/composev2" && go build -o "$work/composev2" . >"$work/go.log" 2>&1); then
  tail -n 20 "$work/go.log"
  fail "Compose v2 validation: go build of $here/composev2 failed"
elif "$work/composev2" compose.yaml >"$work/v2.txt" 2>&1; then
  pass "compose.yaml valid for Compose v2 (compose-go $(sed -n 's/^require github.com\/compose-spec\/compose-go\/v2 //p' "$here/composev2/go.mod"))"
  check_eval "Compose v2 reads 3 scalecache replicas" \
    'grep -q "^scalecache .* 3$" "$work/v2.txt"'
  check_quiet "compose.yaml + deploy/compose/redis-tls.yaml valid for Compose v2" \
    "$work/composev2" compose.yaml deploy/compose/redis-tls.yaml
else
  cat "$work/v2.txt"
  fail "compose.yaml valid for Compose v2"
fi

check "Grafana dashboard dashboards/scalecache.json is valid JSON" \
  python3 -c 'import json, sys; json.load(open(sys.argv[1]))' dashboards/scalecache.json
check "Grafana provisioning files parse" "$yaml_python" -c 'import sys, yaml
for f in sys.argv[1:]:
    d = yaml.safe_load(open(f))
    assert d["apiVersion"] == 1 and (d.get("datasources") or d.get("providers")), f' \
  deploy/compose/grafana/provisioning/*/*.yaml

check "Grafana mounts the provisioned dashboard where the provider and the home page look" \
  "$yaml_python" -c 'import os, sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"]["grafana"]
mounts = {}
for v in svc["volumes"]:
    src, dst = v.split(":")[:2] if isinstance(v, str) else (v["source"], v["target"])
    mounts[dst] = src
path = yaml.safe_load(open(sys.argv[2]))["providers"][0]["options"]["path"]
home = svc["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
assert os.path.dirname(home) == path, (home, path)
assert os.path.isfile(os.path.join(mounts[path], os.path.basename(home))), mounts
assert mounts["/etc/grafana/provisioning"].endswith("deploy/compose/grafana/provisioning")' \
  "$work/resolved.yaml" deploy/compose/grafana/provisioning/dashboards/scalecache.yaml

# --- images: scalecache, then stand-ins -------------------------------------
t=$(date +%s.%N)
scripts/make-base-image.sh || abort "base image"
if [ "${SCALECACHE_TEST_REUSE_IMAGE:-0}" = 1 ] && docker image inspect "$(image_of scalecache)" >/dev/null 2>&1; then
  checks_log "SCALECACHE_TEST_REUSE_IMAGE=1: using the existing $(image_of scalecache) without rebuilding"
else
  log=$work/image.log
  make --no-print-directory image >"$log" 2>&1 || { tail -n 30 "$log"; abort "make image"; }
fi
pass "scalecache image $(image_of scalecache) ready ($(checks_elapsed "$t") s)"

for svc in redis nginx prometheus; do
  img=$(image_of "$svc")
  label=$(docker image inspect -f '{{index .Config.Labels "io.scalecache.standin"}}' "$img" 2>/dev/null)
  if docker image inspect "$img" >/dev/null 2>&1 && [ "$label" != true ]; then
    pass "$svc: using the existing image $img (not a stand-in)"
    continue
  fi
  t=$(date +%s.%N)
  if docker build -q --network host -t "$img" -f "$here/standins/$svc.Dockerfile" "$here/standins" \
       >"$work/standin-$svc.log" 2>&1; then
    pass "$svc: stand-in $img built from Debian packages ($(checks_elapsed "$t") s)"
  else
    tail -n 20 "$work/standin-$svc.log"
    abort "$svc: stand-in $img"
  fi
done
t=$(date +%s.%N)
if docker build -q --network host -t "$origin_image" -f "$here/standins/origin.Dockerfile" tests/lib \
     >"$work/standin-origin.log" 2>&1; then
  pass "test origin $origin_image built from tests/lib/origin_server.py ($(checks_elapsed "$t") s)"
else
  tail -n 20 "$work/standin-origin.log"
  abort "test origin $origin_image"
fi
t=$(date +%s.%N)
if make --no-print-directory image-tls-certs TLS_CERTS_IMAGE="$tls_certs_image" >"$work/image-tls-certs.log" 2>&1; then
  pass "certificate maker image $tls_certs_image built (make image-tls-certs, $(checks_elapsed "$t") s)"
else
  tail -n 20 "$work/image-tls-certs.log"
  abort "make image-tls-certs"
fi
checks_log "skip - grafana: no registry and no Debian package for $(image_of grafana); its service is validated above but not started"

check "nginx -t accepts deploy/nginx/scalecache.conf ($(image_of nginx))" \
  docker run --rm --network none --add-host scalecache:127.0.0.1 \
    -v "$root/deploy/nginx/scalecache.conf:/etc/nginx/conf.d/default.conf:ro" \
    "$(image_of nginx)" nginx -t -q
check "promtool check config: deploy/compose/prometheus.yml and the rules it loads" \
  docker run --rm --network none --entrypoint promtool \
    -v "$root/deploy/compose/prometheus.yml:/etc/prometheus/prometheus.yml:ro" \
    -v "$root/deploy/prometheus:/etc/prometheus/scalecache:ro" \
    "$(image_of prometheus)" check config /etc/prometheus/prometheus.yml

# --- the stack ---------------------------------------------------------------
LB_HTTP_PORT=$(tl_free_port)
PROMETHEUS_PORT=$(tl_free_port)
GRAFANA_PORT=$(tl_free_port)
ORIGIN_PORT=$(tl_free_port)
export LB_HTTP_PORT PROMETHEUS_PORT GRAFANA_PORT ORIGIN_PORT
export SCALECACHE_SHUTDOWN_DRAIN_SECONDS=$drain SCALECACHE_SHUTDOWN_GRACE_SECONDS=$grace
lb="http://127.0.0.1:$LB_HTTP_PORT"
prom="http://127.0.0.1:$PROMETHEUS_PORT"
origin="http://127.0.0.1:$ORIGIN_PORT"

t=$(date +%s.%N)
stack_up=1
if ! dc up -d --no-build redis origin scalecache nginx prometheus >"$work/up.log" 2>&1; then
  cat "$work/up.log"
  abort "docker-compose up"
fi
replicas=$(dc ps -q scalecache | wc -l)
check "docker-compose up: $replicas scalecache replicas (deploy.replicas: 3)" [ "$replicas" -eq 3 ]
check "NGINX answers on 127.0.0.1:$LB_HTTP_PORT" tl_wait_http "$lb/lb-health" 200 30
check "a replica is ready through NGINX (/readyz)" tl_wait_http "$lb/readyz" 200 30
targets_are() { [ "$("${client[@]}" targets "$prom" scalecache 2>/dev/null)" = "$1" ]; }
check "Prometheus scrapes 3 healthy scalecache targets (DNS discovery)" tl_until 60 targets_are 3
healthy_replicas() {
  local n=0 id
  for id in $(dc ps -q scalecache); do
    [ "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")" = healthy ] && n=$((n + 1))
  done
  [ "$n" -eq "$1" ]
}
check "docker reports 3 healthy replicas (the image's HEALTHCHECK: scalecache --probe)" tl_until 60 healthy_replicas 3
up_s=$(checks_elapsed "$t")
checks_log "stack up in $up_s s"
check "NGINX does not serve a random replica's /metrics" \
  eval 'tl_http "$lb/metrics"; [ "$TL_CODE" = 404 ]'

# --- warm-up, then hit ratio by the origin's own count -----------------------
origin_calls() { "${client[@]}" calls "$origin" --prefix compose-key-; }
calls_before=$(origin_calls) || abort "the test origin answers /_calls on $origin"
"${client[@]}" load "$lb" --keys "$keys" --requests $((keys * 3)) --concurrency 4 >"$work/warm.json"
check_eval "warm-up: $(json_get "$work/warm.json" requests) requests over $keys keys, $(json_get "$work/warm.json" failed) failed" \
  '[ "$(json_get "$work/warm.json" failed)" = 0 ]'
warm_calls=$(( $(origin_calls) - calls_before ))
check_eval "warm-up: the origin counted one call per key ($warm_calls calls for $keys keys over 3 replicas)" \
  '[ "$warm_calls" -eq "$keys" ]'
"${client[@]}" load "$lb" --keys "$keys" --requests 1200 --concurrency 8 >"$work/measure.json"
measure_calls=$(( $(origin_calls) - calls_before - warm_calls ))
measure_ok=$(json_get "$work/measure.json" ok)
hit_ratio=$(awk -v c="$measure_calls" -v n="$measure_ok" 'BEGIN { printf "%.4f", (n > 0 ? 1 - c / n : 0) }')
checks_log "measured: $(cat "$work/measure.json")"
check_eval "hit ratio after warm-up by the origin's count: $hit_ratio ($measure_calls origin calls for $measure_ok answers; the answers' own sources $(json_get "$work/measure.json" sources))" \
  '[ "$measure_calls" -eq 0 ] && [ "$measure_ok" -eq 1200 ]'
check_eval "no failed request while measuring ($(json_get "$work/measure.json" failed))" \
  '[ "$(json_get "$work/measure.json" failed)" = 0 ]'

sent=$(( $(json_get "$work/warm.json" requests) + $(json_get "$work/measure.json" requests) ))
# Upstream keep-alive: NGINX's connections to the replicas' port 8080, read
# from its network namespace (/proc/PID/net/tcp: state 01 established, 06 time-wait).
nginx_pid=$(docker inspect -f '{{.State.Pid}}' "$(dc ps -q nginx)")
read -r upstream_estab upstream_tw < <(awk '$3 ~ /:1F90$/ { n[$4]++ } END { print n["01"] + 0, n["06"] + 0 }' \
  "/proc/$nginx_pid/net/tcp" "/proc/$nginx_pid/net/tcp6")
check_eval "NGINX reuses upstream connections: $upstream_estab open, $upstream_tw closed after $sent requests" \
  '[ "$upstream_estab" -gt 0 ] && [ "$upstream_tw" -lt 100 ]'

# Per-replica request counters, once Prometheus has scraped all the traffic.
per_replica() { "${client[@]}" prom "$prom" 'sum by (instance) (scalecache_http_requests_total{route="data"})'; }
counted() {  # counted TOTAL: the replicas' data requests add up to TOTAL
  per_replica >"$work/per-replica.txt" 2>/dev/null
  [ "$(awk '{ s += $2 } END { print s + 0 }' "$work/per-replica.txt")" -ge "$1" ]
}
check "Prometheus counted all $sent requests on the replicas" tl_until 30 counted "$sent"
checks_log "data requests per replica: $(awk '{ printf "%s=%d ", $1, $2 }' "$work/per-replica.txt")"
check_eval "requests through NGINX reached all 3 replicas" \
  '[ "$(awk "\$2 > 0" "$work/per-replica.txt" | wc -l)" -eq 3 ]'
prom_ratio=$("${client[@]}" prom "$prom" \
  'sum(scalecache_cache_results_total{source=~"l1|l2|stale"}) / sum(scalecache_cache_results_total)' | awk '{ printf "%.3f", $2 }')
checks_log "hit ratio by the replicas' own counters (warm-up included): $prom_ratio"

# --- purges need the admin token compose.yaml gives the replicas --------------
admin_token=$("$yaml_python" -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["services"]["scalecache"]["environment"]["SCALECACHE_ADMIN_TOKEN"])' \
  "$work/resolved.yaml")
check "compose.yaml gives the replicas an admin token" test -n "$admin_token"
check_eval "a purge through NGINX without the admin token is refused (401)" \
  'tl_http "$lb/data/k1" -X DELETE; [ "$TL_CODE" = 401 ]'
check_eval "a purge through NGINX with compose.yaml's admin token succeeds (200)" \
  'tl_http "$lb/data/k1" -X DELETE -H "Authorization: Bearer $admin_token"; [ "$TL_CODE" = 200 ]'

# --- stop one replica under load ----------------------------------------------
# Two client streams at 100 requests/s each: one on keep-alive connections,
# one opening a fresh connection per request (nothing to resend there).
victim=$(dc ps -q scalecache | head -n 1)
victim_name=$(docker inspect -f '{{.Name}}' "$victim" | tr -d /)
failover_load() {  # failover_load NAME [client options]
  local name=$1; shift
  "${client[@]}" load "$lb" --keys "$keys" --requests 2000 --rate 100 --duration 30 --concurrency 4 "$@" \
    >"$work/failover-$name.json"
}
failover_load keepalive &
ka_pid=$!
failover_load fresh --fresh-connections &
fresh_pid=$!
sleep 5
t=$(date +%s.%N)
docker stop -t 20 "$victim" >/dev/null
stop_s=$(checks_elapsed "$t")
victim_exit=$(docker inspect -f '{{.State.ExitCode}}' "$victim")
wait "$ka_pid" "$fresh_pid"
check_eval "replica $victim_name stopped under load in $stop_s s, exit code $victim_exit" \
  '[ "$victim_exit" = 0 ]'
failover_requests=0 failover_failed=0
for stream in keepalive fresh; do
  f=$work/failover-$stream.json
  checks_log "failover load, $stream connections: $(cat "$f")"
  failover_requests=$((failover_requests + $(json_get "$f" requests)))
  failover_failed=$((failover_failed + $(json_get "$f" failed)))
  check_eval "$stream connections: no request failed while a replica stopped ($(json_get "$f" requests) requests at 100/s, $(json_get "$f" failed) failed, $(json_get "$f" resent) resent, p99 $(json_get "$f" latency_ms.p99) ms, max $(json_get "$f" latency_ms.max) ms)" \
    '[ "$(json_get "$f" failed)" = 0 ] && [ "$(json_get "$f" requests)" -ge 1500 ]'
done
resent=$(json_get "$work/failover-keepalive.json" resent)
check "Prometheus drops the stopped replica (2 targets)" tl_until 30 targets_are 2

# --- scale out: the balancer and Prometheus follow ---------------------------
before=$(per_replica)
t=$(date +%s.%N)
dc up -d --no-build --no-deps --scale scalecache=4 scalecache >"$work/scale.log" 2>&1 \
  || { cat "$work/scale.log"; fail "docker-compose up --scale scalecache=4"; }
check "Prometheus finds 4 healthy replicas after --scale scalecache=4" tl_until 60 targets_are 4
# run-nginx.sh re-resolves the replicas every 5 s and logs each reload as
# "scalecache: [old addresses] -> [new addresses]; reloading nginx".
nginx_reloaded_with() {  # nginx_reloaded_with N: NGINX's latest reload lists N replica addresses
  [ "$(dc logs --no-color nginx 2>/dev/null | sed -n 's/.*\] -> \[\(.*\)\]; reloading nginx.*/\1/p' \
        | tail -n 1 | wc -w)" -eq "$1" ]
}
check "NGINX reloads with 4 replica addresses" tl_until 30 nginx_reloaded_with 4
"${client[@]}" load "$lb" --keys "$keys" --requests 800 --concurrency 8 >"$work/scaled.json"
scaled_sent=$(json_get "$work/scaled.json" requests)
# grown N: N replicas' data-request counters grew (a new replica has no "before" line).
grown() {
  per_replica >"$work/per-replica.txt" 2>/dev/null
  [ "$(awk 'NR == FNR { b[$1] = $2; next } $2 > b[$1] { n++ } END { print n + 0 }' \
        <(echo "$before") "$work/per-replica.txt")" -ge "$1" ]
}
tl_until 30 grown 4
new_share=$(awk 'NR == FNR { b[$1] = $2; next } { printf "%s=+%d ", $1, $2 - b[$1] }' \
  <(echo "$before") "$work/per-replica.txt")
checks_log "after scaling, new data requests per replica: $new_share"
check_eval "after scaling, $scaled_sent requests ($(json_get "$work/scaled.json" failed) failed) reached all 4 replicas ($(checks_elapsed "$t") s)" \
  '[ "$(json_get "$work/scaled.json" failed)" = 0 ] && grown 4'

# --- the worker tier: replicas queue their misses, 3 workers compute them ---------
say_workers=$(date +%s.%N)
dcw() { dc -f "$here/workers.yaml" "$@"; }
if ! dcw up -d --no-build --no-deps --scale scalecache=3 --scale worker=3 scalecache worker >"$work/workers.log" 2>&1; then
  cat "$work/workers.log"; fail "docker-compose up --scale worker=3"
fi
workers_are() { [ "$("${client[@]}" targets "$prom" scalecache-worker 2>/dev/null)" = "$1" ]; }
check "Prometheus scrapes 3 healthy workers after --scale worker=3" tl_until 60 workers_are 3
check "the replicas, now queueing misses, are ready through NGINX" tl_wait_http "$lb/readyz" 200 60
check "Prometheus finds the 3 replicas again" tl_until 60 targets_are 3
nginx_on_current_replicas() {  # NGINX's latest reload lists exactly the running replicas' addresses
  local want got id
  want=$(for id in $(dc ps -q scalecache); do
           docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id"; done | sort | xargs)
  got=$(dc logs --no-color nginx 2>/dev/null | sed -n 's/.*\] -> \[\(.*\)\]; reloading nginx.*/\1/p' | tail -n 1 \
          | tr -s ' ,' '\n' | sed 's/:[0-9]*$//' | grep . | sort | xargs)
  [ -n "$want" ] && [ "$want" = "$got" ]
}
check "NGINX balances over the recreated replicas" tl_until 60 nginx_on_current_replicas
"${client[@]}" load "$lb" --keys "$keys" --prefix worker-key- --requests 400 --concurrency 8 --timeout 20 >"$work/workers.json"
worker_calls=$("${client[@]}" calls "$origin" --prefix worker-key-)
jobs_done() {
  [ "$("${client[@]}" prom "$prom" 'sum(scalecache_worker_jobs_total{result="ok"})' 2>/dev/null | awk '{ print $2 + 0 }')" = "$1" ]
}
check_eval "through the workers: $(json_get "$work/workers.json" requests) requests, $(json_get "$work/workers.json" failed) failed" \
  '[ "$(json_get "$work/workers.json" failed)" = 0 ] && [ "$(json_get "$work/workers.json" requests)" = 400 ]'
check_eval "one origin call per key through the workers ($worker_calls calls for $keys keys)" '[ "$worker_calls" = "$keys" ]'
check "the workers counted one job per key ($keys)" tl_until 30 jobs_done "$keys"
checks_log "worker tier phase: $(checks_elapsed "$say_workers") s"

# --- Redis Cluster: deploy/compose/redis-cluster.yaml -------------------------------
# The replicas switch to mode cluster over 6 redis-server nodes that the
# one-shot redis-cluster-create container joins into 3 masters + 3 replicas
# (with the chart's agent script). Keys fill once through the fleet lease, then
# every replica answers them from the cluster (L2), none from the origin again.
say_cluster=$(date +%s.%N)
dcc() { dc -f deploy/compose/redis-cluster.yaml "$@"; }
if ! SCALECACHE_ORIGIN_KIND=http dcc up -d --no-build --scale scalecache=3 --scale worker=0 \
       redis-node-1 redis-node-2 redis-node-3 redis-node-4 redis-node-5 redis-node-6 \
       redis-cluster-create scalecache >"$work/cluster-up.log" 2>&1; then
  cat "$work/cluster-up.log"; fail "docker-compose up with deploy/compose/redis-cluster.yaml"
fi
cluster_ok() {
  local info
  info=$(dcc exec -T redis-node-1 redis-cli CLUSTER INFO 2>/dev/null | tr -d '\r')
  grep -qx 'cluster_state:ok' <<<"$info" && grep -qx 'cluster_known_nodes:6' <<<"$info" \
    && grep -qx 'cluster_size:3' <<<"$info"
}
check "the one-shot container makes a 3-master, 6-node Redis Cluster" tl_until 120 cluster_ok
check "the replicas, now in mode cluster, are ready through NGINX" tl_wait_http "$lb/readyz" 200 60
check "Prometheus finds the 3 replicas in mode cluster" tl_until 60 targets_are 3
check "NGINX balances over the replicas in mode cluster" tl_until 60 nginx_on_current_replicas
"${client[@]}" load "$lb" --keys "$keys" --prefix cluster-key- --requests $((keys * 6)) --concurrency 4 \
  >"$work/cluster.json"
cluster_calls=$("${client[@]}" calls "$origin" --prefix cluster-key-)
check_eval "mode cluster: $(json_get "$work/cluster.json" requests) requests, $(json_get "$work/cluster.json" failed) failed" \
  '[ "$(json_get "$work/cluster.json" failed)" = 0 ] && [ "$(json_get "$work/cluster.json" requests)" = $((keys * 6)) ]'
check_eval "mode cluster: one origin call per key ($cluster_calls calls for $keys keys): a miss, then hits on every replica" \
  '[ "$cluster_calls" = "$keys" ]'
l2_replicas() {
  [ "$("${client[@]}" prom "$prom" 'sum by (instance) (scalecache_cache_results_total{source="l2"})' 2>/dev/null \
        | awk '$2 > 0' | wc -l)" -ge 2 ]
}
check "mode cluster: replicas answer keys another replica filled from the cluster (L2 hits on 2+ replicas)" \
  tl_until 30 l2_replicas
checks_log "Redis Cluster phase: $(checks_elapsed "$say_cluster") s"

# --- TLS to Redis: deploy/compose/redis-tls.yaml ------------------------------------
# redis-server with only a TLS port, its certificates made by the one-shot
# redis-tls-certs into volumes; the replicas speak TLS themselves and verify
# the server's chain and name. Then the replicas get a CA that did not sign
# the server certificate (as a bind-mounted directory: the bring-your-own
# path): Redis must be down for every replica, for the reason they log, with
# nothing crashed. The cluster's nodes go first: this phase needs none.
say_tls=$(date +%s.%N)
dcc rm -s -f redis-node-1 redis-node-2 redis-node-3 redis-node-4 redis-node-5 redis-node-6 \
  redis-cluster-create >/dev/null 2>&1
if ! dct up -d --no-build --scale scalecache=3 --scale worker=0 redis scalecache >"$work/tls-up.log" 2>&1; then
  cat "$work/tls-up.log"; fail "docker-compose up with deploy/compose/redis-tls.yaml"
fi
# ids_of SERVICE: the stack's containers of SERVICE, running or not (docker
# alone: each docker-compose 1.29 call costs seconds of start-up).
ids_of() {
  docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1"
}
check_eval "the one-shot redis-tls-certs made a CA and a server certificate (exit 0)" \
  'docker logs "$(ids_of redis-tls-certs)" 2>&1 | grep -q "made a CA" &&
   [ "$(docker inspect -f "{{.State.ExitCode}}" "$(ids_of redis-tls-certs)")" = 0 ]'
check "the replicas, speaking TLS to Redis, are ready through NGINX" tl_wait_http "$lb/readyz" 200 60
check "Prometheus finds the 3 replicas" tl_until 60 targets_are 3
redis_up_is() {  # redis_up_is V: Prometheus has scalecache_redis_up V from exactly the 3 replicas
  "${client[@]}" prom "$prom" 'scalecache_redis_up{job="scalecache"}' >"$work/redis-up.txt" 2>/dev/null
  [ "$(wc -l <"$work/redis-up.txt")" -eq 3 ] && [ "$(awk -v v="$1" '$2 == v' "$work/redis-up.txt" | wc -l)" -eq 3 ]
}
check "scalecache_redis_up 1 on every replica, over TLS" tl_until 60 redis_up_is 1
check_eval "a miss: the first request for tls-key-1 is answered by the origin" \
  'tl_http "$lb/data/tls-key-1" -H "Connection: close"; [ "$(tl_json source)" = origin ]'
l2_answer() { tl_http "$lb/data/tls-key-1" -H "Connection: close"; [ "$(tl_json source)" = l2 ]; }
check "a hit from L2 on another replica (the first has it in L1): Redis over TLS" tl_until 15 l2_answer
tls_calls=$("${client[@]}" calls "$origin" --prefix tls-key-)
check_eval "one origin call for tls-key-1 ($tls_calls)" '[ "$tls_calls" = 1 ]'
# Only a TLS port: the plain port is closed, and plain RESP on the TLS port gets no answer.
docker exec "$(ids_of redis)" sh -c 'for p in 6379 6380; do echo "$p: $(redis-cli -p $p PING 2>&1)"; done' \
  >"$work/plain.txt" 2>&1
checks_log "plain RESP to redis-server: $(tr '\n' ' ' <"$work/plain.txt")"
check_eval "redis-server has no plain port (6379 refuses)" 'grep -q "^6379: .*Connection refused" "$work/plain.txt"'
check_eval "plain RESP to redis-server's TLS port (6380) gets no PONG" \
  'grep -q "^6380: " "$work/plain.txt" && ! grep -q "^6380: .*PONG" "$work/plain.txt"'

# A second CA, made by the same script on this host; the replicas then trust only it.
check_quiet "redis-tls-certs.sh makes a second CA" \
  sh deploy/tls-certs/redis-tls-certs.sh "$work/other-ca/server" "$work/other-ca/ca"
check_eval "redis-tls-certs.sh keeps the certificates it finds" \
  'sh deploy/tls-certs/redis-tls-certs.sh "$work/other-ca/server" "$work/other-ca/ca" | grep -q "using the existing"'
check_eval "redis-tls-certs.sh refuses a partial set and writes nothing" \
  '! sh deploy/tls-certs/redis-tls-certs.sh "$work/partial" "$work/other-ca/ca" 2>/dev/null && [ ! -e "$work/partial" ]'
if ! REDIS_TLS_CA_DIR=$work/other-ca/ca dct up -d --no-build --no-deps --scale scalecache=3 scalecache \
     >"$work/tls-wrong-ca.log" 2>&1; then
  cat "$work/tls-wrong-ca.log"; fail "docker-compose up the replicas with another CA"
fi
replicas_refused() {  # every replica logs the verification error
  local id
  [ "$(ids_of scalecache | wc -l)" -eq 3 ] || return 1
  for id in $(ids_of scalecache); do
    docker logs "$id" 2>&1 | grep -q "TLS with redis: certificate verify failed" || return 1
  done
}
check "every replica given another CA logs the verification error (TLS with redis: certificate verify failed)" \
  tl_until 60 replicas_refused
check "scalecache_redis_up 0 on every replica" tl_until 60 redis_up_is 0
tl_http "$lb/data/tls-key-2"
check_eval "the replicas still answer, from the origin (HTTP $TL_CODE, source $(tl_json source))" \
  '[ "$TL_CODE" = 200 ] && [ "$(tl_json source)" = origin ]'
not_crashed() {  # every replica running, none restarted
  local id
  [ "$(ids_of scalecache | wc -l)" -eq 3 ] || return 1
  for id in $(ids_of scalecache); do
    [ "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$id")" = "true 0" ] || return 1
  done
}
check "no crash: the 3 replicas run, none restarted" not_crashed

t=$(date +%s.%N)
dct down --volumes --remove-orphans --timeout 20 >"$work/tls-down.log" 2>&1 || cat "$work/tls-down.log"
# shellcheck disable=SC2034 # used in check_eval
left=$(docker ps -aq --filter "label=com.docker.compose.project=$project"
       docker volume ls -q --filter "label=com.docker.compose.project=$project"
       docker network ls -q --filter "label=com.docker.compose.project=$project")
check_eval "torn down: no container, volume or network of the stack left ($(checks_elapsed "$t") s)" '[ -z "$left" ]'
stack_up=
checks_log "TLS phase: $(checks_elapsed "$say_tls") s"

echo "figures: hit ratio $hit_ratio (origin's count, 1200 requests after warm-up; replicas' counters $prom_ratio);" \
  "replica stopped under load: $failover_requests requests, $failover_failed failed," \
  "$resent resent on keep-alive connections closed by NGINX's reload;" \
  "stack up ${up_s} s, total $(checks_elapsed "$CHECKS_T0") s"
checks_summary compose
