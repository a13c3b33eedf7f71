#!/usr/bin/env python3
"""Run one network benchmark: one server against one load generator; print its result lines.

Usage:
  netbench.py --workload echo|http|idle [--conns N] [--idle N] [--seconds S]
              [--client PATH] -- SERVER_COMMAND...

The server (tools/bench/net_echo_server.cpp, go/echo_server, epoll_echo_server.cpp: each
prints `listening HOST:PORT` first) is started pinned to CPU 0 with `taskset -c 0`, the load
generator pinned to CPU 1 (on a machine with fewer than 2 CPUs neither is pinned). Workloads:

  echo  tools/bench/go/echo_client (--client) with --conns connections sending 64-byte messages,
        0.5 s warm-up, then --seconds measured. Prints rps (round trips/s), cpu (server CPU µs
        per round trip) and p99 (round-trip latency µs).
  http  `wrk -t1 -c<conns> -d<seconds>s --latency` on GET /. Prints rps, cpu and p99.
  idle  the echo client with --idle idle connections (one round trip each, then silent) and
        --conns active ones. Prints rss (server RSS bytes per idle connection) and p99 (the
        active connections' latency µs).

Server CPU is utime+stime of the server process (all its threads) from /proc/<pid>/stat. For
echo and idle it is read when the client prints `warm` and `done`, the bounds of the window its
round trips are counted in, so the warm-up and the connection set-up are left out. wrk has no
warm-up and no such signal: for http it is read just before wrk starts and just after it exits,
and divided by every request wrk counted (100 connects in 3 s: a negligible share). Server
memory is VmRSS from /proc/<pid>/status after the server accepted its first (probe) connection
and again once the client says its idle connections each made their round trip.

Each result is a `name=<metric> value=<number> unit=<unit>` line, as tools/bench/compare.py
reads them (several lines: a row each). Exits non-zero, after killing the server, on any
failure or timeout; never leaves a process behind.
"""
import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def fail(msg):
    sys.exit(f"netbench.py: {msg}")


def cpu_us(pid):
    """utime + stime of process pid (every thread, dead ones too), in µs."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_US  # fields 14 and 15 of proc(5)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    fail(f"no VmRSS in /proc/{pid}/status")


class Lines:
    """Lines of a child's stdout, each waited for with a deadline."""

    def __init__(self, proc, what):
        self.proc, self.what, self.buf = proc, what, b""

    def next(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"{self.what}: no output line within {timeout:.0f} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    fail(f"{self.what}: exited (status {self.proc.wait()}) before its next line;"
                         f" output so far: {self.buf.decode(errors='replace')!r}")
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode().strip()


def pinned(cpu, cmd):
    return ["taskset", "-c", str(cpu), *cmd] if os.cpu_count() >= 2 else cmd


def wait_accepting(addr, timeout=5.0):
    """Connect once to addr (the server's first connection), then close."""
    host, _, port = addr.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
            return
        except OSError as e:
            if time.monotonic() > deadline:
                fail(f"the server at {addr} does not accept: {e}")
            time.sleep(0.05)


