// tcp_test: weft::net over real loopback sockets — echo at 1 and 100 connections, close
// unblocking read and accept, deadlines (expire, past beats data), eof and reset, refused dials,
// bad addresses, writes to a closed peer without SIGPIPE, half-close, addresses.
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <vector>

#include <weft/net.hpp>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;
using weft_test::Latch;

namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// echo_server accepts until the listener closes; each connection echoes until EOF.
void echo_server(net::Listener ln) {
  for (;;) {
    auto [c, err] = ln.accept();
    if (err) return;
    go([c = std::move(c)]() mutable {
      std::byte buf[4096];
      for (;;) {
        auto r = c.read(buf);
        if (r.err) break;
        if (c.write(std::span(buf, r.n)).err) break;
      }
      c.close();
    });
  }
}

// read_full reads exactly n bytes (or fails).
std::string read_full(net::Conn& c, std::size_t n, std::error_code* err) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    auto r = c.read(std::as_writable_bytes(std::span(out.data() + got, n - got)));
    if (r.err) {
      *err = r.err;
      out.resize(got);
      return out;
    }
    got += r.n;
  }
  return out;
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
      go([ln] { echo_server(ln); });
      for (int conns : {1, 100}) {
        Latch l(conns);
        for (int i = 0; i < conns; ++i) {
          go([&, i] {
            auto [c, derr] = net::dial("tcp", addr);
            if (derr) {
              ++bad;
              l.count_down();
              return;
            }
            for (int k = 0; k < 20; ++k) {
              std::string msg = "conn " + std::to_string(i) + " message " + std::to_string(k);
              std::error_code e;
              if (c.write(bytes(msg)).err || read_full(c, msg.size(), &e) != msg) ++bad;
            }
            c.close();
            l.count_down();
          });
        }
        l.wait();
      }
      ln.close();
    });
    CHECK(bad.load() == 0);
  });
}

TEST_CASE("close from another fiber unblocks a read and every later call fails", "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, derr] = net::dial("tcp", ln.addr().to_string());
    REQUIRE_FALSE(derr);
    std::error_code read_err;
    Latch l(1);
    go([&] {
      std::byte buf[16];
      read_err = c.read(buf).err;
      l.count_down();
    });
    sleep_for(5ms);
    CHECK_FALSE(c.close());
    l.wait();
    CHECK(read_err == net::errc::closed);
    CHECK(read_err.message() == "use of closed network connection");
    std::byte buf[4];
    CHECK(c.read(buf).err == net::errc::closed);
    CHECK(c.write(std::span<const std::byte>(buf, 4)).err == net::errc::closed);
    CHECK(c.close() == net::errc::closed);
    // And a listener's close unblocks its accept (a fresh one: the first has c in its backlog).
    auto [ln2, err2] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err2);
    std::error_code accept_err;
    Latch l2(1);
    go([&] {
      accept_err = ln2.accept().err;
      l2.count_down();
    });
    sleep_for(5ms);
    ln2.close();
    l2.wait();
    CHECK(accept_err == net::errc::closed);
  });
}

TEST_CASE("read deadlines time out and a past deadline beats ready data", "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, derr] = net::dial("tcp", ln.addr().to_string());
    REQUIRE_FALSE(derr);
    auto [peer, aerr] = ln.accept();
    REQUIRE_FALSE(aerr);
    std::byte buf[16];
    auto t0 = std::chrono::steady_clock::now();
    c.set_read_deadline(t0 + 20ms);
    auto r = c.read(buf);
    CHECK(r.err == net::errc::timeout);
    CHECK(r.err.message() == "i/o timeout");
    CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);
    REQUIRE_FALSE(peer.write(bytes("data")).err);
    sleep_for(2ms);
    c.set_read_deadline(std::chrono::steady_clock::now() - 1s);
    CHECK(c.read(buf).err == net::errc::timeout);  // data is there, the deadline wins
    c.set_read_deadline({});                       // cleared
    auto r2 = c.read(buf);
    CHECK_FALSE(r2.err);
    CHECK(r2.n == 4);
  });
}

TEST_CASE("peer close is EOF, a reset peer is ECONNRESET, writes to it never raise SIGPIPE",
          "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    {
      auto [c, derr] = net::dial("tcp", ln.addr().to_string());
      auto [peer, aerr] = ln.accept();
      REQUIRE_FALSE(derr);
      REQUIRE_FALSE(aerr);
      peer.close_write();  // half-close: c reads EOF, and can still write
      std::byte buf[8];
      CHECK(c.read(buf).err == net::errc::eof);
      CHECK_FALSE(c.write(bytes("still")).err);
      peer.close();
    }
    {
      auto [c, derr] = net::dial("tcp", ln.addr().to_string());
      auto [peer, aerr] = ln.accept();
      REQUIRE_FALSE(derr);
      REQUIRE_FALSE(aerr);
      linger lg{1, 0};  // close with RST
      setsockopt(peer.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      peer.close();
      std::byte buf[8];
      auto r = c.read(buf);
      CHECK(r.err == std::error_code(ECONNRESET, std::system_category()));
      int failed = 0;
      for (int i = 0; i < 20; ++i) failed += bool(c.write(bytes("x")).err);  // EPIPE, no signal
      CHECK(failed == 20);
    }
    ln.close();
  });
}

TEST_CASE("dialing errors are error codes, never exceptions or crashes", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    std::string addr = ln.addr().to_string();
    ln.close();  // nobody listens there now
    CHECK(net::dial("tcp", addr).err == std::error_code(ECONNREFUSED, std::system_category()));
    CHECK(net::dial("udp", addr).err == net::errc::unknown_network);
    for (const char* bad :
         {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "::1:80", "[::1:80", "1.2.3.4:x"}) {
      INFO(bad);
      CHECK(net::dial("tcp", bad).err == net::errc::bad_address);
    }
    CHECK(net::dial("tcp4", "[::1]:80").err == net::errc::bad_address);
  });
}

TEST_CASE("addresses format like Go's, for IPv4 and IPv6", "[net]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [ln4, err4] = net::listen("tcp4", "127.0.0.1:0");
    REQUIRE_FALSE(err4);
    CHECK(ln4.addr().to_string().rfind("127.0.0.1:", 0) == 0);
    CHECK(ln4.addr().port() > 0);
    auto [c, derr] = net::dial("tcp", ln4.addr().to_string());
    REQUIRE_FALSE(derr);
    CHECK(c.remote_addr().to_string() == ln4.addr().to_string());
    CHECK(c.local_addr().to_string().rfind("127.0.0.1:", 0) == 0);
    CHECK_FALSE(c.set_no_delay(true));
    auto [ln6, err6] = net::listen("tcp6", "[::1]:0");
    if (!err6) {  // IPv6 loopback present
      CHECK(ln6.addr().to_string().rfind("[::1]:", 0) == 0);
      auto [c6, d6] = net::dial("tcp", ln6.addr().to_string());
      CHECK_FALSE(d6);
    }
  });
}
