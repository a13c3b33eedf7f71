"""echo_server.py ECHO_SERVER: docs/examples/echo_server driven by nc (netcat-openbsd) and socat.

Each check is a test case: small and 1 MiB round trips through nc and socat, many clients at
once, bad arguments, a port in use.
"""
import os
import sys
import threading

from harness import Server, Suite, connect, expect, expect_eq, recv_all, run, server_cases

exe = sys.argv[1]
t = Suite("echo_server")
srv = Server([exe, "127.0.0.1:0"])
port = str(srv.port)
mib = os.urandom(1 << 20)


@t.case("nc: a line comes back (nc -N closes its side at EOF, the server then closes)")
def _():
    r = run(["nc", "-N", "127.0.0.1", port], input=b"hello, weft\n")
    expect_eq("nc exit status", r.returncode, 0)
    expect_eq("echo", r.stdout, b"hello, weft\n")


@t.case("nc: 1 MiB of random bytes comes back whole")
def _():
    r = run(["nc", "-N", "127.0.0.1", port], input=mib)
    expect_eq("nc exit status", r.returncode, 0)
    expect(r.stdout == mib, f"echo of 1 MiB differs: {len(r.stdout)} bytes back")


@t.case("socat: 1 MiB of random bytes comes back whole")
def _():
    r = run(["socat", "-t", "10", "-", f"TCP:127.0.0.1:{port}"], input=mib)
    expect_eq("socat exit status", r.returncode, 0)
    expect(r.stdout == mib, f"echo of 1 MiB differs: {len(r.stdout)} bytes back")


@t.case("50 clients at once, 64 KiB each, every one gets its own bytes back")
def _():
    errors = []

    def client(i):
        try:
            s = connect(srv.port)
            data = bytes([i]) * 65536
            s.sendall(data)
            s.shutdown(1)  # SHUT_WR: the server reads EOF after our bytes
            back = recv_all(s)
            s.close()
            if back != data:
                errors.append(f"client {i}: {len(back)} bytes back, or other bytes")
        except OSError as e:
            errors.append(f"client {i}: {e}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    expect_eq("clients still running after 30 s", sum(th.is_alive() for th in threads), 0)
    expect_eq("failed clients", errors, [])


server_cases(t, exe, "echo_server", [[":1", ":2"]], [srv])
t.finish()
