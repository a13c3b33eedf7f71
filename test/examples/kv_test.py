#!/usr/bin/env python3
"""kv_test: docs/examples/kv_server checked with real redis clients (redis-cli, redis-benchmark).

Starts kv_server on a free port (waiting for its "listening on" line), runs every check as one
test case against it and ends with a Catch2-style summary line, which tools/ci/summarize.py
counts. The expected replies are redis 7.0's: `--port=N` runs the same checks against a
server already listening on 127.0.0.1:N (a real redis-server, to confirm the expectations);
the checks only kv_server can pass (its COMMAND answer, its shutdown) are then left out.

usage: kv_test.py KV_SERVER | kv_test.py --port=N
"""
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
import traceback

# The demo's launcher (tools/demo/kv.py): start kv_server, wait for its "listening on" line.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "demo"))
import kv as kv_demo  # noqa: E402

HOST = "127.0.0.1"
PORT = None
SERVER = None  # the kv_server process we started, if any
CHECKS = []


def check(name, kv_only=False):
    def wrap(fn):
        CHECKS.append((name, fn, kv_only))
        return fn
    return wrap


class Failed(Exception):
    pass


def expect(got, want, what=""):
    if got != want:
        raise Failed(f"{what}: got {got!r}, want {want!r}" if what else f"got {got!r}, want {want!r}")


def cli(*args, stdin=None, timeout=30):
    """redis-cli's formatted output (--no-raw: "(integer) 1", "(nil)", "(error) ERR ...")."""
    p = subprocess.run(["redis-cli", "-h", HOST, "-p", str(PORT), "--no-raw", *args],
                       input=stdin, capture_output=True, timeout=timeout)
    if b"Could not connect" in p.stderr or b"Could not connect" in p.stdout:
        raise Failed(f"redis-cli could not connect: {p.stderr!r}")
    return p.stdout.decode(errors="replace").rstrip("\n")


