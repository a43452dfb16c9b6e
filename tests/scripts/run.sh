#!/usr/bin/env bash
# Checks of the helper scripts in scripts/ that need no service:
#   debian-mirror.sh   the mirror read from apt sources in both formats
#                      (fixtures under a temporary SCALECACHE_APT_ETC), the
#                      overrides, the error when there is none; and this
#                      machine's own sources give a mirror
# Run by `make test` (target test-scripts).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scalecache-scripts.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
unset SCALECACHE_DEBIAN_MIRROR SCALECACHE_DEBIAN_SECURITY_MIRROR

# shellcheck source=scripts/docker-testlib.sh
. scripts/docker-testlib.sh
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
# uri NAME PATH: a fixture mirror's URI. Its host is under the reserved .test
# domain (RFC 6761) and is never contacted: only the parser reads it.
uri() { echo "http://$1.test/$2"; }

# mirror ETC_DIR ARGS...: scripts/debian-mirror.sh reading ETC_DIR as /etc/apt.
mirror() { local etc=$1; shift; SCALECACHE_APT_ETC="$WORK/$etc" scripts/debian-mirror.sh "$@"; }

checks_log "scripts/debian-mirror.sh"
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || codename=bookworm

# One-line format, with options, a deb-src line and a trailing slash.
mkdir -p "$WORK/oneline/sources.list.d"
cat >"$WORK/oneline/sources.list" <<SRC
# comment
deb-src $(uri src debian) $codename main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(uri one debian/) $codename main
deb $(uri one debian-security) $codename-security main
SRC
check_same "one-line sources.list: main mirror" "$(uri one debian)" mirror oneline
check_same "one-line sources.list: security mirror" "$(uri one debian-security)" mirror oneline --security
check_same "one-line sources.list: another suite falls back to the machine's" "$(uri one debian)" mirror oneline other-suite

# deb822: a third-party repository first, a disabled entry, several URIs and suites.
mkdir -p "$WORK/deb822/sources.list.d"
cat >"$WORK/deb822/sources.list.d/a-vendor.sources" <<SRC
Types: deb
URIs: https://vendor.test/apt
Suites: stable
Components: main
SRC
cat >"$WORK/deb822/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $(uri off debian)
Suites: $codename
Enabled: no

# the real one
Types: deb deb-src
URIs: $(uri two debian) $(uri three debian)
Suites: $codename $codename-updates
Components: main

Types: deb
URIs: $(uri two debian-security)
Suites: $codename-security
Components: main
SRC
touch "$WORK/deb822/sources.list.d/old.list.disabled"
check_same "deb822 .sources: main mirror (enabled, not the vendor's)" "$(uri two debian)" mirror deb822
check_same "deb822 .sources: security mirror" "$(uri two debian-security)" mirror deb822 --security

# mirror+file: and no security entry (derived beside the main mirror).
mkdir -p "$WORK/mirrorfile/sources.list.d"
printf '# mirrors\n%s\tpriority:1\n' "$(uri four debian)" >"$WORK/mirrorfile/mirrors.list"
printf 'Types: deb\nURIs: mirror+file:%s\nSuites: %s\nComponents: main\n' \
  "$WORK/mirrorfile/mirrors.list" "$codename" >"$WORK/mirrorfile/sources.list.d/debian.sources"
check_same "mirror+file: URI gives its first mirror" "$(uri four debian)" mirror mirrorfile
check_same "security mirror derived when there is no entry" "$(uri four debian-security)" mirror mirrorfile --security

# Overrides, and the error without any source.
check_same "SCALECACHE_DEBIAN_MIRROR overrides" "$(uri override debian)" \
  env SCALECACHE_DEBIAN_MIRROR="$(uri override debian/)" SCALECACHE_APT_ETC="$WORK/deb822" scripts/debian-mirror.sh
check_same "SCALECACHE_DEBIAN_MIRROR moves the security mirror too" "$(uri override debian-security)" \
  env SCALECACHE_DEBIAN_MIRROR="$(uri override debian)" SCALECACHE_APT_ETC="$WORK/deb822" scripts/debian-mirror.sh --security
mkdir -p "$WORK/empty"
no_source_error() { ! mirror empty >"$WORK/out.log" 2>&1 && grep -q SCALECACHE_DEBIAN_MIRROR "$WORK/out.log"; }
check "no sources: an error naming SCALECACHE_DEBIAN_MIRROR" no_source_error

# This machine's own apt sources.
got=$(scripts/debian-mirror.sh 2>&1)
check "this machine's apt sources give a mirror: $got" grep -qE '^https?://' <<<"$got"

checks_summary scripts
