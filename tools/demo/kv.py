#!/usr/bin/env python3
"""kv.py: the demo's redis part and its closing table (run by `tools/run demo`).

  kv.py bench KV_SERVER SUMMARY [REQUESTS]
      start kv_server on a free loopback port, load it with redis-benchmark (SET, then GET:
      REQUESTS each, default 200,000, 50 connections, pipelines of 16) showing its progress,
      and append one line per workload to SUMMARY: name, req/s, p50 ms, p99 ms, server CPU
      µs/request (utime + stime of the server process from /proc/PID/stat, before and after).
  kv.py wrk HTTP_HELLO SUMMARY [SECONDS]
      start docs/examples/http_hello the same way, load it with `wrk -t1 -c100 --latency` for
      SECONDS (default 5), and append its line to SUMMARY.
  kv.py table SUMMARY
      print SUMMARY (this script's lines and demo_net's) as one table.
"""
import os
import re
import select
import signal
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process (fields 14 and 15 of /proc/PID/stat, after the comm)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_server(path, *args, stderr=None):
    """Start kv_server on a free loopback port; wait for its "listening on" line (no sleeps).

    Returns (process, host, port). Also used by test/examples/kv_test.py."""
    p = subprocess.Popen([path, "127.0.0.1:0", *args], stdout=subprocess.PIPE, stderr=stderr)
    line = b""
    deadline = time.monotonic() + 30
    while not line.endswith(b"\n"):  # the first line, however slowly it comes
        r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
        b = os.read(p.stdout.fileno(), 1) if r else b""
        if not b:
            p.kill()
            sys.exit(f"{path} did not print 'listening on ADDR' within 30 s ({line!r}, "
                     f"exit status {p.wait()})")
        line += b
    m = re.match(rb"listening on (\S+):(\d+)\n", line)
    if not m:
        p.kill()
        sys.exit(f"unexpected first line from {path}: {line!r}")
    return p, m.group(1).decode(), int(m.group(2))


def run_benchmark(host, port, test, requests):
    """redis-benchmark for one test, its progress shown; returns (rps, p50, p99) or exits."""
    cmd = ["redis-benchmark", "-h", host, "-p", str(port), "-t", test, "-n", str(requests),
           "-c", "50", "-P", "16"]
    print("  $ " + " ".join(cmd), flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tty = sys.stdout.isatty()
    text, pending, hidden = "", "", False
    while True:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        chunk = chunk.decode(errors="replace")
        text += chunk
        pending += chunk
        # Progress lines end in '\r' (redrawn in place); the report's lines end in '\n'. Show
        # the progress and the report, not its two long latency distributions.
        while True:
            cut = min((i for i in (pending.find("\r"), pending.find("\n")) if i >= 0), default=-1)
            if cut < 0:
                break
            line, end, pending = pending[:cut], pending[cut], pending[cut + 1:]
            stripped = line.strip()
            if stripped.startswith(("Latency by percentile", "Cumulative distribution")):
                hidden = True
            elif stripped.startswith("Summary:"):
                hidden = False
            if hidden or not stripped or "rps=0.0" in stripped:
                continue
            if end == "\r":
                print(("\r  " + stripped.ljust(100)) if tty else "  " + stripped,
                      end="" if tty else "\n", flush=True)
            else:
                print(("\r" if tty else "") + "  " + line.rstrip(), flush=True)
    rc = p.wait()
    if rc != 0 or re.search(r"^(Error|ERR)", text, re.M):
        sys.exit(f"kv.py: redis-benchmark failed (exit {rc})")
    rps = re.search(r"throughput summary: ([\d.]+) requests per second", text)
    lat = re.search(r"avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)"
                    r"\s+([\d.]+)\s+([\d.]+)", text)
    if not rps or not lat:
        sys.exit("kv.py: no summary in redis-benchmark's output")
    return float(rps.group(1)), float(lat.group(3)), float(lat.group(5))


def bench(server_path, summary, requests):
    server, host, port = start_server(server_path)
    print(f"kv_server (pid {server.pid}) listening on {host}:{port}; redis-benchmark is the "
          "client, in its own process on the same cores\n", flush=True)
    try:
        for test in ("set", "get"):
            cpu0 = cpu_seconds(server.pid)
            rps, p50, p99 = run_benchmark(host, port, test, requests)
            cpu = cpu_seconds(server.pid) - cpu0
            with open(summary, "a") as f:
                f.write(f"redis {test.upper()} (P16)\t{rps:.0f}\t{p50:.3f}\t{p99:.3f}\t"
                        f"{cpu * 1e6 / requests:.2f}\n")
            print(flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            sys.exit("kv.py: kv_server did not stop within 10 s of SIGTERM")


def wrk_ms(text, label):
    """A latency figure from wrk's output ("50%  1.23ms"), in milliseconds."""
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        sys.exit(f"kv.py: no {label} latency in wrk's output:\n{text}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def wrk(server_path, summary, seconds):
    """http_hello (docs/examples) under wrk, a client nobody here wrote."""
    server, host, port = start_server(server_path)
    cmd = ["wrk", "-t1", "-c100", f"-d{seconds}s", "--latency", f"http://{host}:{port}/"]
    print(f"http_hello (pid {server.pid}) listening on {host}:{port}\n  $ " + " ".join(cmd),
          flush=True)
    try:
        cpu0 = cpu_seconds(server.pid)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
        cpu = cpu_seconds(server.pid) - cpu0
        print("".join("  " + line + "\n" for line in p.stdout.splitlines()
                      if not line.startswith(("  Latency Distribution", "     ")) or "%" in line),
              end="", flush=True)
        total = re.search(r"^\s*(\d+) requests in", p.stdout, re.M)
        rps = re.search(r"^Requests/sec:\s+([\d.]+)", p.stdout, re.M)
        if p.returncode != 0 or not total or not rps or "Non-2xx" in p.stdout or \
                "Socket errors" in p.stdout:
            sys.exit(f"kv.py: wrk failed (exit {p.returncode}):\n{p.stdout}{p.stderr}")
        n = int(total.group(1))
        with open(summary, "a") as f:
            f.write(f"http_hello (wrk -c100)\t{float(rps.group(1)):.0f}\t"
                    f"{wrk_ms(p.stdout, '50%'):.3f}\t{wrk_ms(p.stdout, '99%'):.3f}\t"
                    f"{cpu * 1e6 / n:.2f}\n")
        print(flush=True)
    finally:
        server.kill()
        server.wait()


def table(summary):
    rows = [line.rstrip("\n").split("\t") for line in open(summary) if line.strip()]
    width = max([len("workload")] + [len(r[0]) for r in rows])
    print(f"  {'workload':<{width}} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'server CPU us/req':>18}")
    for name, rps, p50, p99, cpu in rows:
        print(f"  {name:<{width}} {int(float(rps)):>10,} {float(p50):>8.3f} {float(p99):>8.3f} "
              f"{float(cpu):>18.2f}")
    print("\n  latency: redis rows as redis-benchmark measures it (16 requests share a round trip);"
          "\n  http_hello: wrk's (a request per round trip, 100 connections)."
          "\n  echo/http rows from demo_net's client fibers, one request per round trip."
          "\n  CPU: utime + stime of the server process alone, divided by its requests.")


def main():
    a = sys.argv[1:]
    if len(a) in (3, 4) and a[0] == "bench":
        bench(a[1], a[2], int(a[3]) if len(a) == 4 else 200000)
    elif len(a) in (3, 4) and a[0] == "wrk":
        wrk(a[1], a[2], int(a[3]) if len(a) == 4 else 5)
    elif len(a) == 2 and a[0] == "table":
        table(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
