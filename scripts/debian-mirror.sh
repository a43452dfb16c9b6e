#!/usr/bin/env bash
# The Debian mirror this machine's apt uses, for scripts that bootstrap or
# download Debian themselves (scripts/make-base-image.sh, tests/e2e/lib/build.sh):
# no mirror host is written into the tree.
#
#   debian-mirror.sh [SUITE]              print the mirror URI serving SUITE
#   debian-mirror.sh --security [SUITE]   print the one serving SUITE-security
# or, sourced: debian_mirror [SUITE], debian_security_mirror [SUITE].
#
# SUITE defaults to this machine's codename (/etc/os-release). The mirror is
# read from apt's sources: /etc/apt/sources.list and sources.list.d/*.list
# (one-line format) and sources.list.d/*.sources (deb822), in that order; the
# first enabled `deb` entry for SUITE wins, else the first for the machine's
# own codename, else the first whose URI ends in /debian. A `mirror+file:`
# URI gives the first mirror its file lists.
# Environment: SCALECACHE_DEBIAN_MIRROR and SCALECACHE_DEBIAN_SECURITY_MIRROR
# override (the security one defaults to .../debian-security beside an
# overridden main mirror); SCALECACHE_APT_ETC reads another /etc/apt (tests).

# _apt_entries: "URI SUITE" for every suite of every enabled deb entry.
_apt_entries() {
  local etc=${SCALECACHE_APT_ETC:-/etc/apt} f
  local list=() deb822=()
  [ -f "$etc/sources.list" ] && list+=("$etc/sources.list")
  for f in "$etc"/sources.list.d/*.list; do [ -f "$f" ] && list+=("$f"); done
  for f in "$etc"/sources.list.d/*.sources; do [ -f "$f" ] && deb822+=("$f"); done
  if [ ${#list[@]} -gt 0 ]; then
    # deb [opt=val ...] URI SUITE [COMPONENT...]
    awk '$1 == "deb" { i = 2
                       if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                       if (i + 1 <= NF) print $i, $(i + 1) }' "${list[@]}"
  fi
  if [ ${#deb822[@]} -gt 0 ]; then
    # Paragraphs of Field: value lines, separated by blank lines; # starts a comment.
    awk 'function flush() {
           if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no" && uris != "") {
             split(uris, u, " "); n = split(suites, s, " ")
             for (k = 1; k <= n; k++) print u[1], s[k]
           }
           types = uris = suites = enabled = ""
         }
         FNR == 1 { flush() }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { line = $0; field = tolower(line); sub(/:.*/, "", field); sub(/^[^:]*:[ \t]*/, "", line)
           if (field == "types") types = line
           else if (field == "uris") uris = line
           else if (field == "suites") suites = line
           else if (field == "enabled") enabled = line }
         END { flush() }' "${deb822[@]}"
  fi
}

_os_codename() { (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}"); }

# _pick SUITE FALLBACK_SUITE: the URI of the first entry for SUITE, else for
# FALLBACK_SUITE, else (when FALLBACK_SUITE has no -security) ending in /debian.
_pick() {
  local entries uri
  entries=$(_apt_entries)
  uri=$(awk -v s="$1" '$2 == s { print $1; exit }' <<<"$entries")
  [ -n "$uri" ] || uri=$(awk -v s="$2" '$2 == s { print $1; exit }' <<<"$entries")
  if [ -z "$uri" ] && [ "${2%-security}" = "$2" ]; then
    uri=$(awk '$1 ~ /\/debian\/?$/ && $2 !~ /-security$/ { print $1; exit }' <<<"$entries")
  fi
  case "$uri" in
    mirror+file:*) uri=$(grep -v -m 1 -E '^[[:space:]]*(#|$)' "${uri#mirror+file:}" 2>/dev/null | awk '{ print $1 }') ;;
  esac
  [ -n "$uri" ] || return 1
  echo "${uri%/}"
}

debian_mirror() {
  local suite=${1:-$(_os_codename)}
  if [ -n "${SCALECACHE_DEBIAN_MIRROR:-}" ]; then echo "${SCALECACHE_DEBIAN_MIRROR%/}"; return 0; fi
  _pick "$suite" "$(_os_codename)" || {
    echo "no Debian mirror for $suite in ${SCALECACHE_APT_ETC:-/etc/apt} sources: set SCALECACHE_DEBIAN_MIRROR" >&2
    return 1
  }
}

debian_security_mirror() {
  local suite=${1:-$(_os_codename)} main
  if [ -n "${SCALECACHE_DEBIAN_SECURITY_MIRROR:-}" ]; then echo "${SCALECACHE_DEBIAN_SECURITY_MIRROR%/}"; return 0; fi
  if [ -z "${SCALECACHE_DEBIAN_MIRROR:-}" ] && _pick "$suite-security" "$(_os_codename)-security"; then return 0; fi
  main=$(debian_mirror "$suite") || return 1
  echo "${main%/debian}/debian-security"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    --security) debian_security_mirror "${2:-}" ;;
    -*) echo "usage: $0 [--security] [SUITE]" >&2; exit 2 ;;
    *) debian_mirror "${1:-}" ;;
  esac
fi
