// tcp_test: weft::net over real TCP sockets on 127.0.0.1 and ::1 — echo at 1 and 100
// connections, large transfers, close unblocking read/write/accept (also from a foreign thread),
// eof, reset, half-close both ways, writes to a closed peer without SIGPIPE, refused and
// timed-out dials, dial options, bad addresses, address formats, socket flags, EMFILE.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "net_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::bytes;
using weft_test::each_procs;
using weft_test::Latch;
using weft_test::read_full;
using weft_test::sys_error;

namespace {

using clk = std::chrono::steady_clock;

// SigpipeDefault: SIGPIPE's default action (terminate) for the scope, so that a write raising
// it would kill the test instead of passing unnoticed.
struct SigpipeDefault {
  struct sigaction old {};
  SigpipeDefault() {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, &old);
  }
  ~SigpipeDefault() { sigaction(SIGPIPE, &old, nullptr); }
};

int getsockopt_int(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return -1;
  return v;
}

// outq: bytes in the socket's send queue (written, not yet acknowledged).
int outq(int fd) {
  int n = 0;
  return ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

}  // namespace

TEST_CASE("echo round trips at 1 and 100 concurrent connections", "[net]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> bad{0};
    rt.block_on([&] {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      REQUIRE_FALSE(err);
      std::string addr = ln.addr().to_string();
      go([ln] { weft_test::echo_server(ln); });
      for (int conns : {1, 100}) bad += weft_test::echo_clients("tcp", addr, conns, 20);
      ln.close();
    });
    CHECK(bad.load() == 0);
  });
}

TEST_CASE("large transfers go through full buffers and arrive whole and in order", "[net]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    constexpr std::size_t kTotal = 8 << 20;
    std::atomic<std::size_t> received{0};
    std::atomic<int> bad{0};
    rt.block_on([&] {
      auto [ln, c, peer] = weft_test::connect_pair();
      Latch l(2);
      go([&, c = c]() mutable {  // one write call of 8 MiB: the loop parks on EAGAIN many times
        std::vector<std::byte> buf(kTotal);
        for (std::size_t i = 0; i < kTotal; ++i) buf[i] = std::byte(i * 7 + i / 4096);
        auto r = c.write(buf);
        if (r.err || r.n != kTotal) ++bad;
        c.close_write();
        l.count_down();
      });
      go([&, peer = peer]() mutable {
        std::vector<std::byte> buf(10000);  // odd size: reads end mid-chunk
        std::size_t at = 0;
        for (;;) {
          auto r = peer.read(buf);
          if (r.err) {
            if (r.err != net::errc::eof) ++bad;
            break;
          }
          for (std::size_t i = 0; i < r.n; ++i, ++at) {
            if (buf[i] != std::byte(at * 7 + at / 4096)) ++bad;
          }
        }
        received = at;
        l.count_down();
      });
      l.wait();
    });
    CHECK(bad.load() == 0);
    CHECK(received.load() == kTotal);
  });
}

TEST_CASE("close wakes a fiber blocked in read, write or accept; later calls fail", "[net]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto [ln, c, peer] = weft_test::connect_pair();  // never reads: c's writes fill the buffers
      std::error_code read_err, write_err;
      std::size_t written = 0;
      Latch l(2);
      go([&, c = c]() mutable {
        std::byte buf[16];
        read_err = c.read(buf).err;
        l.count_down();
      });
      std::vector<std::byte> big(64 << 20);  // far more than the socket buffers hold
      go([&, c = c]() mutable {
        auto r = c.write(big);
        written = r.n;
        write_err = r.err;
        l.count_down();
      });
      // Close once the writer has written something (then its 64 MiB cannot all fit: it parks,
      // or is about to). The reader fails with errc::closed whether it parked before or not.
      while (outq(c.fd()) == 0) sleep_for(1ms);
      CHECK_FALSE(c.close());
      l.wait();
      CHECK(read_err == net::errc::closed);
      CHECK(read_err.message() == "use of closed network connection");
      CHECK(write_err == net::errc::closed);
      CHECK(written > 0);  // the partial count comes with the error
      CHECK(written < (64u << 20));
      std::byte buf[4];
      CHECK(c.read(buf).err == net::errc::closed);
      CHECK(c.write(std::span<const std::byte>(buf, 4)).err == net::errc::closed);
      CHECK(c.close() == net::errc::closed);
      CHECK(c.close_read() == net::errc::closed);
      CHECK(c.close_write() == net::errc::closed);
      CHECK(c.set_deadline(clk::now()) == net::errc::closed);
      CHECK(c.set_read_deadline({}) == net::errc::closed);
      CHECK(c.set_write_deadline({}) == net::errc::closed);
      CHECK(c.set_no_delay(true) == net::errc::closed);
      CHECK(c.set_keep_alive(true) == net::errc::closed);
      // The listener: accept blocked, then close.
      std::error_code accept_err;
      Latch l2(1);
      go([&, ln = ln]() mutable {
        accept_err = ln.accept().err;
        l2.count_down();
      });
      sleep_for(20ms);
      CHECK_FALSE(ln.close());
      l2.wait();
      CHECK(accept_err == net::errc::closed);
      CHECK(ln.accept().err == net::errc::closed);
      CHECK(ln.close() == net::errc::closed);
      CHECK(ln.set_deadline({}) == net::errc::closed);
      // An empty Conn / Listener reports closed too.
      CHECK(net::Conn().read(buf).err == net::errc::closed);
      CHECK(net::Listener().accept().err == net::errc::closed);
    });
  });
}

