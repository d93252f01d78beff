#!/usr/bin/env bash
# make bench: issue 5's matrix, fastcached vs redis-server in the same run (bench.py --matrix:
# CPU per request and throughput at -P 1 / -P 16 with 3-byte and 1 KiB values through loadgen,
# then memory per key; each row marked pass or FAIL against the goal), then namespace
# invalidation, INVALIDATE vs SCAN + UNLINK (bench/invalidate.py, ~35 s), then proxy mode
# (bench/proxy.py). The matrix also runs build/bench/nullserver (--floor), which answers without
# doing any work: beside each row, the lowest CPU per request of the transport here. Every part runs even if an earlier one missed a goal; the exit status says
# whether any did. Extra arguments go to bench.py (e.g. --rounds 3).
set -uo pipefail
cd "$(dirname "$0")/.."
pin=()
[ "$(nproc)" -ge 2 ] && pin=(--pin) # servers on CPU 0, the load generator on CPU 1
status=0
/usr/bin/python3 bench/bench.py --matrix --client loadgen --rounds 5 --floor "${pin[@]}" "$@" || status=1
/usr/bin/python3 bench/invalidate.py || status=1
/usr/bin/python3 bench/proxy.py || status=1
exit $status
