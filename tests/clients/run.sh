#!/usr/bin/env bash
# Installs the pinned client libraries (npm registry) if needed, starts the daemon on a free port,
# runs the node:test suite against it, and stops the daemon. Usage: tests/clients/run.sh BIN
set -euo pipefail
bin=$(realpath "${1:-build/fastcached}")
cd "$(dirname "$0")"
if ! command -v node >/dev/null; then
    echo "clients: node is not installed; installing Debian's nodejs"
    apt-get install -y -qq nodejs npm >/dev/null
fi
[ -d node_modules/ioredis5 ] || npm ci --no-audit --no-fund --silent
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$bin" --port "$port" --bind 127.0.0.1 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05 # readiness poll with a deadline, not a fixed wait
done
FASTCACHED_PORT=$port node --test clients.test.mjs
