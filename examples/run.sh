#!/usr/bin/env bash
# Runs the examples against a daemon this script starts on a free port, and stops it.
# Usage: examples/run.sh path/to/fastcached
set -euo pipefail
bin=${1:-build/fastcached}
dir=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --port "$port" --bind 127.0.0.1 >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    # Readiness poll with a deadline (100 x 50 ms), not a fixed wait.
    sleep 0.05
done
/usr/bin/python3 "$(dirname "$0")/cache_aside.py" --port "$port"
