"""harness.py: what the drivers of the `examples` suite share.

Starts example servers and waits for their "listening on ADDR" line (no sleeping: a bounded
wait on the pipe), kills every process it started when the driver exits (normally, on an
exception, or on meson's SIGTERM at a timeout), counts test cases and prints a Catch2-style
summary line that tools/ci/summarize.py counts case by case.
"""
import atexit
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)
# meson's timeout sends SIGTERM: leave through sys.exit so that atexit kills the servers.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def spawn(argv, **kw):
    """subprocess.Popen(argv, **kw), killed when the driver exits."""
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


def read_line(f, timeout):
    """One line (bytes, without the newline) from the pipe f within timeout seconds; None at EOF
    or when the time runs out."""
    sel = selectors.DefaultSelector()
    sel.register(f, selectors.EVENT_READ)
    end = time.monotonic() + timeout
    line = b""
    try:
        while not line.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or not sel.select(left):
                return None
            ch = os.read(f.fileno(), 1)  # unbuffered: nothing past the line is consumed
            if not ch:
                return None
            line += ch
    finally:
        sel.close()
    return line[:-1]


class Server:
    """An example server started with argv, its stderr kept in a file for failure reports.
    port: the port of the address its "listening on ADDR" line names."""

    def __init__(self, argv, timeout=20):
        self.argv = argv
        self.err = tempfile.TemporaryFile()
        self.proc = spawn(argv, stdout=subprocess.PIPE, stderr=self.err)
        line = read_line(self.proc.stdout, timeout)
        if line is None or not line.startswith(b"listening on "):
            self.stop()
            raise RuntimeError(f"{argv}: no 'listening on' line within {timeout}s "
                               f"(got {line!r}); stderr: {self.stderr()!r}")
        self.addr = line[len(b"listening on "):].decode()
        self.port = int(self.addr.rsplit(":", 1)[1])

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run(argv, timeout=30, **kw):
    """subprocess.run with output captured (bytes) and a timeout."""
    return subprocess.run(argv, capture_output=True, timeout=timeout, **kw)


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def expect_eq(what, got, want):
    if got != want:
        raise Failure(f"{what}: got {_short(got)}, want {_short(want)}")


def _short(v):
    r = repr(v)
    return r if len(r) <= 300 else r[:300] + f"... ({len(r)} characters)"


def connect(port, host="127.0.0.1", timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def recv_all(s, timeout=10):
    """Everything s receives until the peer closes it (bounded by timeout)."""
    s.settimeout(timeout)
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


class Suite:
    """Test cases run one by one; each is counted, a failure prints what differed."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def case(self, title):
        def wrap(fn):
            try:
                fn()
            except Failure as e:
                self._fail(title, str(e))
            except Exception:  # a crash of the check itself is a failure of the case
                self._fail(title, traceback.format_exc())
            else:
                self.passed += 1
                print(f"ok    {self.name}: {title}", flush=True)
            return fn
        return wrap

    def _fail(self, title, why):
        self.failed += 1
        print(f"FAIL  {self.name}: {title}\n      {why}", flush=True)

    def finish(self):
        n = self.passed + self.failed
        if self.failed == 0:
            print(f"All tests passed ({n} assertions in {n} test cases)")
        else:
            print(f"test cases: {n} | {self.passed} passed | {self.failed} failed")
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def server_cases(t, exe, prog, bad_args, servers):
    """The cases every server example shares: each of bad_args gets a usage line and exit
    status 2; a port in use gets the error and exit status 1; the servers are still up and
    wrote nothing to stderr."""

    @t.case(f"bad arguments ({len(bad_args)} kinds): a usage line, exit status 2")
    def _():
        for args in bad_args:
            r = run([exe, *args])
            expect_eq(f"exit status for {args}", r.returncode, 2)
            expect(f"usage: {prog}".encode() in r.stderr, f"no usage line for {args}: {r.stderr!r}")

    @t.case("a port in use: the error, exit status 1")
    def _():
        r = run([exe, f"127.0.0.1:{servers[0].port}"])
        expect_eq("exit status", r.returncode, 1)
        expect(b"address already in use" in r.stderr.lower(), f"stderr: {r.stderr!r}")

    @t.case("the servers are still up, and wrote nothing to stderr")
    def _():
        for s in servers:
            expect(s.alive(), f"{s.argv} died")
            expect_eq(f"stderr of {s.argv}", s.stderr(), "")
