#!/usr/bin/env bash
# Assemble the runtime root filesystem of the scalecache image (run inside the
# Dockerfile's build stage): the stripped binary, exactly the shared libraries
# ldd reports for it (with the symlinks that lead to them), the config, and the
# few files a dynamically linked glibc program and libcurl read at run time.
# The result is copied into a `scratch` stage: no shell, no package manager.
#
# Usage: docker-rootfs.sh BINARY CONFIG OUTDIR
set -euo pipefail

bin=$1 config=$2 out=$3
uid=65532

mkdir -p "$out"

# copy_path PATH: copy PATH into $out, reproducing every symlink on the way
# (Debian 12 has a merged /usr: /lib and /lib64 are symlinks into /usr).
copy_path() {
  local path=$1 prefix="" part target
  local -a parts
  IFS=/ read -r -a parts <<<"${path#/}"
  for part in "${parts[@]}"; do
    prefix="$prefix/$part"
    if [ -L "$prefix" ]; then
      if [ ! -L "$out$prefix" ]; then
        mkdir -p "$out$(dirname "$prefix")"
        cp -P "$prefix" "$out$prefix"
      fi
      target=$(readlink "$prefix")
      case "$target" in
        /*) copy_path "$target" ;;
        *) copy_path "$(dirname "$prefix")/$target" ;;
      esac
      # Whatever follows lives under the resolved directory; continue there.
      copy_path "$(readlink -f "$prefix")${path#"$prefix"}"
      return
    fi
  done
  if [ -d "$path" ]; then
    mkdir -p "$out$path"
  elif [ ! -e "$out$path" ]; then
    mkdir -p "$out$(dirname "$path")"
    cp -p "$path" "$out$path"
  fi
}

install -D -m 0755 "$bin" "$out/usr/local/bin/scalecache"
strip --strip-unneeded "$out/usr/local/bin/scalecache"
install -D -m 0444 "$config" "$out/etc/scalecache/scalecache.yaml"

# The program interpreter and every library the binary needs, transitively.
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
for f in $interp $libs; do
  copy_path "$f"
done

# ld.so cache for the copied libraries (so lookups never depend on built-in paths).
libdirs=$(for f in $libs; do dirname "$(readlink -f "$f")"; done | sort -u)
mkdir -p "$out/etc"
echo "$libdirs" >"$out/etc/ld.so.conf"
ldconfig -r "$out"

# Package metadata and licences of what was copied, the way distroless images
# carry them, so image scanners can see the Debian package versions.
# (dpkg knows a file by the path its package ships, before or after /usr merging.)
pkgs=$(for f in $interp $libs; do
         dpkg -S "$(readlink -f "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || true
       done | cut -d: -f1 | sort -u)
mkdir -p "$out/var/lib/dpkg/status.d"
for p in $pkgs ca-certificates; do
  # The Conffiles field (with its continuation lines) describes files not copied.
  dpkg -s "$p" | awk '/^[^ ]/ { skip = /^Conffiles:/ } !skip' >"$out/var/lib/dpkg/status.d/$p"
  if [ -f "/usr/share/doc/$p/copyright" ]; then
    install -D -m 0444 "/usr/share/doc/$p/copyright" "$out/usr/share/doc/$p/copyright"
  fi
done

# TLS roots for an https origin (libcurl's default bundle path on Debian).
install -D -m 0444 /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"

# Name service: only files and DNS; the numeric non-root user exists by name too.
cat >"$out/etc/nsswitch.conf" <<EOF
passwd: files
group:  files
hosts:  files dns
EOF
cat >"$out/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:$uid:$uid:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$out/etc/group" <<EOF
root:x:0:
nonroot:x:$uid:
EOF
install -d -m 0700 -o "$uid" -g "$uid" "$out/home/nonroot"
install -d -m 1777 "$out/tmp"

echo "runtime rootfs: $(du -sh "$out" | cut -f1) in $(find "$out" -type f | wc -l) files; packages: $(echo "$pkgs" | wc -w)"
