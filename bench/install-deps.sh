#!/usr/bin/env bash
# Installs the Debian packages `make bench` needs, only those missing.
# Package scripts must not start system-wide nginx, varnish or redis services
# (port 80, 6081, 6379 would then be taken on a shared machine): while apt runs,
# a policy-rc.d that refuses every service start is in place, unless one exists.
set -euo pipefail

packages=(wrk varnish redis-server python3 python3-flask python3-redis gunicorn
          python3-matplotlib libbenchmark-dev libpistache-dev pkg-config g++)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Any nginx flavour will do; nginx-light is the smallest.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "bench: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [ "$made_policy" -eq 1 ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
