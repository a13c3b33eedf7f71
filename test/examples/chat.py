"""chat.py CHAT: docs/examples/chat driven by socat and Python socket clients.

Each check is a test case: joining (names, guest names, a taken name), messages reaching the
others and not the sender, long and CRLF lines, leaving, the idle timeout (--idle), a slow
client dropped while the room goes on (--buffer), bad arguments.
"""
import socket
import subprocess
import sys
import threading
import time

from harness import Failure, Server, Suite, expect, expect_eq, read_line, server_cases, spawn

exe = sys.argv[1]
t = Suite("chat")
PROMPT = "* your name? (empty line: a guest name)"


class Client:
    """A chat client: a socket, or a socat process (via_socat) on pipes. Lines are str."""

    def __init__(self, who, port, via_socat=False, rcvbuf=None):
        self.who = who  # for messages
        self.sock = self.proc = None
        self.buf = b""
        if via_socat:
            self.proc = spawn(["socat", "-", f"TCP:127.0.0.1:{port}"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(10)
            self.sock.connect(("127.0.0.1", port))

    def send(self, line):
        data = line.encode() + b"\n"
        if self.proc:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        else:
            self.sock.sendall(data)

    def line(self, timeout=10):
        """The next line, or None at EOF; raises TimeoutError after timeout seconds."""
        if self.proc:
            got = read_line(self.proc.stdout, timeout)
            if got is None and self.proc.poll() is None:
                raise TimeoutError(f"no line within {timeout} s")
            return None if got is None else got.decode()
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def expect(self, want, timeout=10):
        expect_eq(f"{self.who}'s next line", self.line(timeout), want)

    def join(self, name):
        self.expect(PROMPT)
        self.send(name)

    def close(self):
        if self.proc:
            self.proc.stdin.close()
            self.proc.wait(10)
        else:
            self.sock.close()


def hear(line, *clients):
    """Each of clients gets line next."""
    for c in clients:
        c.expect(line)


room = Server([exe, "127.0.0.1:0"])
alice = Client("alice", room.port, via_socat=True)
bob = Client("bob", room.port)
guest = Client("guest1", room.port)


@t.case("socat client joins an empty room by name")
def _():
    alice.join("alice")
    alice.expect("* welcome, alice; nobody else is here")


@t.case("a second client is told who is here; the first hears it joined")
def _():
    bob.join("bob")
    bob.expect("* welcome, bob; here: alice")
    alice.expect("* bob joined")


@t.case("an empty name gets guest1")
def _():
    guest.join("")
    guest.expect("* welcome, guest1; here: alice, bob")
    hear("* guest1 joined", alice, bob)


@t.case("a message reaches the others, not its sender")
def _():
    alice.send("hello, room")
    hear("alice: hello, room", bob, guest)
    bob.send("hi alice")
    alice.expect("bob: hi alice")  # her own line did not come back before it
    guest.expect("bob: hi alice")


@t.case("CRLF line ends are taken off; a 5000-byte line arrives in two pieces (4096 + 904)")
def _():
    bob.send("crlf\r")
    hear("bob: crlf", alice, guest)
    bob.send("x" * 5000)
    for c in [alice, guest]:
        hear("bob: " + "x" * 4096, c)
        hear("bob: " + "x" * 904, c)


def enter(who, asked, here, others):
    """A new client in the room asking for the name `asked`: it is welcomed as `who`, told
    `here`, and the others hear it joined."""
    c = Client(who, room.port)
    c.join(asked)
    c.expect(f"* welcome, {who}{here}")
    hear(f"* {who} joined", *others)
    return c


@t.case("a taken name gets guest2 and is told; its leaving is announced")
def _():
    dave = enter("guest2", "alice", " (that name is taken); here: alice, bob, guest1",
                 [alice, bob, guest])
    dave.close()
    hear("* guest2 left", alice, bob, guest)


@t.case("someone calling itself guest3 makes the next guest guest4")
def _():
    eve = enter("guest3", "guest3", "; here: alice, bob, guest1", [alice, bob, guest])
    frank = enter("guest4", "", "; here: alice, bob, guest1, guest3", [alice, bob, guest, eve])
    eve.close()
    hear("* guest3 left", alice, bob, guest, frank)
    frank.close()
    hear("* guest4 left", alice, bob, guest)


@t.case("a client that closes is announced as left; the room goes on")
def _():
    bob.close()
    hear("* bob left", alice, guest)
    guest.send("still here")
    alice.expect("guest1: still here")


@t.case("socat client leaves at EOF on its stdin, and socat exits")
def _():
    alice.close()
    guest.expect("* alice left")
    expect_eq("socat exit status", alice.proc.returncode, 0)


idle = Server([exe, "--idle=2s", "127.0.0.1:0"])


@t.case("--idle=2s: a silent client gets 'bye', EOF, and the room hears why; an active one stays")
def _():
    stop = threading.Event()
    talker = Client("talker", idle.port)
    talker.join("talker")
    talker.expect("* welcome, talker; nobody else is here")

    def chatter():  # the talker speaks 8 times an idle period: never idle
        while not stop.wait(0.25):
            talker.send("ping")

    th = threading.Thread(target=chatter)
    th.start()
    try:
        silent = Client("silent", idle.port)
        silent.join("silent")
        joined = time.monotonic()
        lines = []
        while True:
            line = silent.line(timeout=20)
            if line is None:
                break
            lines.append(line)
        waited = time.monotonic() - joined
        expect(waited >= 1.9, f"dropped after {waited:.3f} s, before --idle")
        expect_eq("silent's last line", lines[-1:], ["* bye (idle for too long)"])
        expect_eq("silent's lines before that", set(lines[1:-1]), {"talker: ping"})
        expect_eq("silent's first line", lines[0], "* welcome, silent; here: talker")
        # The talker hears both, however many of its pings went by meanwhile.
        talker.expect("* silent joined")
        talker.expect("* silent left (idle for too long)", timeout=20)
    finally:
        stop.set()
        th.join()
    talker.close()


@t.case("--idle=2s: a connection that never names itself gets 'bye' and EOF too")
def _():
    c = Client("nameless", idle.port)
    c.expect(PROMPT)
    c.expect("* bye (idle for too long)")
    expect_eq("after bye", c.line(timeout=20), None)


slow = Server([exe, "--buffer=4", "127.0.0.1:0"])


@t.case("--buffer=4: a client that stops reading is dropped and disconnected; the room goes on")
def _():
    sloth = Client("sloth", slow.port, rcvbuf=4096)
    sloth.join("sloth")
    sloth.expect("* welcome, sloth; nobody else is here")  # then it reads no more
    flood = Client("flood", slow.port)
    flood.join("flood")
    flood.expect("* welcome, flood; here: sloth")
    stop = threading.Event()
    sent = [0]

    def flooder():  # until the drop is seen, at most 256 MiB
        line = "y" * 1000
        while not stop.is_set() and sent[0] < 256 << 20:
            flood.send(line)
            sent[0] += 1001

    th = threading.Thread(target=flooder)
    th.start()
    try:
        got = flood.line(timeout=60)
    finally:
        stop.set()
        th.join()
    expect_eq(f"flood's next line (after {sent[0] >> 10} KiB sent)", got,
              "* sloth dropped (too slow)")
    # The server closed sloth's connection: what it had sent is followed by EOF.
    sloth.sock.settimeout(20)
    try:
        while sloth.sock.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    sloth.close()
    # The room goes on once the server has worked through the flood and flood left. Until
    # then a newcomer finds flood there, and may itself be dropped under the tail of the
    # flood (a 4-line buffer): poll, a bounded number of times.
    flood.close()
    for attempt in range(200):
        newbie = Client("newbie", slow.port)
        newbie.join("newbie")
        welcome = newbie.line()
        if welcome == "* welcome, newbie; nobody else is here":
            break
        newbie.close()
        time.sleep(0.05)
    else:
        raise Failure(f"after 200 tries, the last newcomer was welcomed with {welcome!r}")
    other = Client("other", slow.port)
    other.join("other")
    other.expect("* welcome, other; here: newbie")
    newbie.expect("* other joined")
    other.send("hello")
    newbie.expect("other: hello")
    newbie.close()
    other.close()


# Bad arguments: a bad --idle, --buffer of 0 and of "1k", an unknown flag, two addresses.
server_cases(t, exe, "chat", [["--idle=x"], ["--buffer=0"], ["--buffer=1k"], ["--nick=x"],
                              [":1", ":2"]], [room, idle, slow])
t.finish()
