"""port_scan.py PORT_SCAN: docs/examples/port_scan against listeners this driver opens.

Each check is a test case: a small range and a wide one (few workers) list exactly the open
ports, a single port, IPv6, a dial timing out against a full backlog (--timeout), the overall
--deadline cutting a scan short, bad arguments.

The ranges lie below 32768, outside Linux's ephemeral ports (ip_local_port_range), so that the
ports other tests pick with port 0 never land in them; each range is checked free first.
"""
import random
import socket
import sys

from harness import Failure, Suite, expect, expect_eq, run

exe = sys.argv[1]
t = Suite("port_scan")
held = []  # sockets kept open until the driver exits


def free(port, family=socket.AF_INET, host="127.0.0.1"):
    """Whether nothing listens on port (and it can be bound)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def listen(port, family=socket.AF_INET, host="127.0.0.1", backlog=16):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, port))
    s.listen(backlog)
    held.append(s)
    return s


def free_range(n):
    """A first port such that first .. first+n-1 are all free, below the ephemeral range."""
    for _ in range(100):
        first = random.randrange(10000, 32768 - n)
        if all(free(p) for p in range(first, first + n)):
            return first
    raise Failure(f"no {n} free ports in a row below 32768")


def scan(*args, timeout=60):
    r = run([exe, *args], timeout=timeout)
    return r, r.stdout.decode().splitlines()


def opened(ports):
    return [f"{p} open" for p in sorted(ports)]


@t.case("10 ports, 3 listening: exactly those, in order, exit 0")
def _():
    first = free_range(10)
    open_ports = [first + 8, first + 1, first + 4]
    for p in open_ports:
        listen(p)
    r, lines = scan("127.0.0.1", f"{first}-{first + 9}")
    expect_eq("exit status", r.returncode, 0)
    expect_eq("open ports", lines, opened(open_ports))
    expect(b"10 ports" in r.stderr and b"3 open, 7 closed, 0 timed out" in r.stderr,
           f"summary: {r.stderr!r}")


@t.case("500 ports through 7 workers: exactly the 6 open ones")
def _():
    first = free_range(500)
    open_ports = [first, first + 1, first + 77, first + 250, first + 498, first + 499]
    for p in open_ports:
        listen(p)
    r, lines = scan("--workers=7", "--timeout=5s", "127.0.0.1", f"{first}-{first + 499}")
    expect_eq("exit status", r.returncode, 0)
    expect_eq("open ports", lines, opened(open_ports))


@t.case("one port (PORT alone) of localhost, a name: open, then closed")
def _():
    first = free_range(1)
    # localhost may resolve to 127.0.0.1 or ::1 first: listen on both.
    sockets = [listen(first)]
    if free(first, socket.AF_INET6, "::1"):
        sockets.append(listen(first, socket.AF_INET6, "::1"))
    r, lines = scan("localhost", str(first))
    expect_eq("open: exit status", r.returncode, 0)
    expect_eq("open: lines", lines, opened([first]))
    for s in sockets:
        s.close()
    r, lines = scan("localhost", str(first))
    expect_eq("closed: exit status", r.returncode, 0)
    expect_eq("closed: lines", lines, [])
    expect(b"0 open, 1 closed" in r.stderr, f"summary: {r.stderr!r}")


@t.case("IPv6: ::1 and [::1]")
def _():
    if not socket.has_ipv6 or not free(0, socket.AF_INET6, "::1"):
        raise Failure("no IPv6 loopback on this machine")
    first = free_range(3)
    if not all(free(p, socket.AF_INET6, "::1") for p in range(first, first + 3)):
        raise Failure(f"ports {first}..{first + 2} busy on ::1")
    listen(first + 1, socket.AF_INET6, "::1")
    for host in ["::1", "[::1]"]:
        r, lines = scan(host, f"{first}-{first + 2}")
        expect_eq(f"exit status for {host}", r.returncode, 0)
        expect_eq(f"open ports of {host}", lines, opened([first + 1]))


def full_backlog():
    """A listener whose accept queue is full: further SYNs are dropped, so dials hang (the way
    test/net/context_test.cpp makes one)."""
    s = listen(0, backlog=1)
    for _ in range(16):
        c = socket.socket()
        c.settimeout(0.2)
        try:
            c.connect(s.getsockname())
        except (socket.timeout, TimeoutError):
            c.close()
            return s.getsockname()[1]
        held.append(c)
    raise Failure("the backlog never filled")


@t.case("--timeout=300ms: a port whose dials hang is not open, counted as timed out")
def _():
    port = full_backlog()
    r, lines = scan("--timeout=300ms", "127.0.0.1", str(port))
    expect_eq("exit status", r.returncode, 0)
    expect_eq("open ports", lines, [])
    expect(b"0 open, 0 closed, 1 timed out" in r.stderr, f"summary: {r.stderr!r}")


@t.case("--deadline=300ms cuts a scan of hanging ports short: exit 1, says so")
def _():
    ports = [full_backlog() for _ in range(3)]
    # Workers: 1, so the ports are dialed one after another; the first dial's 60 s timeout is
    # cut by the deadline, and the others are never dialed.
    first, last = min(ports), max(ports)
    r, lines = scan("--workers=1", "--timeout=60s", "--deadline=300ms", "127.0.0.1",
                    f"{first}-{last}", timeout=30)
    expect_eq("exit status", r.returncode, 1)
    expect(b"the --deadline passed" in r.stderr, f"stderr: {r.stderr!r}")


@t.case("bad arguments: usage, exit 2")
def _():
    for args in [[], ["127.0.0.1"], ["127.0.0.1", "0"], ["127.0.0.1", "10-5"],
                 ["127.0.0.1", "70000"], ["127.0.0.1", "1-x"], ["--workers=0", "h", "1"],
                 ["--timeout=fast", "h", "1"], ["--ports=1", "h", "1"], ["h", "1", "2"]]:
        r = run([exe, *args])
        expect_eq(f"exit status for {args}", r.returncode, 2)
        expect(b"usage: port_scan" in r.stderr, f"no usage line for {args}: {r.stderr!r}")


@t.case("a host that does not parse: the error, exit 1")
def _():
    r = run([exe, "[::1", "80"])
    expect_eq("exit status", r.returncode, 1)
    expect(r.stderr.startswith(b"port_scan: [::1: "), f"stderr: {r.stderr!r}")


t.finish()
