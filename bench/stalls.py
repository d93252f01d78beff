#!/usr/bin/env python3
"""Stalls: how long a concurrent GET client waits while the server drops many keys at once.

For each scenario, a fresh fastcached (memory driver) and a fresh redis-server 7.0.15 are loaded
with N keys through redis-cli --pipe: a:NNNNNNNNNNNN and b:NNNNNNNNNNNN (N/2 each, 3-byte values).
A GET load then runs against b:* (redis-benchmark -c 10 -P 1 'GET b:__rand_int__' -r N/2, in
back-to-back runs of --bench-requests) together with a probe process that sends one GET at a time
on its own connection and times every request. After one second the trigger fires:

  none        nothing (the baseline: what the load alone sees on this machine)
  flushall    FLUSHALL ASYNC
  invalidate  fastcached: INVALIDATE a:* (half the keys); redis: SCAN cursor MATCH a:* COUNT 1000 +
              UNLINK of what it returned, repeated (what a Redis user has to do instead)
  expiry      every key was written with PXAT <one instant>, so all N expire at the same moment
              during the load (a relative PX 1000 would expire them while they are still loading)

Reported per scenario and server: trigger time (round trip of the trigger command on its own
connection; for the SCAN+UNLINK loop the total and the slowest step; for expiry, from the instant
until INFO's expired_keys reaches N), Redis's own server time from INFO commandstats, the probe's
worst latency (and when, relative to the trigger), the probe's request count, and redis-benchmark's
max_latency_ms over its runs. Nothing is enforced: it measures and prints.

    bench/stalls.py [--keys 1000000] [--scenarios none,flushall,invalidate,expiry] [--quick]
    bench/stalls.py --keys 10000000      # the 10M variant (needs a few GiB and a few minutes)
"""
import argparse
import csv
import io
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, pipe_load, resp, server_argvs  # noqa: E402


