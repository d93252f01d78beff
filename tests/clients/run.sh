#!/usr/bin/env bash
# Installs the pinned client libraries (npm registry) if needed, then runs the node:test suite
# against fastcached with each driver (memory; redis in front of a redis-server), each started on
# a free port by scripts/with-daemon.sh. Usage: tests/clients/run.sh BIN
set -euo pipefail
bin=$(realpath "${1:-build/fastcached}")
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if ! command -v node >/dev/null; then
    echo "clients: node is not installed; installing Debian's nodejs"
    apt-get install -y -qq nodejs npm >/dev/null
fi
[ -d node_modules/ioredis5 ] || npm ci --no-audit --no-fund --silent
for driver in memory redis; do
    echo "client libraries, driver $driver:"
    "$here/../../scripts/with-daemon.sh" "$bin" "$driver" node --test clients.test.mjs
done
