#!/usr/bin/env bash
# Container smoke test (make test-container).
#
# Builds the image (`make image`, bootstrapping debian:bookworm-slim and
# starting dockerd first when needed), then runs it the strict way:
#   --read-only --cap-drop ALL --user 65532 --network host
# against a redis-server started here on a free loopback port, and checks:
# /healthz and /readyz, a miss then a hit (source origin, then l1), the key in
# Redis, /metrics, the process's uid/gid/capabilities, JSON logs, and that
# `docker stop` makes it turn /readyz 503, keep serving, and exit 0 within the
# drain time. Every request goes to 127.0.0.1. Cleans up everything it starts.
# check_eval takes single-quoted expressions on purpose.
# shellcheck disable=SC2016
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
# shellcheck source=scripts/docker-testlib.sh
. scripts/docker-testlib.sh

drain=2          # SCALECACHE_SHUTDOWN_DRAIN_SECONDS
grace=2          # SCALECACHE_SHUTDOWN_GRACE_SECONDS
stop_timeout=20  # docker stop -t: far above drain + grace, so a kill would show
name="scalecache-smoke-$$"
redis_pid=""
redis_dir=""

cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null
    wait "$redis_pid" 2>/dev/null
  fi
  [ -n "$redis_dir" ] && rm -rf "$redis_dir"
  docker_env_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

abort() { fail "$*"; checks_summary container; exit 1; }

# --- engine, base image, image -------------------------------------------
docker_env_install redis-server redis-tools curl python3 || abort "install test packages"
docker_env_up || abort "dockerd running"
pass "dockerd answers (docker info)"

t=$(date +%s.%N)
scripts/make-base-image.sh || abort "base image debian:bookworm-slim"
pass "base image debian:bookworm-slim present ($(checks_elapsed "$t") s)"

