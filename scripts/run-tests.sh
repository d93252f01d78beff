#!/usr/bin/env bash
# Runs the whole suite against one build directory: unit tests (hermetic), then integration tests
# (they start build/<cfg>/fastcached and a reference redis-server on ports they pick).
# Usage: scripts/run-tests.sh build/release
set -euo pipefail
out=${1:-build/release}
export FASTCACHED_BIN="$PWD/$out/fastcached"
status=0
echo "== unit tests ($out)"
"$out/unit_tests" --jobs 2 || status=1
echo "== integration tests ($out)"
"$out/integration_tests" --jobs 1 || status=1
if [ -d examples ] && [ -x examples/run.sh ]; then
    echo "== examples"
    examples/run.sh "$FASTCACHED_BIN" || status=1
fi
echo "== client libraries (node-redis, ioredis)"
tests/clients/run.sh "$FASTCACHED_BIN" || status=1
exit $status
