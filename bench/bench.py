#!/usr/bin/env python3
"""fastcached vs redis-server 7, same machine, same run, interleaved.

For each workload, runs redis-benchmark against both servers (fastcached first, then Redis, then
repeats) and reports throughput and server CPU time per request (user+sys of the server process over
the run, from /proc/<pid>/stat, divided by requests), plus RSS growth per key after loading N keys.
Prints a Markdown table with fastcached/redis ratios. Both servers run on loopback ports picked
here and are stopped at the end.

    bench/bench.py [--requests 200000] [--keys 1000000] [--rounds 2] [--quick]
"""
import argparse
import csv
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")


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


class Server:
    def __init__(self, name, argv_fn, logdir):
        self.name = name
        self.port = free_port()
        self.log = open(os.path.join(logdir, name + ".log"), "w")
        self.proc = subprocess.Popen(argv_fn(self.port), stdout=self.log, stderr=self.log)
        wait_ready(self.port, self.proc)

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="small run to check the script")
    a = ap.parse_args()
    if a.quick:
        a.requests, a.keys, a.rounds = 20000, 20000, 1
    fc_bin = os.environ.get("FASTCACHED_BIN", os.path.join(ROOT, "build", "fastcached"))
    logdir = tempfile.mkdtemp(prefix="fc-bench-")
    make = [
        ("fastcached", lambda p: [fc_bin, "--port", str(p), "--bind", "127.0.0.1"]),
        ("redis", lambda p: ["redis-server", "--port", str(p), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"]),
    ]
    workloads = [("get", 1, 3), ("set", 1, 3), ("get", 16, 3), ("set", 16, 3),
                 ("get", 16, 1024), ("set", 16, 1024), ("incr", 16, 3), ("mset", 16, 3)]
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
