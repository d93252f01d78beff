#!/usr/bin/env python3
"""fastcached vs redis-server 7, same machine, same run, interleaved.

For each workload, runs redis-benchmark against both servers (fastcached first, then Redis, then
repeats) and reports throughput and server CPU time per request (user+sys of the server process over
the run, from /proc/<pid>/stat, divided by requests), plus RSS growth per key after loading N keys.
Prints a Markdown table with fastcached/redis ratios. Both servers run on loopback ports picked
here and are stopped at the end.

    bench/bench.py [--requests 200000] [--keys 1000000] [--rounds 2] [--quick]

--matrix runs issue 5's matrix instead: GET and SET, -P 1 and -P 16, -c 50, 3-byte and 1 KiB
values over a 1M-key keyspace loaded with exactly the keys redis-benchmark's -r touches, servers
interleaved (the order alternates each round), median of --rounds (default 3): the ratios checked
against the goals are the medians of each round's fastcached/redis ratio. CPU there is the
on-CPU time of all the server's threads from /proc/<pid>/task/*/schedstat (nanoseconds, user+sys),
so no 10 ms tick error; runs are sized so each is still >= ~2 s of server CPU. Each row is checked
against the goals: CPU/request <= 0.6x redis at -P 16 and <= 0.8x at -P 1; throughput >= 1.6x
at -P 16.

    bench/bench.py --matrix [--rounds 3] [--keys 1000000] [--p1-requests 400000]
                            [--p16-requests 3000000] [--client redis-benchmark|loadgen|both]
                            [--pin] [--sizes 3,1024] [--rows get-1,set-1,get-16,set-16]
                            [--quick]

--pin runs both servers on CPU 0 and the load generator on CPU 1 (the same for both servers):
on a 2-core machine the scheduler otherwise moves them between the cores during a run, which
changes each run's CPU per request by up to ~20% (seen here). --sizes and --rows run part of the
matrix (to iterate on one row); the published table is the whole matrix.

--floor adds a third server to the matrix: build/bench/nullserver (bench/nullserver.c), which
parses every request and answers it without storing anything, with the same I/O pattern as the
other two (level-triggered epoll, recv, replies sent after the batch). Its CPU per request is the
floor of this transport on this machine; its ratio to Redis, printed beside each row, is the
lowest CPU ratio any server doing its I/O this way could reach there.

--client loadgen drives the matrix with build/bench/loadgen (bench/loadgen.c) instead of
redis-benchmark, whose single thread can be the bottleneck at -P 16 on a 2-core machine shared
with the server; "both" runs each workload with each client and prints one table per client.
Every table also shows the client's CPU time / wall time (1.00 = one core busy).
"""
import argparse
import csv
import io
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")


def fastcached_bin():
    """The daemon under test: $FASTCACHED_BIN, else build/fastcached."""
    return os.environ.get("FASTCACHED_BIN", os.path.join(ROOT, "build", "fastcached"))


def server_argvs():
    """The pair every side-by-side benchmark runs, as (name, argv for a port): fastcached with the
    memory driver, redis-server without persistence."""
    fc_bin = fastcached_bin()
    return [
        ("fastcached", lambda p: [fc_bin, "--port", str(p), "--bind", "127.0.0.1",
                                  "--driver", "memory"]),
        ("redis", lambda p: ["redis-server", "--port", str(p), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"]),
    ]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, proc, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.02)  # readiness poll with a deadline
    raise RuntimeError("server not ready on port %d" % port)


def pinned(cpu):
    """A preexec_fn that binds the child to one CPU (None: no binding)."""
    return None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))


class Server:
    def __init__(self, name, argv_fn, logdir, cpu=None):
        self.name = name
        self.port = free_port()
        self.log = open(os.path.join(logdir, name + ".log"), "w")
        self.proc = subprocess.Popen(argv_fn(self.port), stdout=self.log, stderr=self.log,
                                     preexec_fn=pinned(cpu))
        wait_ready(self.port, self.proc)

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime

    def cpu_ns(self):
        """On-CPU nanoseconds of all threads (first field of each task's schedstat)."""
        total = 0
        taskdir = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(taskdir):
            try:
                with open(os.path.join(taskdir, tid, "schedstat")) as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                pass  # a thread that exited between listdir and open
        return total

    def rss_bytes(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, check=True).stdout

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self.log.close()