def run_echo(args, server, addr):
    """The echo and idle workloads: returns [(name, value, unit), ...]."""
    cmd = [args.client, "-addr", addr, "-conns", str(args.conns), "-size", "64",
           "-warmup", "500ms", "-duration", f"{args.seconds}s"]
    if args.workload == "idle":
        cmd += ["-idle", str(args.idle)]
        rss0 = rss_bytes(server.pid)
    client = subprocess.Popen(pinned(1, cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        out = Lines(client, "echo_client")
        out_rows = []
        if args.workload == "idle":
            line = out.next(60)
            if line != f"idle {args.idle}":
                fail(f"echo_client said {line!r}, expected 'idle {args.idle}'")
            rss1 = rss_bytes(server.pid)
            out_rows.append(("rss", (rss1 - rss0) / args.idle, "B/conn"))
            client.stdin.write(b"go\n")
            client.stdin.flush()
        line = out.next(30)
        if line != "warm":
            fail(f"echo_client said {line!r}, expected 'warm'")
        c0 = cpu_us(server.pid)
        line = out.next(args.seconds + 30)
        c1 = cpu_us(server.pid)
        if line != "done":
            fail(f"echo_client said {line!r}, expected 'done'")
        line = out.next(60)
        m = re.fullmatch(r"result requests=(\d+) seconds=(\S+) rps=(\S+) p50_us=(\S+) p99_us=(\S+)",
                         line)
        if not m:
            fail(f"echo_client said {line!r}, expected its result line")
        if client.wait(timeout=30) != 0:
            fail(f"echo_client exited with status {client.returncode}")
        requests = int(m.group(1))
        if args.workload == "echo":
            out_rows += [("rps", float(m.group(3)), "req/s"),
                         ("cpu", (c1 - c0) / requests, "us/req")]
        out_rows.append(("p99", float(m.group(5)), "us"))
        return out_rows
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()


def wrk_us(text):
    """A wrk duration ('812.00us', '1.20ms', '2.01s') in µs."""
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        fail(f"cannot read wrk's duration {text!r}")
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[m.group(2)]


def run_http(args, server, addr):
    cmd = ["wrk", "-t1", f"-c{args.conns}", f"-d{args.seconds}s", "--latency", f"http://{addr}/"]
    c0 = cpu_us(server.pid)
    try:
        p = subprocess.run(pinned(1, cmd), capture_output=True, text=True,
                           timeout=args.seconds + 30)
    except subprocess.TimeoutExpired:
        fail(f"wrk did not finish within {args.seconds + 30} s")
    c1 = cpu_us(server.pid)
    if p.returncode != 0:
        fail(f"wrk exited with status {p.returncode}: {p.stderr}")
    if "Non-2xx" in p.stdout or "Socket errors" in p.stdout:
        fail(f"wrk saw errors:\n{p.stdout}")
    total = re.search(r"^\s*(\d+) requests in ", p.stdout, re.M)
    rps = re.search(r"^Requests/sec:\s*([0-9.]+)", p.stdout, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", p.stdout, re.M)
    if not (total and rps and p99) or int(total.group(1)) == 0:
        fail(f"cannot read wrk's output:\n{p.stdout}")
    return [("rps", float(rps.group(1)), "req/s"),
            ("cpu", (c1 - c0) / int(total.group(1)), "us/req"),
            ("p99", wrk_us(p99.group(1)), "us")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=["echo", "http", "idle"], required=True)
    ap.add_argument("--conns", type=int, default=50, help="active connections")
    ap.add_argument("--idle", type=int, default=10000, help="idle connections (workload idle)")
    ap.add_argument("--seconds", type=int, default=3, help="measured seconds")
    ap.add_argument("--client", default="build/bench/echo_client_go",
                    help="the echo load generator (tools/bench/go/echo_client)")
    ap.add_argument("server", nargs="+", help="the server command (after --)")
    args = ap.parse_args()
    if args.conns < 1 or args.idle < 1 or args.seconds < 1:
        ap.error("--conns, --idle and --seconds must be at least 1")

    server = subprocess.Popen(pinned(0, args.server), stdout=subprocess.PIPE,
                              start_new_session=True)
    try:
        line = Lines(server, "the server").next(10)
        if not line.startswith("listening "):
            fail(f"the server said {line!r}, expected 'listening HOST:PORT'")
        addr = line.split()[1]
        wait_accepting(addr)
        rows = (run_http if args.workload == "http" else run_echo)(args, server, addr)
        if server.poll() is not None:
            fail(f"the server exited (status {server.returncode}) during the run")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)  # its own session: nothing else is in it
        server.wait()
    for name, value, unit in rows:
        print(f"name={name} value={value:.2f} unit={unit}")


if __name__ == "__main__":
    main()