TEST_CASE("a thread that is not a fiber can close a connection a fiber is blocked on", "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, derr] = net::dial("tcp", ln.addr().to_string());
    REQUIRE_FALSE(derr);
    std::error_code read_err;
    Latch l(1);
    go([&, c = c]() mutable {
      std::byte buf[16];
      read_err = c.read(buf).err;
      l.count_down();
    });
    sleep_for(20ms);
    std::error_code close_err;
    std::thread t([&] { close_err = c.close(); });
    weft::blocking([&] { t.join(); });
    l.wait();
    CHECK_FALSE(close_err);
    CHECK(read_err == net::errc::closed);
  });
}

TEST_CASE("peer close is EOF, a reset peer is ECONNRESET, writes to it never raise SIGPIPE",
          "[net]") {
  SigpipeDefault sigpipe;
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    {  // orderly close: EOF, then 20 writes to the closed peer
      auto [c, derr] = net::dial("tcp", ln.addr().to_string());
      auto [peer, aerr] = ln.accept();
      REQUIRE_FALSE(derr);
      REQUIRE_FALSE(aerr);
      peer.close();
      std::byte buf[8];
      auto r = c.read(buf);
      CHECK(r.err == net::errc::eof);
      CHECK(r.err.message() == "EOF");
      CHECK(r.n == 0);
      CHECK(c.read(buf).err == net::errc::eof);     // and again
      auto empty = c.read(std::span<std::byte>());  // a zero-byte read is not EOF (Go)
      CHECK_FALSE(empty.err);
      CHECK(empty.n == 0);
      int failed = 0, other = 0;
      for (int i = 0; i < 20; ++i) {
        std::error_code e = c.write(bytes("x")).err;
        if (e) ++failed;
        if (e && e != sys_error(EPIPE) && e != sys_error(ECONNRESET)) ++other;
        sleep_for(1ms);  // let the peer's RST arrive
      }
      CHECK(failed >= 19);  // the first write may still go out; the RST fails the rest
      CHECK(other == 0);
    }
    {  // reset: SO_LINGER 0 makes close send RST
      auto [c, derr] = net::dial("tcp", ln.addr().to_string());
      auto [peer, aerr] = ln.accept();
      REQUIRE_FALSE(derr);
      REQUIRE_FALSE(aerr);
      linger lg{1, 0};
      REQUIRE(setsockopt(peer.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
      peer.close();
      std::byte buf[8];
      auto r = c.read(buf);
      CHECK(r.err == sys_error(ECONNRESET));
      int failed = 0;
      for (int i = 0; i < 20; ++i) failed += bool(c.write(bytes("x")).err);  // EPIPE, no signal
      CHECK(failed == 20);
    }
    ln.close();
  });
}

TEST_CASE("half-close works both ways", "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, c, peer] = weft_test::connect_pair();
    std::byte buf[16];
    std::error_code e;
    // close_write: the peer reads EOF after the data, and can still answer.
    CHECK_FALSE(c.write(bytes("request")).err);
    CHECK_FALSE(c.close_write());
    CHECK(read_full(peer, 7, &e) == "request");
    CHECK(peer.read(buf).err == net::errc::eof);
    CHECK_FALSE(peer.write(bytes("response")).err);
    CHECK(read_full(c, 8, &e) == "response");
    CHECK(c.write(bytes("more")).err == sys_error(EPIPE));  // our side is shut
    // close_read: our reads end at once; our writes still go out.
    CHECK_FALSE(peer.close_read());
    CHECK(peer.read(buf).err == net::errc::eof);
    CHECK_FALSE(peer.write(bytes("after")).err);
    CHECK(read_full(c, 5, &e) == "after");
    CHECK_FALSE(e);
  });
}

