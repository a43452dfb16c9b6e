#!/usr/bin/env bash
# The project version lives in one place: `project(scalecache VERSION x.y.z)`
# in CMakeLists.txt. The binary gets it at build time (generated version.hpp:
# the HTTP origin's User-Agent); the image tag reads it (mk/image.mk). The
# files below cannot read CMake, so they carry a copy that this script writes
# and checks:
#   charts/scalecache/Chart.yaml                  appVersion
#   charts/scalecache/ci/everything-on-values.yaml image.tag
#   compose.yaml                                  image: scalecache:<version>
#   k8s/base/*.yaml                               image: scalecache:<version>, app.kubernetes.io/version
#
# Usage: scripts/version.sh           print the project version
#        scripts/version.sh --check   list every copy; exit 1 if one differs
#        scripts/version.sh --sync    rewrite every copy to the project version
# (Bump: edit CMakeLists.txt, run --sync, commit. tests/version/check.sh runs --check.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=$(sed -nE 's/^project\(scalecache VERSION ([0-9]+\.[0-9]+\.[0-9]+)[ )].*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo 'scripts/version.sh: no "project(scalecache VERSION x.y.z" line in CMakeLists.txt' >&2; exit 1; }

V='[0-9A-Za-z.+-]+'
# Each copy: FILES|PREFIX|SUFFIX: a glob, and extended regexes for what
# stands before and after the version on its lines (at least one line).
copies=(
  'charts/scalecache/Chart.yaml|appVersion: "?|"?'
  'charts/scalecache/ci/everything-on-values.yaml|  tag: |'
  'compose.yaml| *image: scalecache:|( .*)?'
  'k8s/base/*.yaml| *image: scalecache:|'
  'k8s/base/*.yaml| *app\.kubernetes\.io/version: |'
)

# line_re COPY: sets files (an array) and re (groups: 1 prefix, 2 version, 3 suffix).
line_re() {
  local rest=${1#*|}
  read -ra files <<<"${1%%|*}"
  # shellcheck disable=SC2206  # the glob is meant to expand
  files=(${files[0]})
  re="^(${rest%%|*})($V)(${rest#*|})\$"
}

case "${1:-}" in
  "") echo "$version" ;;
  --check)
    bad=0
    for c in "${copies[@]}"; do
      line_re "$c"
      mapfile -t seen < <(grep -HE "$re" "${files[@]}" | sed -E "s#^([^:]+):${re#^}#\\1: \\3#")
      [ ${#seen[@]} -gt 0 ] || { echo "MISSING  ${files[*]}: no line matches $re"; bad=1; }
      for v in "${seen[@]}"; do
        if [ "${v##*: }" = "$version" ]; then echo "ok       $v"; else echo "DIFFERS  $v (project $version)"; bad=1; fi
      done
    done
    [ "$bad" = 0 ] || { echo "run scripts/version.sh --sync (the project version is in CMakeLists.txt)"; exit 1; } ;;
  --sync)
    for c in "${copies[@]}"; do
      line_re "$c"
      sed -i -E "s#$re#\\1$version\\3#" "${files[@]}"
    done
    "$0" --check >/dev/null && echo "every copy now says $version" ;;
  *) echo "usage: $0 [--check|--sync]" >&2; exit 2 ;;
esac
