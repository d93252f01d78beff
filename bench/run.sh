#!/usr/bin/env bash
# make bench: fastcached vs redis-server in the same run (see bench.py for what is measured), then
# namespace invalidation, INVALIDATE vs SCAN + UNLINK (bench/invalidate.py, ~35 s, needs
# build/bench/latency_probe from make bench-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
/usr/bin/python3 bench/bench.py "$@"
exec /usr/bin/python3 bench/invalidate.py
