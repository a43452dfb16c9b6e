# shellcheck shell=bash
# Everything the node runs, built or fetched once and cached in $E2E_CACHE:
#
#   debs/<pkg>/          Debian packages unpacked (etcd, CNI plugins, busybox-static)
#   bin/k8s/             one go build of tests/e2e/k8s-build: k8s-node (kube-apiserver,
#                        kube-controller-manager, kube-scheduler, kubelet, kube-proxy and
#                        kubectl in one binary, each name a symlink to it), coredns (only
#                        the Corefile's plugins) and metrics-server
#   bin/traefik/         go build inside Traefik's unpacked module
#   gateway-api/         Gateway API's standard CRDs (from its Go module)
#   bin/pause            tests/e2e/images/pause.c, gcc -static
#   images/*.tar         image archives for `ctr images import`
#   go-build/            the Go build cache, only while building (removed after)
#
# Each entry has a .stamp holding the inputs it was built from; a changed
# input rebuilds only that entry. containerd and runc are the Debian packages
# the host already has for docker (docker.io depends on them).

E2E_GOENV=(env GOCACHE="$E2E_CACHE/go-build" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod)
# Free disk a cold build needs under $E2E_CACHE (Go build cache at its largest
# plus the binaries; measured figures in docs/kubernetes-e2e.md).
E2E_COLD_DISK_GB=${SCALECACHE_E2E_COLD_DISK_GB:-12}
# Two cores shared with other work: lowest CPU priority, 2 packages at a time.
E2E_NICE=(nice -n 15 ionice -c 3)

# The image references the chart (tests/e2e/values.yaml) and containerd use.
E2E_IMG_PAUSE=docker.io/scalecache-e2e/pause:1.0
E2E_IMG_COREDNS=docker.io/scalecache-e2e/coredns:${COREDNS_VERSION}
E2E_IMG_METRICS=docker.io/scalecache-e2e/metrics-server:${METRICS_SERVER_VERSION}
E2E_IMG_TRAEFIK=docker.io/scalecache-e2e/traefik:${TRAEFIK_VERSION}
E2E_IMG_BUSYBOX=docker.io/scalecache-e2e/busybox:1.37.0
E2E_IMG_REDIS=scalecache-e2e/redis:7.0-bookworm

# shellcheck source=scripts/debian-mirror.sh
. "$E2E_ROOT/scripts/debian-mirror.sh"

# apt_suite SUITE: apt-get options for a private package list of SUITE
# (bookworm's own lists otherwise), from the mirror this machine's apt uses
# (SCALECACHE_DEBIAN_MIRROR overrides); `apt-get update` for it once.
apt_suite() {
  local suite=$1 d="$E2E_CACHE/apt-$1"
  APT_OPTS=(-o "Dir::State::Lists=$d/lists" -o "Dir::Etc::SourceList=$d/sources.list"
            -o "Dir::Etc::SourceParts=/nonexistent" -o "Dir::Cache=$d/cache" -o "APT::Sandbox::User=root")
  if [ ! -f "$d/updated" ]; then
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    local mirror
    mirror=$(debian_mirror "$suite") || die "no Debian mirror for $suite (set SCALECACHE_DEBIAN_MIRROR)"
    echo "deb $mirror $suite main" >"$d/sources.list"
    apt-get "${APT_OPTS[@]}" update -qq >/dev/null || die "apt-get update for $suite failed"
    touch "$d/updated"
  fi
}

