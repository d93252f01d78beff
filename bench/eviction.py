#!/usr/bin/env python3
"""fastcached eviction: memory bound and hit rate.

1. Bound: starts fastcached with --maxmemory (default 4mb) and a policy, writes 10x that in
   random keys (pipelined SETs of 100-byte values) and reports RSS growth, INFO used_memory and
   evicted_keys against maxmemory.

2. Hit rate: a Zipf(0.99) trace over --keys keys, the cache sized to hold about 10% of them.
   Each request is a read-through: GET, and SET on a miss. Requests go in batches of --batch
   (all GETs of a batch, then the SETs of its misses); an exact-LRU simulation in Python with the
   same batch semantics and the capacity the daemon reached (DBSIZE at the end) gives the
   reference hit rate. Reports both and the difference in points.

    bench/eviction.py [--maxmemory 4mb] [--policy allkeys-lru] [--keys 100000]
                      [--requests 1000000] [--batch 100] [--seed 1]
"""
import argparse
import bisect
import collections
import os
import random
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    """A minimal pipelining RESP2 client."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, cmds):
        out = []
        for args in cmds:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(1 << 20)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 20)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError("bad reply %r" % line)

    def call(self, *args):
        self.send([args])
        return self.reply()


def start(maxmemory, policy):
    port = free_port()
    binary = os.path.join(ROOT, "build", "release", "fastcached")
    p = subprocess.Popen([binary, "--port", str(port), "--maxmemory", maxmemory,
                          "--maxmemory-policy", policy], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    end = time.time() + 10
    while True:
        try:
            c = Conn(port)
            if c.call("PING") == "PONG":
                return p, c
        except OSError:
            if time.time() > end or p.poll() is not None:
                raise RuntimeError("fastcached did not start")
            time.sleep(0.05)  # readiness poll with a deadline


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def info(c, field):
    text = c.call("INFO").decode()
    for line in text.split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return None


def parse_size(s):
    units = {"kb": 1024, "mb": 1 << 20, "gb": 1 << 30, "k": 1000, "m": 10**6, "g": 10**9}
    for u in sorted(units, key=len, reverse=True):
        if s.lower().endswith(u):
            return int(s[:-len(u)]) * units[u]
    return int(s)


def bound(args):
    limit = parse_size(args.maxmemory)
    p, c = start(args.maxmemory, args.policy)
    try:
        base = rss_kb(p.pid)
        val = b"v" * 100
        rng = random.Random(args.seed)
        n, errors = 10 * limit // len(val), 0
        for done in range(0, n, 1000):
            batch = min(1000, n - done)
            c.send([("SET", "key:%d" % rng.getrandbits(48), val) for _ in range(batch)])
            errors += sum(1 for _ in range(batch) if str(c.reply()).startswith("OOM"))
        grown = rss_kb(p.pid) - base
        used = int(info(c, "used_memory"))
        print("## Bound: %s, maxmemory %d bytes, %d MB written in %d random keys" %
              (args.policy, limit, n * len(val) >> 20, n))
        print("| measure | value |\n|---|---|")
        print("| used_memory | %d (%.2f x maxmemory) |" % (used, used / limit))
        print("| RSS growth | %d KB (%.2f x maxmemory) |" % (grown, grown * 1024 / limit))
        print("| evicted_keys | %s |" % info(c, "evicted_keys"))
        print("| keys held | %d |" % c.call("DBSIZE"))
        print("| OOM replies | %d |" % errors)
    finally:
        p.terminate()
        p.wait()


def zipf_cdf(n, s):
    acc, cdf = 0.0, []
    for i in range(1, n + 1):
        acc += 1.0 / i ** s
        cdf.append(acc)
    return [x / acc for x in cdf]


def exact_lru(trace, batch, capacity):
    cache, hits = collections.OrderedDict(), 0
    for b in range(0, len(trace), batch):
        misses = []
        for k in trace[b:b + batch]:
            if k in cache:
                cache.move_to_end(k)
                hits += 1
            else:
                misses.append(k)
        for k in misses:
            cache[k] = True
            cache.move_to_end(k)
            if len(cache) > capacity:
                cache.popitem(last=False)
    return hits


def hit_rate(args):
    rng = random.Random(args.seed)
    cdf = zipf_cdf(args.keys, 0.99)
    trace = [bisect.bisect_left(cdf, rng.random()) for _ in range(args.requests)]
    val = b"x" * 100
    # Size the cache: bytes per key measured on a daemon without a limit.
    p, c = start("0", "noeviction")
    try:
        before = int(info(c, "used_memory"))
        for b in range(0, args.keys, 1000):
            c.send([("SET", "k:%d" % k, val) for k in range(b, min(b + 1000, args.keys))])
            for _ in range(min(1000, args.keys - b)):
                c.reply()
        per_key = (int(info(c, "used_memory")) - before) / args.keys
    finally:
        p.terminate()
        p.wait()
    limit = int(per_key * args.keys * 0.10)
    p, c = start(str(limit), args.policy)
    try:
        hits, t0 = 0, time.time()
        for b in range(0, len(trace), args.batch):
            keys = trace[b:b + args.batch]
            c.send([("GET", "k:%d" % k) for k in keys])
            misses = [k for k in keys if c.reply() is None]
            hits += len(keys) - len(misses)
            if misses:
                c.send([("SET", "k:%d" % k, val) for k in misses])
                for _ in misses:
                    c.reply()
        secs = time.time() - t0
        capacity = c.call("DBSIZE")
        evicted = info(c, "evicted_keys")
    finally:
        p.terminate()
        p.wait()
    ref = exact_lru(trace, args.batch, capacity)
    ours, exact = 100.0 * hits / len(trace), 100.0 * ref / len(trace)
    print("## Hit rate: Zipf(0.99), %d keys, %d requests, cache of %d keys (%.1f%%), %s" %
          (args.keys, args.requests, capacity, 100.0 * capacity / args.keys, args.policy))
    print("| measure | value |\n|---|---|")
    print("| maxmemory | %d bytes (%.1f bytes/key measured) |" % (limit, per_key))
    print("| fastcached %s hit rate | %.2f%% |" % (args.policy, ours))
    print("| exact LRU (Python, same capacity) | %.2f%% |" % exact)
    print("| difference | %+.2f points |" % (ours - exact))
    print("| evicted_keys | %s |" % evicted)
    print("| trace time | %.1f s |" % secs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--maxmemory", default="4mb")
    ap.add_argument("--policy", default="allkeys-lru")
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-bound", action="store_true")
    ap.add_argument("--skip-hit-rate", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(ROOT, "build", "release", "fastcached")):
        sys.exit("build first: make")
    if not args.skip_bound:
        bound(args)
    if not args.skip_hit_rate:
        hit_rate(args)


if __name__ == "__main__":
    main()