def run_benchmark(srv, test, requests, pipeline, size, keyspace, clients=50):
    cmd = ["redis-benchmark", "-p", str(srv.port), "-t", test, "-n", str(requests),
           "-P", str(pipeline), "-c", str(clients), "-d", str(size), "--csv"]
    if keyspace:
        cmd += ["-r", str(keyspace)]
    cpu0 = srv.cpu_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = srv.cpu_seconds() - cpu0
    rows = list(csv.reader(io.StringIO(out)))
    rps = float(rows[1][1])
    return rps, cpu * 1e6 / requests


def load_keys(srv, n, ttl):
    """Loads n keys of ~10 bytes with ~10-byte values through redis-cli --pipe."""
    lines = []
    for i in range(n):
        k = "key:%06d" % (i % 1000000) if n <= 1000000 else "k:%d" % i
        v = "val:%06d" % (i % 1000000)
        if ttl:
            lines.append("*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$5\r\n86400\r\n"
                         % (len(k), k, len(v), v))
        else:
            lines.append("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    data = "".join(lines).encode()
    subprocess.run(["redis-cli", "-p", str(srv.port), "--pipe"], input=data,
                   capture_output=True, check=True)


def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for x in args:
        out.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(out)


def pipe_load(port, commands, chunk=20000):
    """Streams commands (an iterable of argument tuples of bytes) through redis-cli --pipe;
    raises unless every reply was a success."""
    p = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = []
    for cmd in commands:
        buf.append(resp(cmd))
        if len(buf) >= chunk:
            p.stdin.write(b"".join(buf))
            buf = []
    p.stdin.write(b"".join(buf))
    p.stdin.close()
    out = p.stdout.read().decode()
    if p.wait() != 0 or "errors: 0," not in out:
        raise RuntimeError("redis-cli --pipe: " + out)


def memory_per_key(make, n, ttl, logdir):
    result = {}
    for name, argv_fn in make:
        srv = Server(name + ("-ttl" if ttl else "") + "-mem", argv_fn, logdir)
        try:
            before = srv.rss_bytes()
            load_keys(srv, n, ttl)
            assert int(srv.cli("dbsize")) == n
            result[name] = (srv.rss_bytes() - before) / n
        finally:
            srv.stop()
    return result


MATRIX = [("get", 1), ("set", 1), ("get", 16), ("set", 16)]
GOALS = {1: (0.8, None), 16: (0.6, 1.6)}  # pipeline -> (max CPU ratio, min rps ratio)
MEMORY_GOALS = {False: 0.6, True: 0.5}  # TTL on every key -> max ratio of RSS growth per key


LOADGEN = os.path.join(ROOT, "build", "bench", "loadgen")
NULLSERVER = os.path.join(ROOT, "build", "bench", "nullserver")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def matrix_run(srv, test, requests, pipeline, size, keyspace, client="redis-benchmark",
               client_cpu=None):
    """One run; returns (rps, server ns CPU/request, server CPU s, client CPU s / wall s)."""
    if client == "loadgen":
        cmd = [LOADGEN, "-p", str(srv.port), "-t", test, "-n", str(requests),
               "-P", str(pipeline), "-c", "50", "-d", str(size), "-r", str(keyspace), "--csv"]
    else:
        cmd = ["redis-benchmark", "-p", str(srv.port), "-t", test, "-n", str(requests),
               "-P", str(pipeline), "-c", "50", "-d", str(size), "-r", str(keyspace), "--csv"]
    ns0, c0, t0 = srv.cpu_ns(), children_cpu(), time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         preexec_fn=pinned(client_cpu)).stdout
    ns, wall = srv.cpu_ns() - ns0, time.time() - t0
    client_share = (children_cpu() - c0) / wall
    if client == "loadgen":
        rps = float(out.strip().split(",")[0])  # loadgen exits non-zero on any error reply
    else:
        rps = float(list(csv.reader(io.StringIO(out)))[1][1])
    return rps, ns / requests, ns / 1e9, client_share


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def run_matrix(a, make, logdir):
    sizes = a.sizes
    rows = [(t, p) for t, p in MATRIX if a.rows is None or "%s-%d" % (t, p) in a.rows]
    clients = ["redis-benchmark", "loadgen"] if a.client == "both" else [a.client]
    if "loadgen" in clients and not os.path.exists(LOADGEN):
        raise SystemExit("bench.py: %s is missing: make bench-tools" % LOADGEN)
    print("matrix: %s -c 50 -r %d, -P 1 -n %d, -P 16 -n %d; %d rounds interleaved"
          " (median); CPU from schedstat" % (" and ".join(clients), a.keys, a.p1_requests,
                                             a.p16_requests, a.rounds))
    print("load average before: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    server_cpu, client_cpu = (0, 1) if a.pin else (None, None)
    if a.pin:
        print("pinned: both servers on CPU 0, the load generator on CPU 1")
    if a.floor:  # the transport's floor: answers without doing any work (bench/nullserver.c)
        if not os.path.exists(NULLSERVER):
            raise SystemExit("bench.py: %s is missing: make bench-tools" % NULLSERVER)
        make = make + [("nullserver", lambda p: [NULLSERVER, "--port", str(p)])]
    servers = [Server(n, f, logdir, server_cpu) for n, f in make]
    results = {}
    min_cpu_s = float("inf")
    try:
        for size in sizes:
            value = b"x" * size
            for srv in servers:  # exactly the keys of -r, so every GET hits
                pipe_load(srv.port, ((b"SET", b"key:%012d" % i, value) for i in range(a.keys)))
            for rnd in range(a.rounds):
                order = servers if rnd % 2 == 0 else servers[::-1]
                for test, pipe in rows:
                    n = a.p1_requests if pipe == 1 else a.p16_requests
                    for client in clients:
                        for srv in order:
                            r = matrix_run(srv, test, n, pipe, size, a.keys, client,
                                           client_cpu)
                            if a.each:
                                print("round %d %s %s -P %d %d B %s: %.0f rps, %.0f ns CPU/req"
                                      % (rnd + 1, client, test.upper(), pipe, size, srv.name,
                                         r[0], r[1]), flush=True)
                            min_cpu_s = min(min_cpu_s, r[2])
                            results.setdefault((client, test, pipe, size, srv.name),
                                               []).append(r)
    finally:
        for srv in servers:
            srv.stop()
    print("load average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    print("shortest run: %.2f s of server CPU" % min_cpu_s)
    failed = sum(print_matrix(client, sizes, rows, results) for client in clients)
    if a.rows is None and a.sizes == [3, 1024]:  # the whole matrix: memory per key too
        failed += print_memory(a.keys, make[:2], logdir)
    return 1 if failed else 0


def print_memory(n, make, logdir):
    """Issue 5's memory goals: RSS growth per key after loading n keys, without and with a TTL
    on every key; returns the number of goals missed."""
    print()
    print("| memory per key (%d keys) | fastcached | redis | ratio (goal) | result |" % n)
    print("|---|---:|---:|---:|---|")
    failed = 0
    for ttl in (False, True):
        mem = memory_per_key(make, n, ttl, logdir)
        ratio, goal = mem["fastcached"] / mem["redis"], MEMORY_GOALS[ttl]
        failed += ratio > goal
        print("| %s TTL | %.1f B | %.1f B | %.2f (<= %.1f) | %s |"
              % ("with" if ttl else "without", mem["fastcached"], mem["redis"], ratio, goal,
                 "pass" if ratio <= goal else "FAIL"))
    return failed


def paired(fc, rd, field):
    """The median of each round's fastcached/redis ratio: the two runs of a round are adjacent in
    time, so a slow stretch of the machine moves both sides of the ratio (a ratio of the two
    servers' medians can pair a fast-stretch run of one with a slow-stretch run of the other)."""
    return median(f[field] / r[field] for f, r in zip(fc, rd))


def print_matrix(client, sizes, rows, results):
    """One table per client; 'client CPU' is the load generator's CPU time / wall time (1.00 =
    one core busy: the client, not the server, may then set the throughput). The ratios checked
    against the goals are medians of per-round ratios (paired); the ratio of the medians is
    printed beside them."""
    print()
    print("client: %s" % client)
    print()
    floor = any(k[0] == client and k[4] == "nullserver" for k in results)
    print("| workload | fastcached rps | redis rps | rps ratio (goal) | fastcached ns CPU/req"
          " | redis ns CPU/req | CPU ratio (goal) | ratio of medians | client CPU (fc / redis)"
          " | result |" + (" null server ns CPU/req (ratio to redis) |" if floor else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|" + ("---:|" if floor else ""))
    failed = 0
    for size in sizes:
        for test, pipe in rows:
            fc = results[(client, test, pipe, size, "fastcached")]
            rd = results[(client, test, pipe, size, "redis")]
            f_rps, r_rps = median(r[0] for r in fc), median(r[0] for r in rd)
            f_cpu, r_cpu = median(r[1] for r in fc), median(r[1] for r in rd)
            f_cl, r_cl = median(r[3] for r in fc), median(r[3] for r in rd)
            cpu_goal, rps_goal = GOALS[pipe]
            cpu_ratio, rps_ratio = paired(fc, rd, 1), paired(fc, rd, 0)
            ok = cpu_ratio <= cpu_goal and (rps_goal is None or rps_ratio >= rps_goal)
            failed += not ok
            null = ""
            if floor:
                n_cpu = median(r[1] for r in results[(client, test, pipe, size, "nullserver")])
                null = " %.0f (%.2f) |" % (n_cpu, n_cpu / r_cpu)
            print("| %s -P %d, %s | %.0f | %.0f | %.2f (%s) | %.0f | %.0f | %.3f (<= %.1f) "
                  "| %.3f | %.2f / %.2f | %s |%s"
                  % (test.upper(), pipe, "1 KiB" if size == 1024 else "%d B" % size,
                     f_rps, r_rps, rps_ratio,
                     ">= %.1f" % rps_goal if rps_goal else "-",
                     f_cpu, r_cpu, cpu_ratio, cpu_goal, f_cpu / r_cpu, f_cl, r_cl,
                     "pass" if ok else "FAIL", null))
    print()
    print("%s: %d of %d rows meet the goals" % (client, len(sizes) * len(rows) - failed,
                                                 len(sizes) * len(rows)))
    if floor:
        print_paired(client, sizes, rows, results)
    return failed


def print_paired(client, sizes, rows, results):
    """Each round's CPU ratios, from the runs of one round (adjacent in time, so a slow stretch
    of the machine moves both sides of a ratio): fastcached and the null server to Redis, and
    fastcached to the null server (its CPU above the transport's floor)."""
    print()
    print("CPU ratios per round (fastcached/redis; nullserver/redis; fastcached/nullserver):")
    for size in sizes:
        for test, pipe in rows:
            cpu = {n: [r[1] for r in results[(client, test, pipe, size, n)]]
                   for n in ("fastcached", "redis", "nullserver")}
            pairs = [("fastcached", "redis"), ("nullserver", "redis"), ("fastcached", "nullserver")]
            parts = ["; ".join(" ".join("%.3f" % (x / y) for x, y in zip(cpu[a], cpu[b]))
                               for a, b in pairs)]
            print("  %s -P %d, %s: %s" % (test.upper(), pipe,
                                          "1 KiB" if size == 1024 else "%d B" % size, parts[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=None, help="default 2, or 3 with --matrix")
    ap.add_argument("--matrix", action="store_true", help="issue 5's matrix with pass/fail")
    ap.add_argument("--p1-requests", type=int, default=400000, help="--matrix, per -P 1 run")
    ap.add_argument("--p16-requests", type=int, default=3000000, help="--matrix, per -P 16 run")
    ap.add_argument("--client", choices=["redis-benchmark", "loadgen", "both"],
                    default="redis-benchmark",
                    help="--matrix: the load generator (loadgen: build/bench/loadgen, built by"
                         " make bench-tools)")
    ap.add_argument("--quick", action="store_true", help="small run to check the script")
    ap.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[3, 1024],
                    help="--matrix: value sizes (default 3,1024)")
    ap.add_argument("--rows", type=lambda v: v.split(","), default=None,
                    help="--matrix: a subset of get-1,set-1,get-16,set-16 (default all)")
    ap.add_argument("--each", action="store_true", help="--matrix: print every run as it ends")
    ap.add_argument("--floor", action="store_true",
                    help="--matrix: also run build/bench/nullserver, which answers without doing"
                         " any work: the lowest CPU per request of this transport here")
    ap.add_argument("--pin", action="store_true",
                    help="--matrix: run both servers on CPU 0 and the load generator on CPU 1")
    a = ap.parse_args()
    if a.rounds is None:
        a.rounds = 3 if a.matrix else 2
    if a.quick:
        a.requests, a.keys, a.rounds = 20000, 20000, 1
        a.p1_requests, a.p16_requests = 20000, 100000
    logdir = tempfile.mkdtemp(prefix="fc-bench-")
    make = server_argvs()
    workloads = [("get", 1, 3), ("set", 1, 3), ("get", 16, 3), ("set", 16, 3),
                 ("get", 16, 1024), ("set", 16, 1024), ("incr", 16, 3), ("mset", 16, 3)]
    if a.rows and set(a.rows) - {"%s-%d" % r for r in MATRIX}:
        ap.error("--rows: each of get-1, set-1, get-16, set-16")
    if a.pin and os.cpu_count() < 2:
        ap.error("--pin needs two CPUs (the servers on 0, the load generator on 1)")
    if a.matrix:
        print("machine: %s, %d cores" % (os.uname().machine, os.cpu_count()))
        return run_matrix(a, make, logdir)
    print("machine: %s, %d cores; redis-benchmark -c 50 -n %d, keyspace %d, %d rounds interleaved"
          % (os.uname().machine, os.cpu_count(), a.requests, a.keys, a.rounds))
    servers = [Server(n, f, logdir) for n, f in make]
    results = {}
    try:
        for srv in servers:  # warm the keyspace so GETs hit
            run_benchmark(srv, "set", a.keys, 16, 3, a.keys)
        for _ in range(a.rounds):
            for test, pipe, size in workloads:
                for srv in servers:
                    r = run_benchmark(srv, test, a.requests, pipe, size, a.keys)
                    results.setdefault((test, pipe, size, srv.name), []).append(r)
    finally:
        for srv in servers:
            srv.stop()
    print()
    print("| workload | fastcached rps | redis rps | rps ratio | fc µs CPU/req | redis µs CPU/req | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for test, pipe, size in workloads:
        fc = results[(test, pipe, size, "fastcached")]
        rd = results[(test, pipe, size, "redis")]
        f_rps = max(r[0] for r in fc)
        r_rps = max(r[0] for r in rd)
        f_cpu = min(r[1] for r in fc)
        r_cpu = min(r[1] for r in rd)
        print("| %s -P %d %dB | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |"
              % (test.upper(), pipe, size, f_rps, r_rps, f_rps / r_rps, f_cpu, r_cpu, f_cpu / r_cpu))
    print()
    for ttl in (False, True):
        mem = memory_per_key(make, a.keys, ttl, logdir)
        print("memory per key, %d keys %s TTL: fastcached %.0f B, redis %.0f B, ratio %.2f"
              % (a.keys, "with" if ttl else "without", mem["fastcached"], mem["redis"],
                 mem["fastcached"] / mem["redis"]))


if __name__ == "__main__":
    sys.exit(main())