class Conn:
    """A minimal blocking RESP2 client for the trigger, the probe and polling."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            val, self.buf = self.buf[:n], self.buf[n + 2:]
            return val
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError("bad reply line %r" % line)

    def call(self, *args):
        self.sock.sendall(resp([a if isinstance(a, bytes) else str(a).encode() for a in args]))
        return self._reply()

    def close(self):
        self.sock.close()


def probe(port, half, stop, out):
    """Child process: one GET at a time until stop is set; sends back (count, worst, t_worst)."""
    conn = Conn(port)
    rnd = random.Random(1)
    count, worst, t_worst = 0, 0.0, 0.0
    clock = time.perf_counter
    while not stop.is_set():
        key = b"b:%012d" % rnd.randrange(half)
        t0 = clock()
        conn.call(b"GET", key)
        dt = clock() - t0
        count += 1
        if dt > worst:
            worst, t_worst = dt, time.time() - dt
    conn.close()
    out.send((count, worst, t_worst))


def bench_loop(port, half, requests, stop, runs):
    """Thread: back-to-back redis-benchmark runs until stop; appends max_latency_ms of each."""
    while not stop.is_set():
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "10", "-P", "1",
                              "-n", str(requests), "-r", str(half), "--csv",
                              "GET", "b:__rand_int__"],
                             capture_output=True, text=True, check=True).stdout
        rows = list(csv.reader(io.StringIO(out)))
        runs.append(float(rows[1][7]))


def info_field(conn, section, field):
    for line in conn.call("INFO", section).decode().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return None


def redis_usec(conn):
    """Total usec Redis spent in FLUSHALL, SCAN and UNLINK (INFO commandstats)."""
    total = 0
    text = conn.call("INFO", "commandstats").decode()
    for line in text.splitlines():
        for cmd in ("flushall", "scan", "unlink"):
            if line.startswith("cmdstat_%s:" % cmd):
                total += int(line.split("usec=")[1].split(",")[0])
    return total


def trigger(kind, srv, conn, n, deadline):
    """Fires the trigger; returns (seconds, detail text)."""
    t0 = time.perf_counter()
    if kind == "flushall":
        conn.call("FLUSHALL", "ASYNC")
        return time.perf_counter() - t0, ""
    if kind == "invalidate" and srv.name == "fastcached":
        deleted = conn.call("INVALIDATE", "a:*")
        return time.perf_counter() - t0, "%d deleted" % deleted
    if kind == "invalidate":
        detail = scan_unlink(conn, "a:*")
        return time.perf_counter() - t0, detail
    if kind == "expiry":
        time.sleep(max(0.0, deadline - time.time()))
        return wait_expired(conn, n)
    return 0.0, ""


def scan_unlink_stats(conn, pattern):
    """What a Redis user does instead of INVALIDATE: SCAN MATCH COUNT 1000 + UNLINK until the
    cursor returns to 0. Returns dict(deleted, steps, slowest: the longest SCAN + its UNLINK in
    seconds, rtt: the sum of all round trips in seconds)."""
    cursor, st = b"0", dict(deleted=0, steps=0, slowest=0.0, rtt=0.0)
    while True:
        s0 = time.perf_counter()
        cursor, keys = conn.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
        if keys:
            st["deleted"] += conn.call("UNLINK", *keys)
        step = time.perf_counter() - s0
        st["slowest"] = max(st["slowest"], step)
        st["rtt"] += step
        st["steps"] += 1
        if cursor == b"0":
            return st


def scan_unlink(conn, pattern):
    """scan_unlink_stats as a detail text (keys deleted, steps, slowest step)."""
    st = scan_unlink_stats(conn, pattern)
    return "%d deleted, %d steps, slowest %.2f ms" % (st["deleted"], st["steps"],
                                                      st["slowest"] * 1e3)


def wait_expired(conn, n, limit=60.0):
    """Polls INFO until expired_keys reaches n; returns (seconds waited, detail text)."""
    t0 = time.perf_counter()
    end = t0 + limit
    while time.perf_counter() < end:
        if int(info_field(conn, "stats", "expired_keys")) >= n:
            return time.perf_counter() - t0, "all %d expired" % n
        time.sleep(0.01)  # polling INFO with a deadline
    return time.perf_counter() - t0, "%s of %d expired after %.0f s" % (
        info_field(conn, "stats", "expired_keys"), n, limit)


def load(srv, n, expire_at_ms):
    half = n // 2
    extra = (b"PXAT", b"%d" % expire_at_ms) if expire_at_ms else ()

    def commands():
        for ns in (b"a", b"b"):
            for i in range(half):
                yield (b"SET", b"%s:%012d" % (ns, i), b"val") + extra
    pipe_load(srv.port, commands())


def scenario(kind, name, argv_fn, a, logdir, load_s):
    srv = Server(name + "-" + kind, argv_fn, logdir)
    srv.name = name
    try:
        t_load = time.time()
        deadline = t_load + 2 * load_s.get(name, 5.0) + 2.0 if kind == "expiry" else 0
        load(srv, a.keys, int(deadline * 1000))
        load_s[name] = time.time() - t_load
        if kind == "expiry" and time.time() > deadline - 1.0:
            print("warning: %s loaded too slowly; expiry starts early" % name)
        conn = Conn(srv.port)
        stop_p = multiprocessing.Event()
        rx, tx = multiprocessing.Pipe(duplex=False)
        prober = multiprocessing.Process(target=probe, args=(srv.port, a.keys // 2, stop_p, tx))
        prober.start()
        stop_b = threading.Event()
        runs = []
        bencher = threading.Thread(target=bench_loop,
                                   args=(srv.port, a.keys // 2, a.bench_requests, stop_b, runs))
        bencher.start()
        time.sleep(1.0)
        usec0 = redis_usec(conn) if name == "redis" else 0
        t_trig = time.time() if kind != "expiry" else deadline
        secs, detail = trigger(kind, srv, conn, a.keys, deadline)
        has_usec = name == "redis" and kind in ("flushall", "invalidate")
        usec = redis_usec(conn) - usec0 if has_usec else None
        time.sleep(1.5)
        stop_b.set()
        stop_p.set()
        count, worst, t_worst = rx.recv()
        prober.join()
        bencher.join()
        dbsize = conn.call("DBSIZE")
        conn.close()
    finally:
        srv.stop()
    return dict(kind=kind, name=name, secs=secs, detail=detail, usec=usec, probe_n=count,
                worst=worst, at=t_worst - t_trig, bench_max=max(runs) if runs else float("nan"),
                bench_runs=len(runs), dbsize=dbsize, load_s=load_s[name])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--scenarios", default="none,flushall,invalidate,expiry")
    ap.add_argument("--bench-requests", type=int, default=100000,
                    help="requests per back-to-back redis-benchmark run")
    ap.add_argument("--quick", action="store_true", help="small run to check the script")
    a = ap.parse_args()
    if a.quick:
        a.keys, a.bench_requests = 100000, 20000
    logdir = tempfile.mkdtemp(prefix="fc-stalls-")
    make = server_argvs()
    print("machine: %s, %d cores; %d keys (a:* and b:* halves); GET load on b:*: redis-benchmark"
          " -c 10 -P 1 -n %d back to back + a one-at-a-time probe"
          % (os.uname().machine, os.cpu_count(), a.keys, a.bench_requests))
    print()
    print("| scenario | server | trigger time (ms) | redis usec (commandstats) | detail "
          "| probe worst (ms) | at (s from trigger) | probe GETs | redis-benchmark max (ms) "
          "| keys after |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|")
    load_s = {}
    for kind in a.scenarios.split(","):
        for name, argv_fn in make:
            r = scenario(kind, name, argv_fn, a, logdir, load_s)
            print("| %s | %s | %.2f | %s | %s | %.2f | %+.2f | %d | %.2f | %d |"
                  % (r["kind"], r["name"], r["secs"] * 1e3,
                     "-" if r["usec"] is None else "%d" % r["usec"], r["detail"] or "-",
                     r["worst"] * 1e3, r["at"], r["probe_n"], r["bench_max"], r["dbsize"]),
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
