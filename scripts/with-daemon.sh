#!/usr/bin/env bash
# Runs a command against a fastcached this script starts on a free loopback port, then stops it
# (and, for the redis driver, the upstream redis-server it also started). The port is passed to the
# command as $FASTCACHED_PORT.
#   scripts/with-daemon.sh BIN memory|redis COMMAND...
set -euo pipefail
bin=$(realpath "$1"); driver=$2; shift 2
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() { # readiness poll with a deadline (200 x 50 ms), not a fixed wait
    for _ in $(seq 200); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
    echo "with-daemon: nothing answers on port $1" >&2; return 1
}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
args=()
if [ "$driver" = redis ]; then
    up=$(free_port)
    redis-server --port "$up" --bind 127.0.0.1 --save '' --appendonly no >"$dir/redis.log" 2>&1 &
    pids+=($!)
    wait_ping "$up"
    args=(--driver redis --redis-host 127.0.0.1 --redis-port "$up")
fi
port=$(free_port)
"$bin" --port "$port" --bind 127.0.0.1 "${args[@]}" >"$dir/fastcached.log" 2>&1 &
pids=($! "${pids[@]}")
wait_ping "$port"
FASTCACHED_PORT=$port "$@"
