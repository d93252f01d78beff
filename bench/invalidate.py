#!/usr/bin/env python3
"""Namespace invalidation: INVALIDATE on fastcached vs SCAN MATCH + UNLINK on Redis, same run.

Issue 5 asks for INVALIDATE of a prefix in O(1) with an exact count. This script loads 1,000,000
keys (~10-byte values) into a fresh fastcached (memory driver) and a fresh redis-server 7, both
running at once, and invalidates namespaces of different sizes while build/bench/latency_probe
(bench/latency_probe.c, `make bench-tools`) keeps one GET of a random rest:* key in flight on
each of --conns connections. Cases, in this order, each run on fastcached and on Redis before
the next (the order of the two alternates by round):

  baseline rest:* x 499,000, big:* x 500,000 and small:* x 1,000 loaded; 1 s of nothing (the
          probe's noise floor on this machine)
  small   INVALIDATE small:*                                          (1,000 keys)
  big     INVALIDATE big:*                                            (500,000 keys)
  glob    u:N:a and u:N:b x 250,000 each loaded; INVALIDATE u:*:b     (250,000 of 500,000 keys
          under u:, so fastcached walks them as a background job)
  expired exp:* x 250,000 loaded, the even ones with one PXAT instant; the call is sent 20 ms
          after it, so some keys below the prefix have expired and fastcached finishes the count
          in the background before it replies (the deferred path)    (125,000 live keys)

Redis does each case as a client has to: SCAN cursor MATCH pattern COUNT 1000 + UNLINK of what
it returned, until the cursor is 0 (stalls.scan_unlink_stats). Every keyspace stays near 1M keys.

Reported per case and server (one probe window each, latency.measure):
  deleted      the reply (Redis: the sum of UNLINK's replies); asserted equal to the keys live
  server ms    fastcached: the round trip of INVALIDATE on its own idle connection (it has no
               INFO commandstats; an upper bound of the server's time); Redis: INFO commandstats
               usec of its SCAN and UNLINK calls
  trips ms     fastcached: the same round trip; Redis: the sum of the SCAN/UNLINK round trips
  wall ms      from the first byte sent to the last reply
  memory ms    from the call until INFO used_memory was within 5% of where it settled (it has
               not fallen for 0.5 s); fastcached frees detached keys in the cron, <= 1 ms steps,
               Redis's UNLINK frees small strings at once
  freed MB     how far used_memory fell from just before the call
  p99.9, max   the probe's GETs in the window (from just before the call, or the wait for the
               PXAT instant, to ~1 s after the memory is back), and when the slowest started
               relative to the call
  server view  fastcached: INFO fc_cron_max_us (longest cron tick); Redis: LATENCY LATEST (>= 1 ms)

    bench/invalidate.py [--rounds 1] [--conns 4] [--quick]
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, pipe_load, server_argvs  # noqa: E402
from latency import PROBE, Ctx, measure  # noqa: E402
from stalls import Conn, redis_usec, scan_unlink_stats  # noqa: E402

VALUE = b"0123456789"
QUIET_S = 0.5        # used_memory has settled when it has not fallen for this long
SETTLED = 0.05       # memory is "back" within this share of the drop from where it settled
MEMORY_LIMIT_S = 60.0
EXPIRED_AFTER_S = 0.02
BASELINE_S = 1.0


def keys(fmt, n, step=1, extra=()):
    """SET commands for fmt % i, 0 <= i < n."""
    return ((b"SET", fmt % i, VALUE) + extra for i in range(0, n, step))


def load(ctx, commands):
    """Loads through redis-cli --pipe; remembers how long it took in ctx.load_s."""
    t0 = time.monotonic()
    pipe_load(ctx.srv.port, commands)
    ctx.load_s = time.monotonic() - t0


def wait_memory(ctx, t0, before):
    """Polls used_memory until it has not fallen for QUIET_S. Returns (seconds from t0 until it
    was within SETTLED of where it ended, bytes freed since `before`), or (None, ..) at the limit.
    (A threshold from the memory the keys took when loaded would not do: Redis keeps the calling
    connection's buffers for the largest UNLINK, and its table does not shrink.)"""
    samples, low, last_drop = [], before, time.monotonic()
    while time.monotonic() - t0 < MEMORY_LIMIT_S:
        m, now = ctx.used_memory(), time.monotonic()
        samples.append((now - t0, m))
        if m < low - 4096:
            low, last_drop = m, now
        elif now - last_drop > QUIET_S:
            break
        time.sleep(0.002)  # polling INFO with a deadline
    else:
        return None, before - low
    end = min(m for _, m in samples)
    back = next(t for t, m in samples if m - end <= SETTLED * max(0, before - end))
    return back, before - end


def idle(ctx):
    """The baseline's action: nothing for BASELINE_S (the machine's noise floor)."""
    time.sleep(BASELINE_S)
    ctx.res = dict(deleted=0, server=0.0, trips=0.0, wall=0.0, steps=0, mem_s=0.0, freed=0.0)
    return BASELINE_S, "idle", None


def invalidate(ctx, pattern, expected, at=None):
    """The measured action: the call (at wall-clock instant `at` if given), then the wait for the
    memory. Fills ctx.res; returns (seconds, detail, trigger instant) for latency.measure."""
    before = ctx.used_memory()
    usec0 = redis_usec(ctx.call) if ctx.name == "redis" else 0
    if at:
        time.sleep(max(0.0, at - time.time()))
    t_trig = time.monotonic_ns()
    t0 = time.monotonic()
    if ctx.name == "fastcached":
        deleted = ctx.call.call("INVALIDATE", pattern)
        wall = trips = time.monotonic() - t0
        server, steps = wall, 1
    else:
        st = scan_unlink_stats(ctx.call, pattern)
        wall = time.monotonic() - t0
        deleted, trips, steps = st["deleted"], st["rtt"], st["steps"]
    mem_s, freed = wait_memory(ctx, t0, before)
    if ctx.name == "redis":
        server = (redis_usec(ctx.call) - usec0) / 1e6
    if deleted != expected:
        raise AssertionError("%s %s: %d deleted, expected %d" % (ctx.name, pattern, deleted,
                                                                 expected))
    ctx.res = dict(deleted=deleted, server=server, trips=trips, wall=wall, steps=steps,
                   mem_s=mem_s, freed=freed)
    return wall, "%s: %d deleted" % (pattern, deleted), t_trig


def prepare(ctx, case, a):
    """Loads what the case needs; returns (pattern, expected count, send instant or None)."""
    n = a.keys
    if case == "baseline":
        load(ctx, keys(b"rest:%012d", n - n // 2 - n // 1000))
        load(ctx, keys(b"big:%012d", n // 2))
        load(ctx, keys(b"small:%012d", n // 1000))
        assert ctx.conn.call("DBSIZE") == n
        return None, 0, None
    if case == "small":
        return "small:*", n // 1000, None
    if case == "big":
        return "big:*", n // 2, None
    if case == "glob":
        half = n // 4
        load(ctx, (c for i in range(half) for c in (
            (b"SET", b"u:%012d:a" % i, VALUE), (b"SET", b"u:%012d:b" % i, VALUE))))
        return "u:*:b", half, None
    quarter = n // 4  # expired: the even half of exp:* share one PXAT instant
    at = time.time() + 1.5 + 2 * ctx.load_s * quarter / (n // 2)
    load(ctx, (c for i in range(quarter) for c in (
        (b"SET", b"exp:%012d" % i, VALUE, b"PXAT", b"%d" % int(at * 1000)) if i % 2 == 0
        else (b"SET", b"exp:%012d" % i, VALUE, b"EX", b"86400"),)))
    if time.time() > at - 0.6:
        print("warning: %s loaded too slowly; keys expire before the window" % ctx.name)
    return "exp:*", quarter - (quarter + 1) // 2, at + EXPIRED_AFTER_S


CASES = ("baseline", "small", "big", "glob", "expired")


def run_round(a, make, rnd, tmp, rows):
    ctxs = []
    try:
        for name, argv_fn in make:
            srv = Server("%s-%d" % (name, rnd), argv_fn, tmp)
            ctx = Ctx(a, name, srv, tmp)
            ctx.call = Conn(srv.port)
            ctxs.append(ctx)
        order = ctxs if rnd % 2 == 1 else ctxs[::-1]
        for case in CASES:
            for ctx in order:
                pattern, expected, at = prepare(ctx, case, a)
                row = measure(ctx, case, "rest:", a.keys - a.keys // 2 - a.keys // 1000,
                              lambda: invalidate(ctx, pattern, expected, at) if pattern
                              else idle(ctx))
                row.update(ctx.res, round=rnd, pattern=pattern)
                rows.append(row)
                print(fmt_row(row), flush=True)
    finally:
        for ctx in ctxs:
            ctx.call.close()
            ctx.conn.close()
            ctx.srv.stop()


HEADER = ("| case | server | round | deleted | server ms | trips ms | wall ms | steps "
          "| memory ms | freed MB | probe GETs | p99.9 ms | max ms | max at s | server's view |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")


def fmt_row(r):
    mem = "%.1f" % (r["mem_s"] * 1e3) if r["mem_s"] is not None else "> %.0f s" % MEMORY_LIMIT_S
    cells = ["%s `%s`" % (r["kind"], r["pattern"]) if r["pattern"] else r["kind"], r["name"], "%d" % r["round"],
             "%d" % r["deleted"], "%.3f" % (r["server"] * 1e3), "%.3f" % (r["trips"] * 1e3),
             "%.3f" % (r["wall"] * 1e3), "%d" % r["steps"], mem, "%.2f" % (r["freed"] / 1e6),
             "%d" % r["n"], "%.2f" % (r["p999_us"] / 1e3), "%.2f" % (r["max_us"] / 1e3),
             "%+.2f" % r["at"], r["view"]]
    return "| " + " | ".join(cells) + " |"


def span(rows, fmt, fn):
    lo, hi = min(fn(r) for r in rows), max(fn(r) for r in rows)
    return fmt % lo if fmt % lo == fmt % hi else (fmt + "–" + fmt) % (lo, hi)


def summary(rows):
    """One line per case and server: the range over the rounds."""
    print("\n| case | server | deleted | call ms (fastcached: round trip; Redis: server usec / "
          "wall) | memory back ms | probe p99.9 ms | probe max ms | server's view: cron max µs "
          "(Redis: LATENCY LATEST max ms) |\n|---|---|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        for name in ("fastcached", "redis"):
            rs = [r for r in rows if r["kind"] == case and r["name"] == name]
            if not rs:
                continue
            call = span(rs, "%.3f", lambda r: r["wall"] * 1e3)
            if name == "redis":
                call = "%s / %s" % (span(rs, "%.0f", lambda r: r["server"] * 1e3),
                                    span(rs, "%.0f", lambda r: r["wall"] * 1e3))
            print("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                rs[0]["kind"] + (" `%s`" % rs[0]["pattern"] if rs[0]["pattern"] else ""), name,
                rs[0]["deleted"], call if case != "baseline" else "-",
                span(rs, "%.1f", lambda r: (r["mem_s"] or MEMORY_LIMIT_S) * 1e3)
                if case != "baseline" else "-",
                span(rs, "%.2f", lambda r: r["p999_us"] / 1e3),
                span(rs, "%.1f", lambda r: r["max_us"] / 1e3),
                span(rs, "%d", lambda r: view_max(r["view"]))))


def view_max(view):
    """The largest number in a server's view text (cron max µs; Redis's worst event, ms)."""
    nums = [int(w) for w in view.replace("(", " ").split() if w.isdigit()]
    if "cron max" in view:
        return int(view.split("cron max ")[1].split()[0])
    return max(nums) if nums else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--conns", type=int, default=4, help="probe connections")
    ap.add_argument("--quick", action="store_true", help="100k keys (checks the script)")
    a = ap.parse_args()
    if a.quick:
        a.keys = 100000
    if not os.access(PROBE, os.X_OK):
        ap.error("%s is missing: run make bench-tools" % PROBE)
    make = server_argvs()
    tmp = tempfile.mkdtemp(prefix="fc-invalidate-")
    print("%s, %d cores; %d keys, %d-byte values; probe: %d connections on rest:*, one GET in "
          "flight each; load average %s; logs in %s"
          % (os.uname().machine, os.cpu_count(), a.keys, len(VALUE), a.conns,
             " ".join("%.2f" % x for x in os.getloadavg()), tmp))
    print(HEADER, flush=True)
    rows = []
    for rnd in range(1, a.rounds + 1):
        run_round(a, make, rnd, tmp, rows)
    print("\nload average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    print("\n" + HEADER)
    for r in sorted(rows, key=lambda r: (CASES.index(r["kind"]), r["name"], r["round"])):
        print(fmt_row(r))
    summary(rows)


if __name__ == "__main__":
    sys.exit(main())
