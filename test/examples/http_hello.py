"""http_hello.py HTTP_HELLO: docs/examples/http_hello driven by curl, nc and wrk.

Each check is a test case: single requests, keep-alive (curl reusing its connection), HTTP/1.0
with and without keep-alive, HEAD, 404, 405 with a skipped body, pipelining, malformed and
unsupported requests (400, 431, 501, 505), the idle timeout, wrk under load, bad arguments.
"""
import re
import sys
import time

from harness import Server, Suite, connect, expect, expect_eq, recv_all, run, server_cases

exe = sys.argv[1]
t = Suite("http_hello")
srv = Server([exe, "--idle=1s", "127.0.0.1:0"])
base = f"http://127.0.0.1:{srv.port}"
HELLO = b"Hello, World!\n"


def curl(*args):
    """curl -sS with the response headers on stdout (-D -), verbose log on stderr."""
    return run(["curl", "-sS", "-v", "-D", "-", "--max-time", "10", *args])


def statuses(out):
    return [int(m) for m in re.findall(rb"^HTTP/1\.1 (\d{3}) ", out, re.M)]


def raw(data, timeout=10):
    """Send data on a fresh connection, close our side, return all the server sent."""
    s = connect(srv.port)
    s.sendall(data)
    s.shutdown(1)
    out = recv_all(s, timeout)
    s.close()
    return out


@t.case("curl GET /: 200, the body, Content-Length 14")
def _():
    r = curl(base + "/")
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", statuses(r.stdout), [200])
    expect(r.stdout.endswith(b"\r\n\r\n" + HELLO), f"response: {r.stdout!r}")
    expect(b"Content-Length: 14\r\n" in r.stdout, f"response: {r.stdout!r}")


@t.case("curl keep-alive: two URLs in one run share one connection")
def _():
    r = curl(base + "/", base + "/?q=1")
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", statuses(r.stdout), [200, 200])
    expect_eq("bodies", r.stdout.count(HELLO), 2)
    expect(b"Re-using existing connection" in r.stderr, f"curl -v did not reuse: {r.stderr!r}")


@t.case("curl HTTP/1.0: answered, then 'Connection: close'")
def _():
    r = curl("-0", base + "/", base + "/")
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", statuses(r.stdout), [200, 200])
    expect_eq("Connection: close headers", r.stdout.count(b"Connection: close\r\n"), 2)
    expect(b"Re-using existing connection" not in r.stderr, "an HTTP/1.0 connection was reused")


@t.case("curl HTTP/1.0 with 'Connection: keep-alive': kept open and reused")
def _():
    r = curl("-0", "-H", "Connection: keep-alive", base + "/", base + "/")
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", statuses(r.stdout), [200, 200])
    expect_eq("Connection: keep-alive headers", r.stdout.count(b"Connection: keep-alive\r\n"), 2)
    expect(b"Re-using existing connection" in r.stderr, f"curl -v did not reuse: {r.stderr!r}")


@t.case("curl HEAD: the headers of GET, no body")
def _():
    r = run(["curl", "-sS", "-I", "--max-time", "10", base + "/"])
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", statuses(r.stdout), [200])
    expect(b"Content-Length: 14\r\n" in r.stdout, f"response: {r.stdout!r}")
    expect(HELLO not in r.stdout, "HEAD got a body")


@t.case("curl GET /missing: 404")
def _():
    r = curl(base + "/missing")
    expect_eq("statuses", statuses(r.stdout), [404])
    expect(r.stdout.endswith(b"404 Not Found\n"), f"response: {r.stdout!r}")


@t.case("curl POST with a 100 KB body, then GET on the same connection: 405, the body skipped")
def _():
    body = b"x" * 100_000
    r = run(["curl", "-sS", "-v", "-D", "-", "--max-time", "10", "-H", "Expect:",
             "--data-binary", "@-", base + "/", "--next", "-v", "-D", "-", base + "/"], input=body)
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", statuses(r.stdout), [405, 200])
    expect(b"Allow: GET, HEAD\r\n" in r.stdout, f"response: {r.stdout!r}")
    expect(b"Re-using existing connection" in r.stderr, f"curl -v did not reuse: {r.stderr!r}")