def resp(*args):
    """One command in RESP (multibulk)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Raw:
    """A plain TCP connection: bytes out, bytes in, with a bounded wait for each read."""

    def __init__(self):
        self.s = socket.create_connection((HOST, PORT), timeout=10)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def read_exactly(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise Failed(f"connection closed after {self.buf[:200]!r}, wanted {n} bytes")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def at_eof(self):
        """True if the server closed the connection (after whatever it sent)."""
        while True:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                return True
            self.buf += chunk

    def close(self):
        self.s.close()


def raw_exchange(data, want):
    c = Raw()
    try:
        c.send(data)
        expect(c.read_exactly(len(want)), want)
    finally:
        c.close()


# ------------------------------------------------------------------------- the checks

@check("PING and ECHO")
def _():
    expect(cli("PING"), "PONG")
    expect(cli("PING", "hello world"), '"hello world"')
    expect(cli("PING", "a", "b"), "(error) ERR wrong number of arguments for 'ping' command")
    expect(cli("ECHO", "x y"), '"x y"')
    expect(cli("ECHO"), "(error) ERR wrong number of arguments for 'echo' command")


@check("SET and GET")
def _():
    cli("FLUSHALL")
    expect(cli("GET", "nosuch"), "(nil)")
    expect(cli("SET", "k", "v1"), "OK")
    expect(cli("GET", "k"), '"v1"')
    expect(cli("SET", "k", "v2"), "OK")
    expect(cli("GET", "k"), '"v2"')
    expect(cli("SET", "k"), "(error) ERR wrong number of arguments for 'set' command")
    expect(cli("GET", "a", "b"), "(error) ERR wrong number of arguments for 'get' command")


@check("SET NX, XX and GET options")
def _():
    cli("FLUSHALL")
    expect(cli("SET", "k", "a", "XX"), "(nil)")
    expect(cli("SET", "k", "a", "NX"), "OK")
    expect(cli("SET", "k", "b", "nx"), "(nil)")
    expect(cli("GET", "k"), '"a"')
    expect(cli("SET", "k", "c", "XX"), "OK")
    expect(cli("SET", "k", "d", "GET"), '"c"')
    expect(cli("SET", "new", "d", "GET"), "(nil)")
    expect(cli("SET", "k", "e", "NX", "GET"), '"d"')
    expect(cli("GET", "k"), '"d"')
    expect(cli("SET", "k", "v", "NX", "XX"), "(error) ERR syntax error")
    expect(cli("SET", "k", "v", "BOGUS"), "(error) ERR syntax error")


@check("SET EX/PX arguments and errors")
def _():
    cli("FLUSHALL")
    expect(cli("SET", "k", "v", "EX", "100"), "OK")
    expect(cli("TTL", "k"), "(integer) 100")
    expect(cli("SET", "k", "v", "PX", "100000"), "OK")
    pttl = int(cli("PTTL", "k").split()[1])
    if not 90000 < pttl <= 100000:
        raise Failed(f"PTTL after PX 100000: {pttl}")
    expect(cli("SET", "k", "v"), "OK")
    expect(cli("TTL", "k"), "(integer) -1", "SET without EX clears the TTL")
    expect(cli("SET", "k", "v", "EX", "100"), "OK")
    expect(cli("SET", "k", "w", "KEEPTTL"), "OK")
    expect(cli("TTL", "k"), "(integer) 100", "KEEPTTL")
    expect(cli("SET", "k", "v", "EX", "0"), "(error) ERR invalid expire time in 'set' command")
    expect(cli("SET", "k", "v", "PX", "-5"), "(error) ERR invalid expire time in 'set' command")
    expect(cli("SET", "k", "v", "EX", "abc"),
           "(error) ERR value is not an integer or out of range")
    expect(cli("SET", "k", "v", "EX", "1", "PX", "1"), "(error) ERR syntax error")
    expect(cli("SET", "k", "v", "EX"), "(error) ERR syntax error")
    expect(cli("SET", "k", "v", "EX", "9223372036854775807"),
           "(error) ERR invalid expire time in 'set' command")


@check("TTL, PTTL, EXPIRE and PERSIST")
def _():
    cli("FLUSHALL")
    expect(cli("TTL", "nosuch"), "(integer) -2")
    expect(cli("PTTL", "nosuch"), "(integer) -2")
    expect(cli("EXPIRE", "nosuch", "10"), "(integer) 0")
    cli("SET", "k", "v")
    expect(cli("TTL", "k"), "(integer) -1")
    expect(cli("EXPIRE", "k", "50"), "(integer) 1")
    expect(cli("TTL", "k"), "(integer) 50")
    expect(cli("EXPIRE", "k", "100", "NX"), "(integer) 0")
    expect(cli("EXPIRE", "k", "100", "GT"), "(integer) 1")
    expect(cli("EXPIRE", "k", "70", "GT"), "(integer) 0")
    expect(cli("EXPIRE", "k", "70", "LT"), "(integer) 1")
    expect(cli("TTL", "k"), "(integer) 70")
    expect(cli("EXPIRE", "k", "x"), "(error) ERR value is not an integer or out of range")
    expect(cli("EXPIRE", "k", "10", "zz"), "(error) ERR Unsupported option zz")
    expect(cli("EXPIRE", "k", "10", "NX", "XX"),
           "(error) ERR NX and XX, GT or LT options at the same time are not compatible")
    expect(cli("EXPIRE", "k"), "(error) ERR wrong number of arguments for 'expire' command")
    expect(cli("PERSIST", "k"), "(integer) 1")
    expect(cli("TTL", "k"), "(integer) -1")
    expect(cli("PERSIST", "k"), "(integer) 0")
    expect(cli("EXPIRE", "k", "10", "XX"), "(integer) 0")
    expect(cli("PEXPIRE", "k", "20000"), "(integer) 1")
    expect(cli("TTL", "k"), "(integer) 20")
    expect(cli("EXPIRE", "k", "-1"), "(integer) 1", "a negative time deletes")
    expect(cli("EXISTS", "k"), "(integer) 0")


@check("INCR, DECR, INCRBY and their errors")
def _():
    cli("FLUSHALL")
    expect(cli("INCR", "n"), "(integer) 1")
    expect(cli("INCR", "n"), "(integer) 2")
    expect(cli("INCRBY", "n", "40"), "(integer) 42")
    expect(cli("DECR", "n"), "(integer) 41")
    expect(cli("DECRBY", "n", "-1"), "(integer) 42")
    expect(cli("GET", "n"), '"42"')
    cli("SET", "s", "abc")
    expect(cli("INCR", "s"), "(error) ERR value is not an integer or out of range")
    cli("SET", "s", " 1")
    expect(cli("INCR", "s"), "(error) ERR value is not an integer or out of range")
    cli("SET", "big", "9223372036854775807")
    expect(cli("INCR", "big"), "(error) ERR increment or decrement would overflow")
    expect(cli("INCRBY", "n", "x"), "(error) ERR value is not an integer or out of range")
    cli("SET", "t", "5", "EX", "100")
    expect(cli("INCR", "t"), "(integer) 6")
    expect(cli("TTL", "t"), "(integer) 100", "INCR keeps the TTL")
    expect(cli("INCR"), "(error) ERR wrong number of arguments for 'incr' command")


@check("DEL and EXISTS with several keys")
def _():
    cli("FLUSHALL")
    cli("MSET", "a", "1", "b", "2", "c", "3")
    expect(cli("EXISTS", "a", "b", "x"), "(integer) 2")
    expect(cli("EXISTS", "a", "a", "a"), "(integer) 3")
    expect(cli("DEL", "a", "b", "x"), "(integer) 2")
    expect(cli("EXISTS", "a", "b", "c"), "(integer) 1")
    expect(cli("DEL", "a"), "(integer) 0")
    expect(cli("DEL"), "(error) ERR wrong number of arguments for 'del' command")


@check("MSET and MGET")
def _():
    cli("FLUSHALL")
    expect(cli("MSET", "k1", "v1", "k2", "v2", "k1", "v3"), "OK")
    expect(cli("MGET", "k1", "nosuch", "k2"), '1) "v3"\n2) (nil)\n3) "v2"')
    expect(cli("MSET", "k1", "v1", "k2"), "(error) ERR wrong number of arguments for 'mset' command")
    expect(cli("MSET", "k1"), "(error) ERR wrong number of arguments for 'mset' command")
    cli("SET", "e", "x", "EX", "100")
    cli("MSET", "e", "y")
    expect(cli("TTL", "e"), "(integer) -1", "MSET clears the TTL")


@check("KEYS glob patterns")
def _():
    cli("FLUSHALL")
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h]llo", "user:1:name",
             "user:22:name", "user:1:mail", "a?b", "axb"]
    cli("MSET", *[x for n in names for x in (n, "v")])

    def keys(pattern):
        out = cli("KEYS", pattern)
        if out == "(empty array)":
            return []
        return sorted(re.sub(r'^\s*\d+\) "(.*)"$', r"\1", line).replace('\\"', '"')
                      for line in out.split("\n"))

    expect(keys("*"), sorted(names), "*")
    expect(keys("h?llo"), ["h*llo", "h]llo", "hallo", "hello", "hxllo"], "h?llo")
    expect(keys("h*llo"), ["h*llo", "h]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"])
    expect(keys("h[ae]llo"), ["hallo", "hello"], "h[ae]llo")
    expect(keys("h[^e]llo"), ["h*llo", "h]llo", "hallo", "hxllo"], "h[^e]llo")
    expect(keys("h[a-f]llo"), ["hallo", "hello"], "h[a-f]llo")
    expect(keys("h\\*llo"), ["h*llo"], "h\\*llo")
    expect(keys("h[\\]]llo"), ["h]llo"], "h[\\]]llo")
    expect(keys("user:*:name"), ["user:1:name", "user:22:name"], "user:*:name")
    expect(keys("a\\?b"), ["a?b"], "a\\?b")
    expect(keys("nomatch*"), [], "nomatch*")
    cli("SET", "gone", "v", "PX", "1")
    time.sleep(0.01)  # past the 1 ms expiry (bounded: nothing waits on the server's timing)
    expect("gone" in keys("*"), False, "an expired key is not listed")


@check("DBSIZE and FLUSHALL")
def _():
    expect(cli("FLUSHALL"), "OK")
    expect(cli("DBSIZE"), "(integer) 0")
    cli("MSET", "a", "1", "b", "2", "c", "3")
    expect(cli("DBSIZE"), "(integer) 3")
    expect(cli("FLUSHALL", "ASYNC"), "OK")
    expect(cli("DBSIZE"), "(integer) 0")
    expect(cli("FLUSHALL", "x"), "(error) ERR syntax error")
    expect(cli("DBSIZE", "x"), "(error) ERR wrong number of arguments for 'dbsize' command")


@check("unknown commands and wrong arity")
def _():
    expect(cli("NOSUCH", "a", "b c"),
           "(error) ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b c' ")
    expect(cli("nosuch"), "(error) ERR unknown command 'nosuch', with args beginning with: ")
    long_arg = "x" * 300
    got = cli("NOSUCH", long_arg, "y")
    expect(got, "(error) ERR unknown command 'NOSUCH', with args beginning with: '" + "x" * 128
           + "' ", "arguments cut at 128 bytes")
    expect(cli("TTL"), "(error) ERR wrong number of arguments for 'ttl' command")
    expect(cli("KEYS"), "(error) ERR wrong number of arguments for 'keys' command")


@check("CONFIG GET answers what redis-benchmark asks")
def _():
    expect(cli("CONFIG", "GET", "save"), '1) "save"\n2) ""')
    expect(cli("CONFIG", "GET", "appendonly"), '1) "appendonly"\n2) "no"')
    expect(cli("CONFIG", "GET", "nosuch"), "(empty array)")


@check("COMMAND and COMMAND DOCS reply minimally", kv_only=True)
def _():
    raw_exchange(resp("COMMAND", "DOCS"), b"*0\r\n")
    raw_exchange(resp("COMMAND"), b"*0\r\n")
    raw_exchange(resp("COMMAND", "INFO", "get"), b"*1\r\n$-1\r\n")
    raw_exchange(resp("COMMAND", "x"), b"-ERR unknown subcommand 'x'. Try COMMAND HELP.\r\n")


@check("inline commands (as nc sends them)")
def _():
    raw_exchange(b"FLUSHALL\r\nPING\r\nSET a \"b c\"\nGET a\r\n\r\nECHO 'x'\r\n",
                 b"+OK\r\n+PONG\r\n+OK\r\n$3\r\nb c\r\n$1\r\nx\r\n")
    c = Raw()
    c.send(b"ECHO \"unbalanced\r\n")
    want = b"-ERR Protocol error: unbalanced quotes in request\r\n"
    expect(c.read_exactly(len(want)), want)
    expect(c.at_eof(), True, "closed after a protocol error")
    c.close()


@check("pipelining: many commands in one write, replies in order")
def _():
    data, want = [resp("FLUSHALL")], [b"+OK\r\n"]
    for i in range(2000):
        data.append(resp("SET", f"key:{i}", f"value:{i}"))
        want.append(b"+OK\r\n")
        data.append(resp("INCR", "counter"))
        want.append(b":%d\r\n" % (i + 1))
        data.append(resp("GET", f"key:{i}"))
        want.append(b"$%d\r\n%s\r\n" % (len(f"value:{i}"), f"value:{i}".encode()))
    data.append(resp("DBSIZE"))
    want.append(b":2001\r\n")
    data.append(b"PING\r\n")  # inline, in the same write
    want.append(b"+PONG\r\n")
    raw_exchange(b"".join(data), b"".join(want))


@check("pipelining: commands split at every byte boundary")
def _():
    data = resp("SET", "split", "a\r\nb") + resp("GET", "split") + b"PING\r\n" + resp("DEL", "split")
    want = b"+OK\r\n$4\r\na\r\nb\r\n+PONG\r\n:1\r\n"
    c = Raw()
    try:
        c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            c.send(data[i:i + 1])
        expect(c.read_exactly(len(want)), want)
    finally:
        c.close()


@check("redis-cli --pipe mass insertion")
def _():
    cli("FLUSHALL")
    data = b"".join(resp("SET", f"mass:{i}", "x" * (i % 50)) for i in range(20000))
    out = cli("--pipe", stdin=data, timeout=60)
    if "errors: 0, replies: 20000" not in out:
        raise Failed(f"--pipe output: {out!r}")
    expect(cli("DBSIZE"), "(integer) 20000")
    expect(cli("GET", "mass:49"), '"' + "x" * 49 + '"')


@check("QUIT answers OK and closes")
def _():
    c = Raw()
    c.send(resp("QUIT") + resp("PING"))  # nothing after QUIT is answered
    expect(c.read_exactly(5), b"+OK\r\n")
    expect(c.at_eof(), True, "closed after QUIT")
    expect(c.buf, b"", "no reply after QUIT")
    c.close()


@check("protocol errors: redis's message, then the connection closes")
def _():
    cases = [
        (b"*1\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$-3\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$600000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*z\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"PING\r\n*2\r\n$4\r\nECHO\r\n+x\r\n", b"+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n"),
        (b"x" * (70 << 10), b"-ERR Protocol error: too big inline request\r\n"),
    ]
    for data, want in cases:
        c = Raw()
        try:
            c.send(data)
            expect(c.read_exactly(len(want)), want, repr(data[:30]))
            expect(c.at_eof(), True, f"closed after {data[:30]!r}")
        finally:
            c.close()
    expect(cli("PING"), "PONG", "the server still serves")


@check("large and binary values")
def _():
    big = os.urandom(3 << 20)
    raw_exchange(resp("SET", "big", big) + resp("GET", "big") + resp("DEL", "big"),
                 b"+OK\r\n" + b"$%d\r\n" % len(big) + big + b"\r\n:1\r\n")
    raw_exchange(resp("ECHO", b"\x00\r\n\xff"), b"$4\r\n\x00\r\n\xff\r\n")


@check("keys expire: lazily on access (SET PX 50)")
def _():
    expect(cli("SET", "short", "v", "PX", "50"), "OK")
    deadline = time.monotonic() + 10
    while cli("GET", "short") != "(nil)":
        if time.monotonic() > deadline:
            raise Failed("the key still exists 10 s after PX 50")
        time.sleep(0.02)
    expect(cli("TTL", "short"), "(integer) -2")
    # SET key PX and EXPIRE in the past: gone at once.
    cli("SET", "k", "v")
    expect(cli("PEXPIRE", "k", "0"), "(integer) 1")
    expect(cli("GET", "k"), "(nil)")


@check("keys expire: actively, never touched (DBSIZE drains)")
def _():
    cli("FLUSHALL")
    data = b"".join(resp("SET", f"vol:{i}", "v", "PX", 50) for i in range(500))
    data += resp("SET", "keep", "v")
    out = cli("--pipe", stdin=data)
    if "errors: 0, replies: 501" not in out:
        raise Failed(f"--pipe output: {out!r}")
    deadline = time.monotonic() + 10
    while cli("DBSIZE") != "(integer) 1":  # DBSIZE counts expired keys until they are removed
        if time.monotonic() > deadline:
            raise Failed(f"DBSIZE still {cli('DBSIZE')} 10 s after PX 50")
        time.sleep(0.05)
    expect(cli("GET", "keep"), '"v"')


@check("redis-cli interactive start-up (COMMAND DOCS) on a terminal")
def _():
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("redis-cli", ["redis-cli", "-h", HOST, "-p", str(PORT)])
    out = b""
    prompt = f"{HOST}:{PORT}>".encode()
    try:
        deadline = time.monotonic() + 10
        sent = False
        while b"PONG" not in out:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                raise Failed(f"no PONG from interactive redis-cli: {out!r}")
            try:
                got = os.read(fd, 4096)
            except OSError:
                raise Failed(f"redis-cli ended: {out!r}")
            out += got
            if b"\x1b[6n" in got:  # linenoise asks where the cursor is: answer like a terminal
                os.write(fd, b"\x1b[1;1R")
            if not sent and prompt in out:
                os.write(fd, b"PING\r")
                sent = True
        os.write(fd, b"quit\r")
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    if b"ERR" in out or b"rror" in out:
        raise Failed(f"interactive redis-cli printed an error: {out!r}")


BENCH = {}


def run_benchmark():
    if "out" not in BENCH:
        p = subprocess.run(["redis-benchmark", "-h", HOST, "-p", str(PORT), "-t", "set,get",
                            "-n", "100000", "-c", "50", "-P", "16", "-q"],
                           capture_output=True, timeout=300)
        BENCH["out"] = (p.stdout + p.stderr).decode(errors="replace").replace("\r", "\n")
        BENCH["rc"] = p.returncode
    return BENCH["out"], BENCH["rc"]


def bench_check(test):
    out, rc = run_benchmark()
    if rc != 0 or re.search(r"Error|ERR|WARNING", out):
        raise Failed(f"redis-benchmark (exit {rc}): {out.strip()[-800:]!r}")
    m = re.search(rf"^{test}: ([\d.]+) requests per second, p50=([\d.]+) msec", out, re.M)
    if not m or float(m.group(1)) <= 0:
        raise Failed(f"no {test} summary in: {out.strip()[-800:]!r}")
    print(f"  {test}: {float(m.group(1)):.0f} req/s, p50 {m.group(2)} ms")


@check("redis-benchmark -t set,get -n 100000 -c 50 -P 16: SET")
def _():
    bench_check("SET")


@check("redis-benchmark -t set,get -n 100000 -c 50 -P 16: GET")
def _():
    bench_check("GET")


@check("SIGTERM: clients closed, clean exit", kv_only=True)
def _():
    c = Raw()
    c.send(resp("PING"))
    expect(c.read_exactly(7), b"+PONG\r\n")
    SERVER.send_signal(signal.SIGTERM)
    try:
        rc = SERVER.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise Failed("kv_server still running 30 s after SIGTERM")
    expect(rc, 0, "exit status")
    expect(c.at_eof(), True, "the client connection was closed")
    c.close()


# ------------------------------------------------------------------------- the driver

def main():
    global PORT, SERVER
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    external = sys.argv[1].startswith("--port=")
    if external:
        PORT = int(sys.argv[1][len("--port="):])
    else:
        SERVER, _, PORT = kv_demo.start_server(sys.argv[1], "--procs=2", stderr=subprocess.PIPE)
        print(f"kv_server pid {SERVER.pid} on port {PORT}")
    passed = failed = 0
    for name, fn, kv_only in CHECKS:
        if kv_only and external:
            continue
        try:
            fn()
            passed += 1
            print(f"PASS {name}")
        except Exception as e:  # one check's failure never stops the others
            failed += 1
            print(f"FAIL {name}: {e}")
            if not isinstance(e, Failed):
                traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    if SERVER and SERVER.poll() is None:
        SERVER.kill()
        SERVER.wait()
    if SERVER:
        err = SERVER.stderr.read().decode(errors="replace")
        if err.strip():
            print("kv_server's stderr:\n" + err)
    # The summary line tools/ci/summarize.py reads (Catch2's format).
    if failed == 0:
        print(f"All tests passed ({passed} assertions in {passed} test cases)")
    else:
        print(f"test cases: {passed + failed} | {passed} passed | {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
