#!/usr/bin/env bash
# Runs the examples against fastcached with each driver (memory, and redis in front of a
# redis-server), each started on a free port by scripts/with-daemon.sh.
# Usage: examples/run.sh path/to/fastcached
set -euo pipefail
bin=${1:-build/fastcached}
here=$(cd "$(dirname "$0")" && pwd)
for driver in memory redis; do
    echo "cache-aside example, driver $driver:"
    "$here/../scripts/with-daemon.sh" "$bin" "$driver" \
        sh -c '/usr/bin/python3 "$0" --port "$FASTCACHED_PORT"' "$here/cache_aside.py"
done