@t.case("curl POST of 2 MiB asking 'Expect: 100-continue': gets it, then 405, the body skipped")
def _():
    body = b"z" * (2 << 20)
    r = run(["curl", "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}\\n", "--max-time", "10",
             "-H", "Expect: 100-continue", "--data-binary", "@-", base + "/", "--next", "-v",
             "-o", "/dev/null", "-w", "%{http_code}\\n", base + "/"], input=body)
    expect_eq("curl exit status", r.returncode, 0)
    expect_eq("statuses", r.stdout, b"405\n200\n")
    expect(b"< HTTP/1.1 100 Continue" in r.stderr, f"no 100 Continue: {r.stderr!r}")
    expect(b"Re-using existing connection" in r.stderr, f"curl -v did not reuse: {r.stderr!r}")
    # Without the interim answer, curl sends the body anyway after a second, saying this.
    expect(b"Done waiting for 100-continue" not in r.stderr, "curl gave up waiting for it")


@t.case("nc: three pipelined requests in one write, a body among them, answered in order")
def _():
    reqs = (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /"
            b"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = run(["nc", "-N", "127.0.0.1", str(srv.port)], input=reqs)
    expect_eq("statuses", statuses(r.stdout), [200, 405, 404])
    expect_eq("Connection: close headers", r.stdout.count(b"Connection: close\r\n"), 1)


@t.case("malformed: request line, header without colon, bad or two Content-Lengths: 400, close")
def _():
    for req in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                b"GET  / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
                b"GET / HTTP/1.1\r\nContent-Length: -0\r\n\r\n",
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"]:
        out = raw(req)
        expect_eq(f"statuses for {req!r}", statuses(out), [400])
        expect(b"Connection: close\r\n" in out, f"no Connection: close in {out!r}")


@t.case("HTTP/2.0 in a request line: 505; chunked body: 501; a 9 KiB head: 431")
def _():
    expect_eq("HTTP/2.0", statuses(raw(b"GET / HTTP/2.0\r\n\r\n")), [505])
    r = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "x", base + "/")
    expect_eq("chunked", statuses(r.stdout), [501])
    r = curl("-H", "X-Big: " + "a" * 9000, base + "/")
    expect_eq("9 KiB head", statuses(r.stdout), [431])


@t.case("--idle=1s: a silent connection is closed, an answered one too (not before 1 s)")
def _():
    s = connect(srv.port)
    start = time.monotonic()
    out = recv_all(s, timeout=20)
    waited = time.monotonic() - start
    expect_eq("bytes from a silent connection", out, b"")
    expect(waited >= 0.9, f"closed after {waited:.3f} s, before the idle timeout")
    s = connect(srv.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = recv_all(s, timeout=20)
    expect_eq("statuses", statuses(out), [200])


@t.case("wrk -t1 -c20 -d2s: requests done, no socket errors, no non-2xx answers")
def _():
    r = run(["wrk", "-t1", "-c20", "-d2s", base + "/"], timeout=60)
    out = r.stdout.decode()
    expect_eq("wrk exit status", r.returncode, 0)
    m = re.search(r"(\d+) requests in", out)
    expect(m and int(m.group(1)) > 0, f"no requests: {out}")
    expect("Socket errors" not in out, f"wrk saw socket errors: {out}")
    expect("Non-2xx" not in out, f"wrk saw non-2xx answers: {out}")


# Bad arguments: a bad duration, a zero one, an unknown flag, two addresses.
server_cases(t, exe, "http_hello", [["--idle=soon"], ["--idle=0s"], ["--color=blue"], [":1", ":2"]],
             [srv])
t.finish()