TEST_CASE("dial: refused, timed out against a full backlog, past deadlines", "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      REQUIRE_FALSE(err);
      std::string addr = ln.addr().to_string();
      ln.close();  // nobody listens there now
      auto r = net::dial("tcp", addr);
      CHECK(r.err == sys_error(ECONNREFUSED));
      CHECK_FALSE(r.value);
    }
    // A backlog of 1 that nobody accepts: once the queue is full, Linux drops the SYNs and
    // connects hang until the dial's timeout.
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0", net::ListenOptions{.backlog = 1});
    REQUIRE_FALSE(err);
    std::vector<net::Conn> queued;
    std::error_code last;
    auto elapsed = clk::duration{};
    constexpr auto kTimeout = 200ms;
    for (int i = 0; i < 16 && last != net::errc::timeout; ++i) {
      auto t0 = clk::now();
      auto [c, derr] =
          net::dial("tcp", ln.addr().to_string(), net::DialOptions{.timeout = kTimeout});
      elapsed = clk::now() - t0;
      last = derr;
      if (!derr) queued.push_back(c);
    }
    INFO("connections queued before the timeout: " << queued.size());
    CHECK(last == net::errc::timeout);
    CHECK(elapsed >= kTimeout);  // never early
    CHECK(elapsed < 5s);         // sanity bound
    // An absolute deadline works the same, and the earlier of timeout and deadline wins.
    auto t0 = clk::now();
    auto r = net::dial("tcp", ln.addr().to_string(),
                       net::DialOptions{.timeout = 10s, .deadline = t0 + 100ms});
    CHECK(r.err == net::errc::timeout);
    CHECK(clk::now() - t0 >= 100ms);
    // A deadline already past fails before connecting, even to a listener that would accept.
    auto [ok, oerr] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(oerr);
    auto past =
        net::dial("tcp", ok.addr().to_string(), net::DialOptions{.deadline = clk::now() - 1s});
    CHECK(past.err == net::errc::timeout);
  });
}

TEST_CASE("dial options: local address, keep-alive and no-delay defaults", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    std::string addr = ln.addr().to_string();
    // A local port chosen by us: free it first by listening there and closing.
    int port;
    {
      auto [tmp, terr] = net::listen("tcp4", "127.0.0.1:0");
      REQUIRE_FALSE(terr);
      port = tmp.addr().port();
    }
    std::string local = weft_test::hostport("127.0.0.1", port);
    auto [c, derr] = net::dial("tcp", addr, net::DialOptions{.local_address = local});
    REQUIRE_FALSE(derr);
    CHECK(c.local_addr().to_string() == local);
    auto [peer, aerr] = ln.accept();
    REQUIRE_FALSE(aerr);
    CHECK(peer.remote_addr().to_string() == local);
    // Go's defaults on both ends: no delay, keep-alive every 15 s.
    for (const net::Conn* x : {&c, &peer}) {
      CHECK(getsockopt_int(x->fd(), IPPROTO_TCP, TCP_NODELAY) == 1);
      CHECK(getsockopt_int(x->fd(), SOL_SOCKET, SO_KEEPALIVE) == 1);
      CHECK(getsockopt_int(x->fd(), IPPROTO_TCP, TCP_KEEPIDLE) == 15);
      CHECK(getsockopt_int(x->fd(), IPPROTO_TCP, TCP_KEEPINTVL) == 15);
    }
    CHECK_FALSE(c.set_no_delay(false));
    CHECK(getsockopt_int(c.fd(), IPPROTO_TCP, TCP_NODELAY) == 0);
    CHECK_FALSE(c.set_keep_alive_period(7s));
    CHECK(getsockopt_int(c.fd(), IPPROTO_TCP, TCP_KEEPIDLE) == 7);
    CHECK_FALSE(c.set_keep_alive(false));
    CHECK(getsockopt_int(c.fd(), SOL_SOCKET, SO_KEEPALIVE) == 0);
    auto [c2, d2] = net::dial("tcp", addr, net::DialOptions{.keep_alive = -1s});
    REQUIRE_FALSE(d2);
    CHECK(getsockopt_int(c2.fd(), SOL_SOCKET, SO_KEEPALIVE) == 0);
    auto [c3, d3] = net::dial("tcp", addr, net::DialOptions{.keep_alive = 42s});
    REQUIRE_FALSE(d3);
    CHECK(getsockopt_int(c3.fd(), IPPROTO_TCP, TCP_KEEPIDLE) == 42);
    // A listener's option applies to what it accepts.
    auto [ln2, lerr] = net::listen("tcp", "127.0.0.1:0", net::ListenOptions{.keep_alive = -1s});
    REQUIRE_FALSE(lerr);
    auto [c4, d4] = net::dial("tcp", ln2.addr().to_string());
    REQUIRE_FALSE(d4);
    auto [p4, a4] = ln2.accept();
    REQUIRE_FALSE(a4);
    CHECK(getsockopt_int(p4.fd(), SOL_SOCKET, SO_KEEPALIVE) == 0);
    // A local address of the other family leaves nothing to dial.
    CHECK(net::dial("tcp", addr, net::DialOptions{.local_address = "[::1]:0"}).err ==
          net::errc::no_suitable_address);
    CHECK(net::dial("tcp", addr, net::DialOptions{.local_address = "nonsense"}).err ==
          net::errc::bad_address);
  });
}

