#!/usr/bin/env bash
# Make `debian:bookworm-slim` in the local docker engine without a registry.
#
# No container registry is reachable on the project's machines, so the base
# image every Dockerfile here starts FROM is bootstrapped from Debian's own
# packages: debootstrap --variant=minbase bookworm, trimmed the way the
# official slim image is (no docs, man pages or locales; apt lists removed;
# services never started by package installs), then `docker import`ed.
#
# Usage: scripts/make-base-image.sh [--force]
#   --force   rebuild the tarball and re-import even if the image exists
# Environment:
#   SCALECACHE_BASE_IMAGE    tag to create          (default debian:bookworm-slim)
#   SCALECACHE_DEBIAN_MIRROR Debian mirror          (default: the one this machine's apt
#                            uses, scripts/debian-mirror.sh; also SCALECACHE_DEBIAN_SECURITY_MIRROR)
#   SCALECACHE_CACHE_DIR     where the tarball is kept (default ~/.cache/scalecache)
#
# Starts dockerd when it is not running (and leaves it running: the image is
# only useful with an engine). Idempotent: does nothing when the image exists.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/docker-env.sh
. "$here/docker-env.sh"
# shellcheck source=scripts/debian-mirror.sh
. "$here/debian-mirror.sh"

image=${SCALECACHE_BASE_IMAGE:-debian:bookworm-slim}
suite=bookworm
cache_dir=${SCALECACHE_CACHE_DIR:-${HOME:-/root}/.cache/scalecache}
tarball="$cache_dir/debian-$suite-minbase-slim.tar"
force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

log() { printf '[base-image] %s\n' "$*" >&2; }

docker_env_up

if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  log "$image already present; nothing to do"
  exit 0
fi

# Only now (an existing image needs no mirror): from this machine's apt sources.
mirror=$(debian_mirror "$suite")
security_mirror=$(debian_security_mirror "$suite")

rootfs=""
cleanup() {
  [ -n "$rootfs" ] && [ -d "$rootfs" ] || return 0
  # debootstrap mounts proc/sys inside the target; never rm through a mount.
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$rootfs/" | sort -r); do
    as_root umount -l "$m" || true
  done
  as_root rm -rf --one-file-system "$rootfs" || true
}
trap cleanup EXIT

# slim_rootfs DIR: what the official slim image does on top of minbase.
slim_rootfs() {
  local r=$1
  # Package installs in a container must not try to start services.
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 0755 "$r/usr/sbin/policy-rc.d"

  mkdir -p "$r/etc/dpkg/dpkg.cfg.d" "$r/etc/apt/apt.conf.d"
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
# Keep images small: no documentation, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  echo 'APT::Install-Recommends "false";' >"$r/etc/apt/apt.conf.d/docker-no-recommends"

  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

  # Drop what the exclusions above would not have installed.
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$r/usr/share/man/"* "$r/usr/share/info/"* "$r/usr/share/locale/"* \
         "$r/usr/share/groff/"* "$r/usr/share/lintian/"*
  rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin \
         "$r/var/cache/apt/archives/"*.deb "$r/var/cache/debconf/"*-old \
         "$r/var/log/"*.log "$r/var/log/apt/"* "$r/tmp/"* "$r/root/.bash_history"
  # Per-machine identity must not be baked into an image.
  : >"$r/etc/machine-id"
  rm -f "$r/var/lib/dbus/machine-id"
  echo "$suite-container" >"$r/etc/hostname"
}

if [ "$force" = 1 ] || [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null 2>&1 || docker_env_install debootstrap
  mkdir -p "$cache_dir"
  rootfs=$(mktemp -d /var/tmp/scalecache-rootfs.XXXXXX)
  log "debootstrap --variant=minbase $suite from $mirror (about a minute)"
  start=$(date +%s)
  as_root debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" \
    >"$cache_dir/debootstrap.log" 2>&1 || {
      log "debootstrap failed; last lines of $cache_dir/debootstrap.log:"
      tail -n 20 "$cache_dir/debootstrap.log" >&2
      exit 1
    }
  slim_rootfs "$rootfs"
  as_root tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  log "rootfs tarball: $tarball ($(du -h "$tarball" | cut -f1), $(($(date +%s) - start)) s)"
else
  log "using cached rootfs tarball $tarball"
fi

docker import \
  --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL org.opencontainers.image.description="Debian bookworm minbase, bootstrapped locally by scalecache scripts/make-base-image.sh"' \
  --message "debootstrap --variant=minbase $suite $mirror" \
  "$tarball" "$image" >/dev/null
log "imported $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}'))"
