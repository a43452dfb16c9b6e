# shellcheck shell=bash
# Docker engine helpers for scalecache's image and container tests.
#
# Source this file, then:
#   docker_env_up     install Debian's docker.io / docker-compose when missing,
#                     start dockerd in the background when `docker info` fails
#   docker_env_down   stop dockerd again, but only if docker_env_up started it
#                     (set SCALECACHE_KEEP_DOCKERD=1 to leave it running)
#
# Only Debian packages are used; nothing is pulled from a container registry.

DOCKER_ENV_STARTED_PID=""
DOCKER_ENV_LOG="${SCALECACHE_DOCKERD_LOG:-/tmp/scalecache-dockerd.log}"
DOCKER_ENV_PIDFILE=/var/run/docker.pid

docker_env_log() { printf '[docker-env] %s\n' "$*" >&2; }

# as_root CMD...: run CMD as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# docker_env_install PKG...: apt-get install the given Debian packages if any is missing.
docker_env_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  docker_env_log "installing Debian packages: ${missing[*]}"
  # Wait for the dpkg lock rather than fail when another install is running.
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

docker_env_up() {
  command -v dockerd >/dev/null 2>&1 || docker_env_install docker.io
  command -v docker >/dev/null 2>&1 || docker_env_install docker.io
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  docker_env_log "dockerd is not answering; starting it (log: $DOCKER_ENV_LOG)"
  # setsid: the daemon must not receive the terminal's signals meant for a test.
  as_root setsid dockerd --pidfile "$DOCKER_ENV_PIDFILE" >"$DOCKER_ENV_LOG" 2>&1 </dev/null &
  local launcher=$! i
  for i in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      # The pid written by dockerd itself (the launcher may be a wrapper).
      DOCKER_ENV_STARTED_PID=$(cat "$DOCKER_ENV_PIDFILE" 2>/dev/null || echo "$launcher")
      docker_env_log "dockerd is up (pid $DOCKER_ENV_STARTED_PID, after $((i / 2)) s)"
      return 0
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then
      docker_env_log "dockerd exited; last lines of $DOCKER_ENV_LOG:"
      tail -n 20 "$DOCKER_ENV_LOG" >&2
      return 1
    fi
    sleep 0.5
  done
  docker_env_log "dockerd did not answer within 60 s"
  return 1
}

docker_env_down() {
  [ -n "$DOCKER_ENV_STARTED_PID" ] || return 0
  if [ "${SCALECACHE_KEEP_DOCKERD:-0}" = 1 ]; then
    docker_env_log "leaving dockerd (pid $DOCKER_ENV_STARTED_PID) running: SCALECACHE_KEEP_DOCKERD=1"
    return 0
  fi
  docker_env_log "stopping the dockerd this run started (pid $DOCKER_ENV_STARTED_PID)"
  as_root kill -TERM "$DOCKER_ENV_STARTED_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$DOCKER_ENV_STARTED_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$DOCKER_ENV_STARTED_PID" 2>/dev/null; then
    docker_env_log "dockerd still running after 30 s; sending SIGKILL"
    as_root kill -KILL "$DOCKER_ENV_STARTED_PID" 2>/dev/null || true
  fi
  DOCKER_ENV_STARTED_PID=""
}