build_debs() {
  local spec pkg suite dir ver tmp
  mkdir -p "$E2E_DEBDIR"
  for spec in $E2E_DEBS; do
    pkg=${spec%/*}; suite=""
    [ "$spec" != "$pkg" ] && suite=${spec#*/}
    dir="$E2E_DEBDIR/$pkg"
    [ -f "$dir.stamp" ] && continue
    tmp=$(mktemp -d)
    log "apt-get download $spec (unpacked into the cache, not installed)"
    if [ -n "$suite" ]; then
      apt_suite "$suite"
      (cd "$tmp" && apt-get "${APT_OPTS[@]}" download -q "$pkg/$suite" >/dev/null 2>&1) || { rm -rf "$tmp"; die "apt-get download $spec failed"; }
    elif ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
      apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
      (cd "$tmp" && apt-get download -q "$pkg" >/dev/null) || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    dpkg-deb -x "$tmp"/*.deb "$dir"
    ver=$(dpkg-deb -f "$tmp"/*.deb Version)
    rm -rf "$tmp"
    echo "$spec $ver" >"$dir.stamp"
  done
  E2E_ETCD="$E2E_DEBDIR/etcd-server/usr/bin/etcd"
  E2E_CNI_BIN="$E2E_DEBDIR/containernetworking-plugins/usr/lib/cni"
  E2E_BUSYBOX=""
  local b
  for b in "$E2E_DEBDIR"/busybox-static/{bin,usr/bin}/busybox; do
    if [ -x "$b" ]; then E2E_BUSYBOX=$b; break; fi
  done
  { [ -x "$E2E_ETCD" ] && [ -x "$E2E_CNI_BIN/bridge" ] && [ -x "$E2E_BUSYBOX" ]; } || die "unpacked packages incomplete in $E2E_DEBDIR"
}

# containerd and runc: the host's (Debian's, installed with docker.io).
host_runtime() {
  local missing=()
  command -v containerd >/dev/null 2>&1 || missing+=(containerd)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # shellcheck disable=SC2034  # E2E_CONTAINERD, E2E_CTR, E2E_RUNC: read by lib/node.sh and run.sh
  {
    E2E_CONTAINERD=$(command -v containerd)
    E2E_CTR=$(command -v ctr)
    E2E_RUNC=$(command -v runc)
  }
}

# The commands of the build module and the name each is installed under.
E2E_K8S_COMMANDS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"

k8s_stamp() {
  (cd "$E2E_DIR/k8s-build" && cat go.mod go.sum k8s-node/main.go coredns/main.go) | sha256sum | cut -c1-16
  go env GOVERSION
  echo "version-ldflags 1, multi-call"
}

# e2e_go_build_needs GIGABYTES: a cold go build needs room for the Go build
# cache (measured: see docs/kubernetes-e2e.md); fail before starting, with the
# figures, rather than with a full disk halfway through.
e2e_go_build_needs() {
  local need=$1 free
  mkdir -p "$E2E_CACHE"
  free=$(df -P -BG "$E2E_CACHE" | awk 'NR == 2 { sub(/G$/, "", $4); print $4 }')
  [ "${free:-0}" -ge "$need" ] ||
    die "only ${free:-?} GB free under $E2E_CACHE; the cold build needs about $need GB (Go build cache and binaries). Free some space or point SCALECACHE_E2E_CACHE elsewhere."
}

# e2e_gocache_note: the size of the Go build cache now (it only grows during
# the builds, so after the last one it is the peak), for the summary.
E2E_GOCACHE_PEAK=""
e2e_gocache_note() {
  [ -d "$E2E_CACHE/go-build" ] && E2E_GOCACHE_PEAK=$(du -sh "$E2E_CACHE/go-build" | cut -f1)
  return 0
}

# One go build of tests/e2e/k8s-build: the shared k8s.io libraries compile
# once for the Kubernetes commands, CoreDNS and metrics-server, and the six
# Kubernetes commands are linked once, as k8s-node.
build_k8s() {
  local out="$E2E_BIN/k8s" key
  key=$(k8s_stamp)
  if stamp_ok "$out.stamp" "$key"; then return 0; fi
  e2e_go_build_needs "$E2E_COLD_DISK_GB"
  log "go build Kubernetes $K8S_VERSION (k8s-node), CoreDNS $COREDNS_VERSION, metrics-server $METRICS_SERVER_VERSION (cold: the longest step; log $E2E_CACHE/k8s-build.log)"
  local start; start=$(date +%s)
  rm -rf "$out" "$out.stamp"; mkdir -p "$out"
  # The version the binaries report (helm checks the chart's kubeVersion
  # against it): what hack/lib/version.sh would stamp for the release.
  local minor ldflags="-s -w" pkg c
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  ldflags+=" -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
  (cd "$E2E_DIR/k8s-build" && "${E2E_NICE[@]}" "${E2E_GOENV[@]}" go build -p 2 -trimpath -ldflags="$ldflags" \
      -o "$out/" ./k8s-node ./coredns sigs.k8s.io/metrics-server/cmd/metrics-server) \
      >"$E2E_CACHE/k8s-build.log" 2>&1 || { tail -n 30 "$E2E_CACHE/k8s-build.log" >&2; die "go build of tests/e2e/k8s-build failed"; }
  for c in k8s-node coredns metrics-server; do
    [ -x "$out/$c" ] || die "go build produced no $c"
  done
  for c in $E2E_K8S_COMMANDS; do ln -s k8s-node "$out/$c"; done
  e2e_gocache_note
  echo "$key" >"$out.stamp"
  record "build: Kubernetes (k8s-node), CoreDNS, metrics-server" "$(( $(date +%s) - start )) s"
}

# go_module_dir MODULE@VERSION: the unpacked module in the module cache
# (downloaded through the module proxy when missing).
go_module_dir() {
  (cd / && "${E2E_GOENV[@]}" go mod download -json "$1") | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p'
}

# Traefik: `go install` refuses modules with replace directives, so the build
# runs inside a writable copy of the unpacked module, with its own go.mod.
traefik_stamp() { echo "traefik $TRAEFIK_VERSION $(go env GOVERSION)"; }
build_traefik() {
  local out="$E2E_BIN/traefik" key src dir start
  key=$(traefik_stamp)
  if stamp_ok "$out.stamp" "$key"; then return 0; fi
  e2e_go_build_needs "$E2E_COLD_DISK_GB"
  log "go build Traefik $TRAEFIK_VERSION inside its module (log $E2E_CACHE/traefik-build.log)"
  start=$(date +%s)
  dir=$(go_module_dir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")
  [ -f "$dir/go.mod" ] || die "go mod download github.com/traefik/traefik/v3@$TRAEFIK_VERSION failed"
  src="$E2E_CACHE/traefik-src"
  rm -rf "$src" "$out" "$out.stamp"; mkdir -p "$out"
  cp -r "$dir" "$src" && chmod -R u+w "$src"
  (cd "$src" && "${E2E_NICE[@]}" "${E2E_GOENV[@]}" go build -p 2 -trimpath \
      -ldflags="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
      -o "$out/traefik" ./cmd/traefik) >"$E2E_CACHE/traefik-build.log" 2>&1 \
    || { tail -n 30 "$E2E_CACHE/traefik-build.log" >&2; rm -rf "$src"; die "go build of Traefik failed"; }
  rm -rf "$src"
  e2e_gocache_note
  echo "$key" >"$out.stamp"
  record "build: Traefik" "$(( $(date +%s) - start )) s"
}

# Gateway API's standard CRDs, from its Go module.
fetch_gateway_api() {
  local out="$E2E_CACHE/gateway-api" dir
  if stamp_ok "$out.stamp" "$GATEWAY_API_VERSION"; then return 0; fi
  dir=$(go_module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
  compgen -G "$dir/config/crd/standard/*.yaml" >/dev/null || die "no standard CRDs in sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
  rm -rf "$out"; mkdir -p "$out"
  cp "$dir"/config/crd/standard/*.yaml "$out/"
  echo "$GATEWAY_API_VERSION" >"$out.stamp"
}

build_pause() {
  local out="$E2E_BIN/pause" key
  key=$(sha256sum "$E2E_DIR/images/pause.c" | cut -c1-16)
  if stamp_ok "$out.stamp" "$key"; then return 0; fi
  command -v gcc >/dev/null 2>&1 || die "gcc is needed for the pause binary (apt-get install gcc libc6-dev)"
  mkdir -p "$out"
  gcc -static -O2 -s -Wall -Wextra -o "$out/pause" "$E2E_DIR/images/pause.c" || die "gcc -static pause.c failed"
  echo "$key" >"$out.stamp"
}

# mkimage NAME REF ARGS...: a one-layer image archive images/NAME.tar, rebuilt
# when its inputs change.
mkimage() {
  local name=$1 ref=$2 key; shift 2
  key=$(printf '%s\n' "$ref" "$@" | cat - "$E2E_DIR/images/mkimage.py" | sha256sum | cut -c1-16)
  if stamp_ok "$E2E_IMAGES/$name.stamp" "$key"; then return 0; fi
  mkdir -p "$E2E_IMAGES"
  /usr/bin/python3 "$E2E_DIR/images/mkimage.py" --name "$ref" --out "$E2E_IMAGES/$name.tar" "$@" >&2 \
    || die "mkimage $name failed"
  echo "$key" >"$E2E_IMAGES/$name.stamp"
}

build_small_images() {
  local bin="$E2E_BIN"
  # The stamp of each binary goes into the key, so a rebuilt binary re-makes its image.
  mkimage pause "$E2E_IMG_PAUSE" --file "/pause=$bin/pause/pause:0755" --entrypoint /pause \
    --user 65535:65535 --env "STAMP=$(cat "$bin/pause.stamp")"
  mkimage coredns "$E2E_IMG_COREDNS" --file "/coredns=$bin/k8s/coredns:0755" --entrypoint /coredns \
    --env "STAMP=$(cat "$bin/k8s.stamp")"
  mkimage metrics-server "$E2E_IMG_METRICS" --file "/metrics-server=$bin/k8s/metrics-server:0755" \
    --entrypoint /metrics-server --user 65534:65534 --dir /tmp:1777 --env "STAMP=$(cat "$bin/k8s.stamp")"
  mkimage traefik "$E2E_IMG_TRAEFIK" --file "/traefik=$bin/traefik/traefik:0755" --entrypoint /traefik \
    --user 65532:65532 --dir /tmp:1777 --env "STAMP=$(cat "$bin/traefik.stamp")"
  # busybox-static with every applet as a symlink: sh, wget, grep, date... for `helm test`.
  local links=() applet
  while read -r applet; do
    [ "$applet" = bin/busybox ] || links+=(--link "/$applet=/bin/busybox")
  done < <("$E2E_BUSYBOX" --list-full)
  mkimage busybox "$E2E_IMG_BUSYBOX" --file "/bin/busybox=$E2E_BUSYBOX:0755" "${links[@]}" \
    --dir /tmp:1777 --cmd sh --env "STAMP=$(cat "$E2E_DEBDIR/busybox-static.stamp")"
}

# ---- images that need docker --------------------------------------------------
E2E_DOCKER_STARTED=0
e2e_docker_up() {
  [ "$E2E_DOCKER_STARTED" = 1 ] && return 0
  # shellcheck source=scripts/docker-env.sh
  . "$E2E_ROOT/scripts/docker-env.sh"
  # 9>&-: a dockerd started here must not inherit run.sh's lock.
  docker_env_up 9>&- || die "no docker engine"
  E2E_DOCKER_STARTED=1
}
e2e_docker_down() {
  [ "$E2E_DOCKER_STARTED" = 1 ] || return 0
  E2E_DOCKER_STARTED=0
  [ -n "$DOCKER_ENV_STARTED_PID" ] || return 0
  # dockerd is shared with other tests on this machine: if someone started
  # containers on the engine this run started, leave it to them.
  if [ -n "$(docker ps -q 2>/dev/null)" ]; then
    log "leaving dockerd (pid $DOCKER_ENV_STARTED_PID) running: other containers use it now"
    return 0
  fi
  docker_env_down   # stops dockerd only if docker_env_up started it
}

# The files the scalecache image is built from (the Dockerfile's context allowlist).
scalecache_image_key() {
  (cd "$E2E_ROOT" && git ls-files -co --exclude-standard -- Dockerfile .dockerignore CMakeLists.txt \
      src config scripts/docker-rootfs.sh scripts/make-base-image.sh | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16
}

build_docker_images() {
  local key
  E2E_IMG_SCALECACHE=$(make -s -C "$E2E_ROOT" --no-print-directory image-name)
  key="redis $(sha256sum <"$E2E_DIR/images/redis.Dockerfile" | cut -c1-16)"
  if ! stamp_ok "$E2E_IMAGES/redis.stamp" "$key"; then
    e2e_docker_up
    (cd "$E2E_ROOT" && scripts/make-base-image.sh) || die "base image failed"
    log "docker build $E2E_IMG_REDIS (Debian's redis-server on the debootstrapped base)"
    docker build --network host --force-rm -q -t "$E2E_IMG_REDIS" -f "$E2E_DIR/images/redis.Dockerfile" \
      "$E2E_DIR/images" >/dev/null || die "redis image build failed"
    docker save -o "$E2E_IMAGES/redis.tar" "$E2E_IMG_REDIS" || die "docker save redis failed"
    echo "$key" >"$E2E_IMAGES/redis.stamp"
  fi
  key="$E2E_IMG_SCALECACHE $(scalecache_image_key)"
  if ! stamp_ok "$E2E_IMAGES/scalecache.stamp" "$key"; then
    e2e_docker_up
    log "make image ($E2E_IMG_SCALECACHE; sources changed since the cached archive)"
    make -s -C "$E2E_ROOT" --no-print-directory image >"$E2E_CACHE/image-build.log" 2>&1 \
      || { tail -n 30 "$E2E_CACHE/image-build.log" >&2; die "make image failed (log: $E2E_CACHE/image-build.log)"; }
    grep '^built ' "$E2E_CACHE/image-build.log" >&2
    docker save -o "$E2E_IMAGES/scalecache.tar" "$E2E_IMG_SCALECACHE" || die "docker save scalecache failed"
    echo "$key" >"$E2E_IMAGES/scalecache.stamp"
  fi
  e2e_docker_down
}

# cache_is_warm: every cached entry a run needs exists and is current (the
# scalecache image may still be rebuilt by `make image` when sources changed).
cache_is_warm() {
  stamp_ok "$E2E_BIN/k8s.stamp" "$(k8s_stamp)" &&
    stamp_ok "$E2E_BIN/traefik.stamp" "$(traefik_stamp)" &&
    stamp_ok "$E2E_CACHE/gateway-api.stamp" "$GATEWAY_API_VERSION" &&
    [ -f "$E2E_BIN/pause.stamp" ] && [ -f "$E2E_IMAGES/redis.stamp" ] &&
    [ -x "$HELM_CACHED" ] &&
    for p in $E2E_DEBS; do [ -f "$E2E_DEBDIR/${p%/*}.stamp" ] || return 1; done
}

build_all() {
  local start; start=$(date +%s)
  build_debs
  host_runtime
  build_pause
  build_k8s
  build_traefik
  fetch_gateway_api
  build_small_images
  build_docker_images
  # The Go build cache only serves the next build, which a changed pin makes
  # mostly cold anyway: the binaries are the cache that matters.
  if [ -d "$E2E_CACHE/go-build" ]; then
    e2e_gocache_note
    record "build: Go build cache at its largest (removed now)" "$E2E_GOCACHE_PEAK"
    rm -rf "$E2E_CACHE/go-build"
  fi
  # helm (pinned by tests/chart/run.sh, shared tool cache).
  eval "$("$E2E_ROOT/tests/chart/run.sh" --tools 2>/dev/null)" || die "tests/chart/run.sh --tools failed"
  [ -x "${HELM:-}" ] || die "no helm from tests/chart/run.sh --tools"
  record "build and cache check" "$(( $(date +%s) - start )) s"
}
