#!/usr/bin/env bash
# make bench: fastcached vs redis-server in the same run (see bench.py for what is measured).
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/bench.py "$@"