t=$(date +%s.%N)
image=$(make --no-print-directory -s image-name)
if [ "${SCALECACHE_TEST_REUSE_IMAGE:-0}" = 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  checks_log "SCALECACHE_TEST_REUSE_IMAGE=1: using the existing $image without rebuilding"
else
  build_log=$(mktemp)
  if ! make --no-print-directory image >"$build_log" 2>&1; then
    tail -n 40 "$build_log"
    rm -f "$build_log"
    abort "make image"
  fi
  rm -f "$build_log"
fi
build_s=$(checks_elapsed "$t")
pass "make image built $image ($build_s s)"

# --- what the image is, before it runs ------------------------------------
size=$(docker image inspect -f '{{.Size}}' "$image")
size_mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
check "image size $size_mb MB <= 100 MB" [ "$size" -le 100000000 ]
check "image user is numeric 65532" \
  [ "$(docker image inspect -f '{{.Config.User}}' "$image")" = "65532:65532" ]
check_eval "image exposes 8080/tcp" \
  'docker image inspect -f "{{json .Config.ExposedPorts}}" "$image" | grep -q "\"8080/tcp\""'
version=${image##*:}
check "OCI label org.opencontainers.image.version=$version" [ "$(docker image inspect \
  -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image")" = "$version" ]
check "tag is pinned (not latest)" [ "$version" != latest ]
no_shell() { ! docker run --rm --network none --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; }
check "no shell in the image (/bin/sh cannot start)" no_shell
check "baked config passes --check-config" docker run --rm --network none --read-only \
  --cap-drop ALL "$image" --check-config --config /etc/scalecache/scalecache.yaml

# --- Redis on loopback, then the container ----------------------------------
redis_port=$(tl_free_port)
redis_dir=$(mktemp -d)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
redis_pid=$!
for _ in $(seq 1 50); do
  [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] || abort "redis-server on 127.0.0.1:$redis_port"

port=$(tl_free_port)
base="http://127.0.0.1:$port"
docker run -d --name "$name" \
  --read-only --cap-drop ALL --security-opt no-new-privileges --user 65532 --network host \
  -e SCALECACHE_SERVER_HOST=127.0.0.1 \
  -e SCALECACHE_SERVER_PORT="$port" \
  -e SCALECACHE_REDIS_URL="redis://127.0.0.1:$redis_port/0" \
  -e SCALECACHE_ORIGIN_SIMULATED_DELAY_MS=20 \
  -e SCALECACHE_SHUTDOWN_DRAIN_SECONDS="$drain" \
  -e SCALECACHE_SHUTDOWN_GRACE_SECONDS="$grace" \
  --health-interval 1s --health-start-period 1s \
  "$image" >/dev/null || abort "docker run $image"
pass "container started (read-only, no capabilities, uid 65532, port $port)"

t=$(date +%s.%N)
if tl_wait_http "$base/healthz" 200 30; then
  pass "/healthz 200 ($(checks_elapsed "$t") s after start)"
else
  docker logs "$name" 2>&1 | tail -n 20
  abort "/healthz 200 within 30 s (last: $TL_CODE)"
fi
check "/readyz 200" tl_wait_http "$base/readyz" 200 30
healthy() { [ "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name")" = healthy ]; }
check "HEALTHCHECK (scalecache --probe, no shell) reports healthy" tl_until 30 healthy

key="smoke-$$-$RANDOM"
tl_http "$base/data/$key"
check_eval "first GET /data/$key: 200 from the origin (got $TL_CODE, source $(tl_json source))" \
  '[ "$TL_CODE" = 200 ] && [ "$(tl_json source)" = origin ]'
check_eval "body names the key and carries data" '[ "$(tl_json key)" = "$key" ] && [ -n "$(tl_json data)" ]'
tl_http "$base/data/$key"
check_eval "second GET /data/$key: 200 from l1 (got $TL_CODE, source $(tl_json source))" \
  '[ "$TL_CODE" = 200 ] && [ "$(tl_json source)" = l1 ]'
in_redis() { [ "$(redis-cli -p "$redis_port" --scan --pattern "*$key*" | wc -l)" -ge 1 ]; }
check "the entry reached Redis (L2)" in_redis

tl_http "$base/metrics"
metrics=$TL_BODY
check "/metrics 200" [ "$TL_CODE" = 200 ]
has_metric() { grep -Eq "^$1" <<<"$metrics"; }
check "metric scalecache_cache_results_total{source=\"origin\"}" \
  has_metric 'scalecache_cache_results_total\{[^}]*source="origin"[^}]*\} [1-9]'
check "metric scalecache_cache_results_total{source=\"l1\"}" \
  has_metric 'scalecache_cache_results_total\{[^}]*source="l1"[^}]*\} [1-9]'
check "metric scalecache_http_requests_total{route=\"data\",code=\"200\"}" \
  has_metric 'scalecache_http_requests_total\{[^}]*route="data"[^}]*\} [1-9]'
check "metric scalecache_redis_up 1" has_metric 'scalecache_redis_up(\{\})? 1'
check "metric process_start_time_seconds" has_metric 'process_start_time_seconds '

# --- the process as the kernel sees it --------------------------------------
pid=$(docker inspect -f '{{.State.Pid}}' "$name")
status_field() { awk -v f="$1:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$pid/status"; }
uids=$(status_field Uid)
check "process runs as uid 65532 (real, effective, saved, fs: $uids)" \
  [ "$(tr -s '\t ' '\n' <<<"$uids" | sort -u)" = 65532 ]
gids=$(status_field Gid)
check "process runs as gid 65532 ($gids)" [ "$(tr -s '\t ' '\n' <<<"$gids" | sort -u)" = 65532 ]
check_eval "no effective or permitted capabilities" \
  '[ "$(status_field CapEff)" = 0000000000000000 ] && [ "$(status_field CapPrm)" = 0000000000000000 ]'
check "no_new_privs set" [ "$(status_field NoNewPrivs)" = 1 ]
check "root filesystem is read-only" \
  [ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$name")" = true ]
json_logs() {
  docker logs "$name" 2>&1 >/dev/null | python3 -c '
import json, sys
lines = [l for l in sys.stdin if l.strip()]
for l in lines:
    json.loads(l)
sys.exit(0 if lines else 1)'
}
check "logs on stderr are JSON lines" json_logs

# --- docker stop: drain, keep serving, exit 0 -------------------------------
t=$(date +%s.%N)
docker stop -t "$stop_timeout" "$name" >/dev/null &
stop_pid=$!
# 503 from the signal until the process exits (the drain at least): the wait also
# covers docker delivering the signal, and a later 503 cannot come from anything else.
check "/readyz turns 503 after SIGTERM" tl_wait_http "$base/readyz" 503 "$stop_timeout"
tl_http "$base/data/$key"
check "still serves data while draining (got $TL_CODE)" [ "$TL_CODE" = 200 ]
wait "$stop_pid"
stop_s=$(checks_elapsed "$t")
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
check "exit code 0 after docker stop (got $exit_code)" [ "$exit_code" = 0 ]
check "stopped in $stop_s s: after the ${drain} s drain, well before the ${stop_timeout} s kill" \
  awk -v s="$stop_s" -v d="$drain" -v g="$grace" 'BEGIN { exit !(s >= d - 0.2 && s <= d + g) }'

echo "figures: image $image ${size_mb} MB, build ${build_s} s, stop ${stop_s} s (drain ${drain} s), total $(checks_elapsed "$CHECKS_T0") s"
checks_summary container
