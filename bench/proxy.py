#!/usr/bin/env python3
"""Proxy benchmark: fastcached (driver = redis) vs twemproxy (nutcracker), same upstream, same run.

Starts one redis-server, then fastcached in proxy mode and nutcracker, both in front of it on
loopback ports picked here, and runs redis-benchmark GET and SET at -P 1 and -P 16 through each,
interleaved, plus directly against redis-server for reference. Prints a Markdown table with the
fastcached/twemproxy throughput ratio. Everything started here is stopped at the end.

    bench/proxy.py [--requests 200000] [--rounds 2] [--quick]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, fastcached_bin, free_port, run_benchmark, wait_ready  # noqa: E402


class Nutcracker(Server):
    def __init__(self, upstream_port, logdir):
        self.name = "twemproxy"
        self.port = free_port()
        conf = os.path.join(logdir, "nutcracker.yml")
        with open(conf, "w") as f:
            f.write("alpha:\n  listen: 127.0.0.1:%d\n  hash: fnv1a_64\n  distribution: ketama\n"
                    "  redis: true\n  auto_eject_hosts: false\n  server_connections: 2\n"
                    "  servers:\n   - 127.0.0.1:%d:1\n" % (self.port, upstream_port))
        self.log = open(os.path.join(logdir, "nutcracker.log"), "w")
        self.proc = subprocess.Popen(["nutcracker", "-c", conf, "-s", str(free_port()),
                                      "-o", os.path.join(logdir, "nc.out")],
                                     stdout=self.log, stderr=self.log)
        wait_ready(self.port, self.proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.requests, a.rounds = 20000, 1
    fc_bin = fastcached_bin()
    logdir = tempfile.mkdtemp(prefix="fc-proxy-bench-")
    upstream = Server("redis", lambda p: ["redis-server", "--port", str(p), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no"], logdir)
    servers = []
    try:
        fc = Server("fastcached", lambda p: [fc_bin, "--port", str(p), "--bind", "127.0.0.1",
                                             "--driver", "redis", "--redis-host", "127.0.0.1",
                                             "--redis-port", str(upstream.port)], logdir)
        servers = [fc, Nutcracker(upstream.port, logdir)]
        workloads = [("get", 1), ("set", 1), ("get", 16), ("set", 16)]
        results = {}
        for _ in range(a.rounds):
            for test, pipe in workloads:
                for srv in servers + [upstream]:
                    rps, _ = run_benchmark(srv, test, a.requests, pipe, 3, 100000)
                    results.setdefault((test, pipe, srv.name), []).append(rps)
        print("redis-benchmark -c 50 -n %d -r 100000 -d 3, %d rounds, best round; "
              "one redis-server 7.0.15 upstream" % (a.requests, a.rounds))
        print()
        print("| workload | fastcached (proxy) rps | twemproxy rps | ratio | redis direct rps |")
        print("|---|---:|---:|---:|---:|")
        for test, pipe in workloads:
            f = max(results[(test, pipe, "fastcached")])
            t = max(results[(test, pipe, "twemproxy")])
            d = max(results[(test, pipe, "redis")])
            print("| %s -P %d | %.0f | %.0f | %.2f | %.0f |" % (test.upper(), pipe, f, t, f / t, d))
    finally:
        for srv in servers + [upstream]:
            srv.stop()


if __name__ == "__main__":
    sys.exit(main())
