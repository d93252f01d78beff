#!/usr/bin/env python3
"""Instructions per request under callgrind: the noise-free regression figure.

Runs build/fastcached (memory driver, loopback port picked here) under
`valgrind --tool=callgrind`, pre-fills a fixed key space with redis-cli --pipe (every key
redis-benchmark's -r will touch, so GETs hit and no rehash happens later), then for each measured
phase: `callgrind_control --zero`, one redis-benchmark run (-t get or set, -P 16, fixed -n and -r),
`callgrind_control --dump`, and reads the dump's `summary:` Ir. Instructions per request = Ir of
the phase / requests; it includes the phase's fixed costs (accepting the benchmark's connections,
its CONFIG GET at start, cron ticks), which -n makes negligible (< 1% at the defaults).

Phases: GET and SET with one client (-c 1: the same bytes arrive in the same reads every time, so
the count is deterministic), then with 50 clients (-c 50: how requests batch into reads varies
with scheduling, so expect small run-to-run differences). The whole thing is repeated in a fresh
valgrind process (--repeat, default 2) and every repetition is printed with the spread.

    bench/callgrind.py [--requests 200000] [--keys 100000] [--repeat 2] [--size 3]

Needs valgrind (callgrind_control), redis-benchmark and redis-cli in PATH. Takes ~1-2 minutes
at the defaults (valgrind runs fastcached ~50x slower).
"""
import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import fastcached_bin, free_port, pipe_load, wait_ready  # noqa: E402


def callgrind_cmd(pid, *args):
    subprocess.run(["callgrind_control"] + list(args) + [str(pid)],
                   capture_output=True, check=True, timeout=120)


def read_summary(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("no summary line in " + path)


class CallgrindServer:
    def __init__(self, fc_bin, outdir):
        self.outdir = outdir
        self.port = free_port()
        self.log = open(os.path.join(outdir, "valgrind.log"), "w")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind",
             "--callgrind-out-file=" + os.path.join(outdir, "cg.out.%p"),
             fc_bin, "--port", str(self.port), "--bind", "127.0.0.1", "--driver", "memory"],
            stdout=self.log, stderr=self.log)
        wait_ready(self.port, self.proc, deadline=60.0)
        self.dumps = 0

    def measure(self, argv):
        """Ir executed by the server while argv (a client command) runs."""
        callgrind_cmd(self.proc.pid, "--zero")
        subprocess.run(argv, capture_output=True, check=True)
        callgrind_cmd(self.proc.pid, "--dump=phase")
        self.dumps += 1
        path = os.path.join(self.outdir, "cg.out.%d.%d" % (self.proc.pid, self.dumps))
        if not os.path.exists(path):  # callgrind names dumps <file>.<n>
            cands = sorted(glob.glob(os.path.join(self.outdir, "cg.out.%d.*" % self.proc.pid)),
                           key=os.path.getmtime)
            path = cands[-1]
        return read_summary(path)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.log.close()


def bench_argv(port, test, a, clients):
    return ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(a.requests),
            "-P", str(a.pipeline), "-c", str(clients), "-r", str(a.keys), "-d", str(a.size), "-q"]


def one_repetition(fc_bin, a):
    outdir = tempfile.mkdtemp(prefix="fc-callgrind-")
    srv = CallgrindServer(fc_bin, outdir)
    res = {}
    try:
        # redis-benchmark's -r keys are key:NNNNNNNNNNNN (12 digits): load exactly those.
        value = b"x" * a.size
        pipe_load(srv.port, ((b"SET", b"key:%012d" % i, value) for i in range(a.keys)))
        for clients in (1, 50):
            for test in ("get", "set"):
                ir = srv.measure(bench_argv(srv.port, test, a, clients))
                res[(test, clients)] = ir / a.requests
    finally:
        srv.stop()
        if not a.keep:
            shutil.rmtree(outdir, ignore_errors=True)
        else:
            print("callgrind files kept in", outdir)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--size", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the callgrind output files")
    ap.add_argument("--quick", action="store_true", help="small run to check the script")
    a = ap.parse_args()
    if a.quick:
        a.requests, a.keys = 20000, 10000
    fc_bin = fastcached_bin()
    print("callgrind: %s, memory driver; redis-benchmark -n %d -P %d -r %d -d %d; %d fresh runs"
          % (fc_bin, a.requests, a.pipeline, a.keys, a.size, a.repeat))
    runs = [one_repetition(fc_bin, a) for _ in range(a.repeat)]
    print()
    print("| phase | " + " | ".join("run %d Ir/req" % (i + 1) for i in range(a.repeat))
          + " | spread |")
    print("|---|" + "---:|" * a.repeat + "---:|")
    for clients in (1, 50):
        for test in ("get", "set"):
            vals = [r[(test, clients)] for r in runs]
            spread = (max(vals) - min(vals)) / min(vals) * 100
            print("| %s -P %d -c %d | %s | %.2f%% |"
                  % (test.upper(), a.pipeline, clients,
                     " | ".join("%.1f" % v for v in vals), spread))


if __name__ == "__main__":
    sys.exit(main())
