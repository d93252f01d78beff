#!/usr/bin/env bash
# Installs the Debian packages fastcached needs to build, test and benchmark, if any is missing.
# Idempotent and quiet when everything is present; uses sudo when not run as root.
set -euo pipefail
pkgs=(build-essential pkg-config libuv1-dev libhiredis-dev libinih-dev libcriterion-dev
      redis-server redis-tools python3 python3-redis clang libclang-rt-14-dev valgrind)
# `deps.sh bench` adds what only the benchmarks need: twemproxy, the proxy baseline.
[ "${1:-}" = bench ] && pkgs+=(nutcracker)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
