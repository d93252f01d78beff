#!/usr/bin/env python3
"""Latency without spikes: the p99.9 of a concurrent GET load while the server does mass work.

Issue 5 asks that rehashing, active expiry, eviction, FLUSHALL and big invalidations never hold
one event-loop turn for more than 1 ms, at 10 million keys. This script measures what a client
sees while each of them runs, on fastcached (memory driver) and redis-server 7 in the same run.

The GET load is build/bench/latency_probe (bench/latency_probe.c, `make bench-tools`): --conns
connections, one GET of a random existing key in flight on each, every request timed with
CLOCK_MONOTONIC; it reports p50 / p99 / p99.9 / max per window (SIGUSR1 cuts a window). Keys are
a:NNNNNNNNNNNN and b:NNNNNNNNNNNN (N/2 each, 3-byte values), loaded from files through
`redis-cli --pipe` (run under nice 10, so the writer yields the CPU to server and probe).

Phases, each on a fresh server, fastcached then Redis (then the next phase, and so on: the
servers are interleaved phase by phase, --rounds times):

  plain   load a:* (N/2 keys), then
          rehash      the probe GETs a:* while b:* (the other N/2) is loaded: the table grows
                      through its last doubling during the window
          baseline    nothing happens for --baseline seconds (what this machine's noise is)
          invalidate  fastcached: INVALIDATE a:* (O(prefix): the subtree is detached and freed
                      by the cron); Redis: SCAN MATCH a:* COUNT 1000 + UNLINK, repeated
                      (stalls.scan_unlink); the probe GETs b:*; the window lasts until used_memory
                      is back near the b:* half's (the background free is done)
          flushall    fastcached: FLUSHALL (its flush is lazy); Redis: FLUSHALL ASYNC; the window
                      lasts until used_memory is back near empty (the background free is done)
  expiry  all N keys written with one PXAT instant; the window runs from that instant until
          INFO expired_keys reaches N
  evict   maxmemory = --evict-fraction of the used_memory the plain phase reached at N keys
          (fastcached: a config file; Redis: CONFIG SET), allkeys-lru, N keys loaded; then a
          writer adds N/10 keys c:* while the probe GETs b:*

Every window also records the server's own view: fastcached's INFO fc_turn_max_us and
fc_turn_over_1ms (the longest event-loop turn, turns over 1 ms) and fc_cron_max_us (the longest
cron tick), reset by CONFIG RESETSTAT before the window; Redis's LATENCY LATEST (latency monitor,
threshold 1 ms, reset before the window). Nothing is enforced: it measures and prints rows as they
come and a markdown table at the end.

    bench/latency.py                  # 10M keys, every scenario, 1 round (~10 min, ~2 GiB)
    bench/latency.py --quick          # 1M keys
    bench/latency.py --scenarios expiry,flushall --rounds 2
    bench/latency.py --servers fastcached      # one server only
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Server, server_argvs  # noqa: E402
from stalls import Conn, info_field, scan_unlink, wait_expired  # noqa: E402

PROBE = os.path.join(ROOT, "build", "bench", "latency_probe")
FAULTLAT = os.path.join(ROOT, "build", "bench", "faultlat")
PLAIN = ("rehash", "baseline", "invalidate", "flushall")
ALL = PLAIN + ("expiry", "evict")
WARMUP_S = 0.5
TAIL_S = 0.5


class Probe:
    """latency_probe on one key range; the first window (warm-up) is cut and dropped here."""

    def __init__(self, port, prefix, keys, conns):
        self.proc = subprocess.Popen([PROBE, "-p", str(port), "-c", str(conns), "-P", prefix,
                                      "-r", str(keys)], stdout=subprocess.PIPE, text=True)
        time.sleep(WARMUP_S)
        self.cut()

    def _window(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("latency_probe exited with %s" % self.proc.wait())
        w = dict(f.split("=", 1) for f in line.split())
        return {k: (v if k == "worst" else float(v)) for k, v in w.items()}

    def cut(self):
        self.proc.send_signal(signal.SIGUSR1)
        return self._window()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        w = self._window()
        self.proc.wait()
        return w


def key_file(path, prefix, lo, hi, pxat=0):
    """Writes SET prefix%012d val [PXAT pxat] for lo <= i < hi as RESP to path."""
    if pxat:
        tail = b"\r\n$3\r\nval\r\n$4\r\nPXAT\r\n$%d\r\n%d\r\n" % (len(b"%d" % pxat), pxat)
        head = b"*5\r\n$3\r\nSET\r\n$%d\r\n" % (len(prefix) + 12)
    else:
        tail = b"\r\n$3\r\nval\r\n"
        head = b"*3\r\n$3\r\nSET\r\n$%d\r\n" % (len(prefix) + 12)
    fmt = head + prefix.encode() + b"%012d" + tail
    with open(path, "wb") as f:
        for start in range(lo, hi, 100000):
            f.write(b"".join(fmt % i for i in range(start, min(hi, start + 100000))))
    return path


def pipe_file(port, path):
    """Feeds path through redis-cli --pipe (nice 10); returns seconds. Raises on any error."""
    t0 = time.monotonic()
    with open(path, "rb") as f:
        out = subprocess.run(["nice", "-n", "10", "redis-cli", "-p", str(port), "--pipe"],
                             stdin=f, capture_output=True, text=True).stdout
    if "errors: 0," not in out:
        raise RuntimeError("redis-cli --pipe: " + out)
    return time.monotonic() - t0


class Ctx:
    """One server of one phase, and what its scenarios share."""

    def __init__(self, a, name, srv, tmp):
        self.a, self.name, self.srv, self.tmp = a, name, srv, tmp
        self.n, self.half = a.keys, a.keys // 2
        self.conn = Conn(srv.port)
        self.mem0 = self.used_memory()
        if name == "redis":
            self.conn.call("CONFIG", "SET", "latency-monitor-threshold", "1")

    def used_memory(self):
        return int(info_field(self.conn, "memory", "used_memory"))

    def reset_server_view(self):
        if self.name == "fastcached":
            self.conn.call("CONFIG", "RESETSTAT")
        else:
            self.conn.call("LATENCY", "RESET")

    def server_view(self):
        """fastcached: the longest cron tick (µs); Redis: latency monitor events >= 1 ms."""
        if self.name == "fastcached":
            def f(k):
                return info_field(self.conn, "stats", k)
            faulted = ""
            if "fc_turn_over_1ms_faulted" in self.conn.call("INFO", "stats").decode():
                faulted = ", %s of them with a page fault" % f("fc_turn_over_1ms_faulted")
            return "turn max %s µs (%s > 1 ms%s), cron max %s µs" % (
                f("fc_turn_max_us"), f("fc_turn_over_1ms"), faulted, f("fc_cron_max_us"))
        events = self.conn.call("LATENCY", "LATEST")
        return ", ".join("%s %d ms" % (e[0].decode(), e[3]) for e in events) or "none >= 1 ms"

    def load(self, prefix, lo, hi, pxat=0):
        path = key_file(os.path.join(self.tmp, "load.resp"), prefix, lo, hi, pxat)
        try:
            return pipe_file(self.srv.port, path)
        finally:
            os.unlink(path)


def measure(ctx, kind, prefix, keys, action):
    """Runs action (returns (seconds, detail, trigger instant or None)) inside one probe window."""
    probe = Probe(ctx.srv.port, prefix, keys, ctx.a.conns)
    try:
        ctx.reset_server_view()
        probe.cut()  # the window starts after the reset
        t_start = time.monotonic_ns()
        secs, detail, t_trig = action()
        time.sleep(TAIL_S)
        w = probe.stop()
    finally:
        if probe.proc.poll() is None:
            probe.proc.kill()
            probe.proc.wait()
    t_trig = t_trig or t_start
    row = dict(kind=kind, name=ctx.name, secs=secs, detail=detail, view=ctx.server_view(), **w)
    row["at"] = (w.get("max_at_ns", t_trig) - t_trig) / 1e9
    return row


def act_baseline(ctx):
    time.sleep(ctx.a.baseline)
    return 0.0, "%.0f s idle" % ctx.a.baseline, None


def wait_memory(ctx, t0, limit):
    """Polls used_memory (deadline 60 s) until it is <= limit or has not dropped for 0.5 s (Redis
    keeps its emptied tables); returns the seconds since t0 of the last drop."""
    end, last_drop, low = t0 + 60, time.monotonic(), ctx.used_memory()
    while time.monotonic() < end and low > limit and time.monotonic() - last_drop < 0.5:
        time.sleep(0.01)  # polling INFO with a deadline
        m = ctx.used_memory()
        if m < low:
            low, last_drop = m, time.monotonic()
    return last_drop - t0


def act_flushall(ctx):
    t0 = time.monotonic()
    ctx.conn.call("FLUSHALL", *(("ASYNC",) if ctx.name == "redis" else ()))
    secs = time.monotonic() - t0
    freed = wait_memory(ctx, t0, ctx.mem0 * 2 + (1 << 20))
    return secs, "memory freed after %.2f s" % freed, None


def act_invalidate(ctx):
    full = ctx.used_memory()
    t0 = time.monotonic()
    if ctx.name == "fastcached":
        detail = "%d deleted" % ctx.conn.call("INVALIDATE", "a:*")
    else:
        detail = scan_unlink(ctx.conn, "a:*")
    secs = time.monotonic() - t0
    freed = wait_memory(ctx, t0, ctx.mem0 + (full - ctx.mem0) * 0.55)
    return secs, "%s; memory freed after %.2f s" % (detail, freed), None


def phase_plain(ctx, kinds, out):
    ctx.load("a:", 0, ctx.half)
    if "rehash" in kinds:
        path = key_file(os.path.join(ctx.tmp, "b.resp"), "b:", 0, ctx.half)
        try:
            out.append(measure(ctx, "rehash", "a:", ctx.half, lambda: (
                pipe_file(ctx.srv.port, path), "%d keys loaded" % ctx.half, None)))
        finally:
            os.unlink(path)
    else:
        ctx.load("b:", 0, ctx.half)
    ctx.a.full_memory[ctx.name] = ctx.used_memory()
    if "baseline" in kinds:
        out.append(measure(ctx, "baseline", "b:", ctx.half, lambda: act_baseline(ctx)))
    if "invalidate" in kinds:
        out.append(measure(ctx, "invalidate", "b:", ctx.half, lambda: act_invalidate(ctx)))
    if "flushall" in kinds:
        ctx.load("a:", 0, ctx.half)  # the invalidation took them
        out.append(measure(ctx, "flushall", "b:", ctx.half, lambda: act_flushall(ctx)))


def phase_expiry(ctx, kinds, out):
    margin = 3.0 + 2 * ctx.a.load_s.get(ctx.name, ctx.n / 2e5)
    deadline = time.time() + margin
    t0 = time.monotonic()
    ctx.load("a:", 0, ctx.half, int(deadline * 1000))
    ctx.load("b:", 0, ctx.half, int(deadline * 1000))
    ctx.a.load_s[ctx.name] = time.monotonic() - t0
    if time.time() > deadline - WARMUP_S - 0.2:
        print("warning: %s loaded too slowly; expiry starts before the window" % ctx.name)

    def action():
        time.sleep(max(0.0, deadline - time.time()))
        t_trig = time.monotonic_ns()
        secs, detail = wait_expired(ctx.conn, ctx.n)
        return secs, detail, t_trig
    out.append(measure(ctx, "expiry", "b:", ctx.half, action))


def phase_evict(ctx, kinds, out):
    if ctx.name == "redis":
        ctx.conn.call("CONFIG", "SET", "maxmemory", ctx.maxmemory)
        ctx.conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    ctx.load("a:", 0, ctx.half)
    ctx.load("b:", 0, ctx.half)
    path = key_file(os.path.join(ctx.tmp, "c.resp"), "c:", 0, ctx.n // 10)

    def action():  # after measure()'s CONFIG RESETSTAT, which zeroes evicted_keys on both
        evicted0 = int(info_field(ctx.conn, "stats", "evicted_keys"))
        secs = pipe_file(ctx.srv.port, path)
        evicted = int(info_field(ctx.conn, "stats", "evicted_keys")) - evicted0
        return secs, "%d keys written, %d evicted (maxmemory %d)" % (
            ctx.n // 10, evicted, ctx.maxmemory), None
    try:
        out.append(measure(ctx, "evict", "b:", ctx.half, action))
    finally:
        os.unlink(path)


def evict_limit(a, name):
    """Bytes of maxmemory: a fraction of what N keys took in the plain phase (or an estimate)."""
    full = a.full_memory.get(name) or a.keys * (80 if name == "fastcached" else 110)
    return int(full * a.evict_fraction)


def run_phase(a, phase, name, argv_fn, tmp, out):
    kinds = [k for k in a.kinds if (k in PLAIN) == (phase == "plain")]
    if phase != "plain" and phase not in kinds:
        return
    maxmemory = evict_limit(a, name) if phase == "evict" else 0
    if maxmemory and name == "fastcached":
        conf = os.path.join(tmp, "evict.conf")
        with open(conf, "w") as f:
            f.write("[cache]\nmaxmemory = %d\nmaxmemory_policy = allkeys-lru\n" % maxmemory)
        fn = argv_fn
        argv_fn = lambda p: fn(p) + ["-c", conf]  # noqa: E731
    srv = Server("%s-%s" % (name, phase), argv_fn, tmp)
    try:
        ctx = Ctx(a, name, srv, tmp)
        ctx.maxmemory = maxmemory
        {"plain": phase_plain, "expiry": phase_expiry, "evict": phase_evict}[phase](
            ctx, kinds, out)
        ctx.conn.close()
    finally:
        srv.stop()


def fmt_row(r, rnd):
    def ms(key):
        return "%.2f" % (r[key] / 1e3) if key in r else "-"
    return "| %s | %s | %d | %s | %s | %d | %.0f | %s | %s | %+.2f | %d | %s |" % (
        r["kind"], r["name"], rnd, "%.1f" % (r["secs"] * 1e3) if r["secs"] else "-",
        r["detail"] or "-", r["n"], r.get("p50_us", 0), ms("p999_us"), ms("max_us"), r["at"],
        r["over_1ms"], r["view"])


HEADER = ("| scenario | server | round | trigger ms | detail | probe GETs | p50 µs | p99.9 ms "
          "| max ms | max at (s from trigger) | GETs > 1 ms | server's view |\n"
          "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=10000000)
    ap.add_argument("--quick", action="store_true", help="1M keys (development)")
    ap.add_argument("--scenarios", default=",".join(ALL))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--conns", type=int, default=4, help="probe connections")
    ap.add_argument("--baseline", type=float, default=3.0, help="seconds of the baseline window")
    ap.add_argument("--evict-fraction", type=float, default=0.8)
    ap.add_argument("--servers", default="fastcached,redis")
    a = ap.parse_args()
    if a.quick:
        a.keys = 1000000
    a.kinds = a.scenarios.split(",")
    unknown = set(a.kinds) - set(ALL)
    if unknown:
        ap.error("unknown scenarios: %s" % ", ".join(sorted(unknown)))
    if not os.access(PROBE, os.X_OK):
        ap.error("%s is missing: run make bench-tools" % PROBE)
    a.full_memory, a.load_s = {}, {}
    make = server_argvs()
    make = [m for m in make if m[0] in a.servers.split(",")]
    tmp = tempfile.mkdtemp(prefix="fc-latency-")
    print("%s, %d cores; %d keys (a:* and b:* halves, 3-byte values); probe: %d connections, "
          "one GET in flight each; logs in %s" % (os.uname().machine, os.cpu_count(), a.keys,
                                                  a.conns, tmp))
    if os.access(FAULTLAT, os.X_OK):  # the machine's own floor: one page fault (README)
        out = subprocess.run([FAULTLAT, "256"], capture_output=True, text=True).stdout
        print("first touch of 256 MiB here: " + out.strip().splitlines()[-1].split(": ", 1)[1])
    print(HEADER, flush=True)
    rows = []
    for rnd in range(1, a.rounds + 1):
        for phase in ("plain", "expiry", "evict"):
            for name, argv_fn in make:
                out = []
                run_phase(a, phase, name, argv_fn, tmp, out)
                for r in out:
                    print(fmt_row(r, rnd), flush=True)
                    rows.append((ALL.index(r["kind"]), r["name"], rnd, r))
    print("\n" + HEADER)
    for _, _, rnd, r in sorted(rows, key=lambda x: x[:3]):
        print(fmt_row(r, rnd))


if __name__ == "__main__":
    sys.exit(main())