TEST_CASE("bad addresses and networks are error codes, never exceptions or crashes", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:-1",
                            "127.0.0.1:+80", "127.0.0.1:http", "::1:80", "[::1:80", "[::1]80",
                            "[::1]", "1.2.3.4:x", "", ":", "[]]:80"}) {
      INFO(bad);
      CHECK(net::dial("tcp", bad).err == net::errc::bad_address);
      CHECK(net::listen("tcp", bad).err == net::errc::bad_address);
    }
    for (const char* network : {"", "ip", "tcp5", "TCP", "unixpacket", "sctp"}) {
      INFO(network);
      CHECK(net::dial(network, "127.0.0.1:80").err == net::errc::unknown_network);
      CHECK(net::listen(network, "127.0.0.1:0").err == net::errc::unknown_network);
      CHECK(net::listen_packet(network, "127.0.0.1:0").err == net::errc::unknown_network);
    }
    CHECK(net::listen("udp", "127.0.0.1:0").err == net::errc::unknown_network);  // listen_packet
    CHECK(net::listen_packet("tcp", "127.0.0.1:0").err == net::errc::unknown_network);
    CHECK(net::dial("tcp4", "[::1]:80").err == net::errc::no_suitable_address);
    CHECK(net::dial("tcp6", "127.0.0.1:80").err == net::errc::no_suitable_address);
    // The resolver: a reserved name never resolves (no network here may mean "failed").
    std::error_code host_err = net::dial("tcp", "no-such-host.invalid:80").err;
    CHECK((host_err == net::errc::no_such_host || host_err == net::errc::lookup_failed));
    CHECK(net::make_error_code(net::errc::no_such_host).message() == "no such host");
    CHECK(net::make_error_code(net::errc::bad_address).message() == "invalid address");
    CHECK(net::make_error_code(net::errc::timeout).category().name() == std::string("weft.net"));
    CHECK(net::resolve_addr("tcp", "bad").err == net::errc::bad_address);
  });
}

TEST_CASE("addresses: IPv4, IPv6, dual-stack, host names, formats like Go's", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [ln4, err4] = net::listen("tcp4", "127.0.0.1:0");
    REQUIRE_FALSE(err4);
    CHECK(ln4.addr().to_string().rfind("127.0.0.1:", 0) == 0);
    int port = ln4.addr().port();
    CHECK(port > 0);
    auto [c, derr] = net::dial("tcp", ln4.addr().to_string());
    REQUIRE_FALSE(derr);
    CHECK(c.remote_addr().to_string() == ln4.addr().to_string());
    CHECK(c.remote_addr() == ln4.addr());
    CHECK(c.local_addr().to_string().rfind("127.0.0.1:", 0) == 0);
    // ":port" dials the local system; names resolve through getaddrinfo.
    CHECK_FALSE(net::dial("tcp", weft_test::hostport("", port)).err);
    CHECK_FALSE(net::dial("tcp4", weft_test::hostport("localhost", port)).err);
    auto [ra, rerr] = net::resolve_addr("tcp4", "localhost:80");
    CHECK_FALSE(rerr);
    CHECK(ra.to_string() == "127.0.0.1:80");
    // IPv6 (the loopback ::1 exists here; skipped with a message where it does not).
    auto [ln6, err6] = net::listen("tcp6", "[::1]:0");
    if (err6) {
      WARN("no IPv6 loopback: " << err6.message());
      return;
    }
    CHECK(ln6.addr().to_string() == weft_test::hostport("[::1]", ln6.addr().port()));
    auto [c6, d6] = net::dial("tcp", ln6.addr().to_string());
    REQUIRE_FALSE(d6);
    CHECK(c6.local_addr().to_string().rfind("[::1]:", 0) == 0);
    // "tcp" on all addresses is one dual-stack socket: IPv4 and IPv6 clients both get in, and
    // an IPv4 peer prints as IPv4.
    auto [any, aerr] = net::listen("tcp", ":0");
    REQUIRE_FALSE(aerr);
    CHECK(any.addr().to_string() == weft_test::hostport("[::]", any.addr().port()));
    int p = any.addr().port();
    auto [v4, e4] = net::dial("tcp4", weft_test::hostport("127.0.0.1", p));
    auto [v6, e6] = net::dial("tcp6", weft_test::hostport("[::1]", p));
    CHECK_FALSE(e4);
    CHECK_FALSE(e6);
    auto [a1, x1] = any.accept();
    auto [a2, x2] = any.accept();
    REQUIRE_FALSE(x1);
    REQUIRE_FALSE(x2);
    if (a1.remote_addr().to_string() == v6.local_addr().to_string()) {
      std::swap(a1, a2);  // accepted in the other order
    }
    CHECK(a1.remote_addr().to_string() == v4.local_addr().to_string());
    CHECK(a1.remote_addr().to_string().rfind("127.0.0.1:", 0) == 0);  // IPv4-mapped, shown as v4
    CHECK(a2.remote_addr().to_string() == v6.local_addr().to_string());
    // "tcp4" on all addresses is 0.0.0.0; "tcp6" on all addresses takes IPv6 only.
    auto [any4, a4err] = net::listen("tcp4", ":0");
    REQUIRE_FALSE(a4err);
    CHECK(any4.addr().to_string() == weft_test::hostport("0.0.0.0", any4.addr().port()));
    auto [any6, a6err] = net::listen("tcp6", ":0");
    REQUIRE_FALSE(a6err);
    CHECK(net::dial("tcp4", weft_test::hostport("127.0.0.1", any6.addr().port())).err ==
          sys_error(ECONNREFUSED));
  });
}

TEST_CASE("listen options: reuse_port shares a port, backlog and addresses are checked", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [a, aerr] = net::listen("tcp", "127.0.0.1:0", net::ListenOptions{.reuse_port = true});
    REQUIRE_FALSE(aerr);
    std::string addr = a.addr().to_string();
    auto [b, berr] = net::listen("tcp", addr, net::ListenOptions{.reuse_port = true});
    CHECK_FALSE(berr);  // both listen on one port; the kernel spreads connections over them
    CHECK(b.addr() == a.addr());
    CHECK(net::listen("tcp", addr).err == sys_error(EADDRINUSE));  // without the option
    auto [c, derr] = net::dial("tcp", addr);
    CHECK_FALSE(derr);
  });
}

TEST_CASE("every socket is non-blocking and close-on-exec", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [ln, c, peer] = weft_test::connect_pair();
    auto [pc, perr] = net::listen_packet("udp", "127.0.0.1:0");
    REQUIRE_FALSE(perr);
    auto [uc, uerr] = net::dial("udp", pc.local_addr().to_string());
    REQUIRE_FALSE(uerr);
    for (int fd : {ln.fd(), c.fd(), peer.fd(), pc.fd(), uc.fd()}) {
      INFO("fd " << fd);
      CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
      CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    }
  });
}

TEST_CASE("EMFILE from accept is returned, not retried, and accept works once fds are free",
          "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, derr] = net::dial("tcp", ln.addr().to_string());  // now in the accept queue
    REQUIRE_FALSE(derr);
    rlimit old;
    REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
    rlimit low = old;
    low.rlim_cur = 512;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    std::vector<int> hogs;
    for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) hogs.push_back(fd);
    int open_errno = errno;
    // The pending connection keeps the listener readable: a retrying accept would spin here.
    auto r1 = ln.accept();
    auto r2 = ln.accept();  // and again: still reported, still pending
    for (int fd : hogs) close(fd);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK(open_errno == EMFILE);
    CHECK(r1.err == sys_error(EMFILE));
    CHECK(r2.err == sys_error(EMFILE));
    auto [peer, aerr] = ln.accept();
    REQUIRE_FALSE(aerr);
    CHECK(peer.remote_addr() == c.local_addr());
  });
}
