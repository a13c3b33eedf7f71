// udp_test: datagram sockets — listen_packet("udp") read_from/write_to with addresses, empty and
// truncated datagrams (through PacketConn and a dialed, connected Conn), deadlines (Go's
// TestReadFromTimeout and its fluctuation test), close unblocking read_from, IPv6.
#include <atomic>
#include <string>
#include <vector>

#include "net_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::bytes;
using weft_test::each_procs;
using weft_test::Latch;

using clk = std::chrono::steady_clock;
using weft_test::str;

TEST_CASE("udp: datagrams go both ways with their senders' addresses", "[net][udp]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto [a, aerr] = net::listen_packet("udp", "127.0.0.1:0");
      auto [b, berr] = net::listen_packet("udp4", "127.0.0.1:0");
      REQUIRE_FALSE(aerr);
      REQUIRE_FALSE(berr);
      CHECK(a.local_addr().to_string().rfind("127.0.0.1:", 0) == 0);
      // An echoing fiber on a.
      go([a = a]() mutable {
        std::byte buf[2048];
        for (;;) {
          auto [n, from, err] = a.read_from(buf);
          if (err) return;
          a.write_to(std::span(buf, n), from);
        }
      });
      std::byte buf[2048];
      for (int i = 0; i < 50; ++i) {
        std::string msg = "datagram " + std::to_string(i);
        auto w = b.write_to(bytes(msg), a.local_addr());
        CHECK_FALSE(w.err);
        CHECK(w.n == msg.size());
        auto [n, from, err] = b.read_from(buf);
        REQUIRE_FALSE(err);
        CHECK(from == a.local_addr());
        CHECK(str(std::span(buf, n)) == msg);
      }
      // resolve_addr gives an Addr to write to.
      auto [to, rerr] = net::resolve_addr("udp", a.local_addr().to_string());
      REQUIRE_FALSE(rerr);
      CHECK_FALSE(b.write_to(bytes("resolved"), to).err);
      auto r = b.read_from(buf);
      CHECK(str(std::span(buf, r.n)) == "resolved");
      CHECK(b.write_to(bytes("x"), net::Addr()).err == net::errc::bad_address);
      a.close();
    });
  });
}

TEST_CASE("udp: an empty datagram is n = 0 without an error; a long one is truncated",
          "[net][udp]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [srv, err] = net::listen_packet("udp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, derr] = net::dial("udp", srv.local_addr().to_string());  // a connected Conn
    REQUIRE_FALSE(derr);
    CHECK(c.remote_addr() == srv.local_addr());
    std::byte buf[64];
    // Conn -> PacketConn: an empty datagram.
    auto w = c.write({});
    CHECK_FALSE(w.err);
    CHECK(w.n == 0);
    auto [n, from, rerr] = srv.read_from(buf);
    CHECK_FALSE(rerr);
    CHECK(n == 0);
    CHECK(from == c.local_addr());
    // PacketConn -> Conn: an empty datagram is not EOF on a datagram socket.
    CHECK_FALSE(srv.write_to({}, c.local_addr()).err);
    auto r = c.read(buf);
    CHECK_FALSE(r.err);
    CHECK(r.n == 0);
    // Truncation: 100 bytes into 10; the rest is gone and the next datagram is whole.
    std::string hundred(100, 'a');
    for (int i = 0; i < 100; ++i) hundred[std::size_t(i)] = char('a' + i % 26);
    CHECK_FALSE(c.write(bytes(hundred)).err);
    CHECK_FALSE(c.write(bytes("next")).err);
    auto t1 = srv.read_from(std::span(buf, 10));
    CHECK_FALSE(t1.err);
    CHECK(t1.n == 10);
    CHECK(str(std::span(buf, 10)) == hundred.substr(0, 10));
    auto t2 = srv.read_from(buf);
    CHECK(str(std::span(buf, t2.n)) == "next");
    // The same through Conn::read.
    CHECK_FALSE(srv.write_to(bytes(hundred), c.local_addr()).err);
    CHECK_FALSE(srv.write_to(bytes("after"), c.local_addr()).err);
    auto t3 = c.read(std::span(buf, 10));
    CHECK_FALSE(t3.err);
    CHECK(t3.n == 10);
    auto t4 = c.read(buf);
    CHECK(str(std::span(buf, t4.n)) == "after");
  });
}

TEST_CASE("udp: read_from deadlines (Go's TestReadFromTimeout and fluctuation), close unblocks",
          "[net][udp]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [srv, err] = net::listen_packet("udp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, cerr] = net::listen_packet("udp", "127.0.0.1:0");
    REQUIRE_FALSE(cerr);
    REQUIRE_FALSE(srv.write_to(bytes("READFROM TIMEOUT TEST"), c.local_addr()).err);
    sleep_for(5ms);
    std::byte b[1];
    c.set_read_deadline(clk::now() - 5s);  // a datagram is ready; the past deadline wins
    for (int j = 0; j < 2; ++j) {
      auto r = c.read_from(b);
      CHECK(r.err == net::errc::timeout);
      CHECK(r.n == 0);
    }
    c.set_read_deadline({});
    CHECK_FALSE(c.read_from(b).err);  // the datagram (truncated to one byte)
    for (auto d : {1ms, 5ms, 50ms}) {
      auto t0 = clk::now();
      c.set_read_deadline(t0 + d);
      auto r = c.read_from(b);
      auto t1 = clk::now();
      CHECK(r.err == net::errc::timeout);
      CHECK(t1 >= t0 + d);
      CHECK(t1 - t0 < d + 2s);
    }
    c.set_write_deadline(clk::now() - 1s);
    CHECK(c.write_to(bytes("x"), srv.local_addr()).err == net::errc::timeout);
    c.set_deadline({});
    CHECK_FALSE(c.write_to(bytes("x"), srv.local_addr()).err);
    // close unblocks a blocked read_from.
    std::error_code read_err;
    Latch l(1);
    go([&, srv = srv]() mutable {
      std::byte buf[8];
      srv.read_from(buf);  // the "x"
      read_err = srv.read_from(buf).err;
      l.count_down();
    });
    sleep_for(20ms);
    CHECK_FALSE(srv.close());
    l.wait();
    CHECK(read_err == net::errc::closed);
    CHECK(srv.read_from(b).err == net::errc::closed);
    CHECK(srv.write_to(bytes("x"), c.local_addr()).err == net::errc::closed);
    CHECK(srv.close() == net::errc::closed);
    CHECK(net::PacketConn().read_from(b).err == net::errc::closed);
  });
}

TEST_CASE("udp over IPv6, and a dual-stack wildcard socket", "[net][udp]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [a, aerr] = net::listen_packet("udp6", "[::1]:0");
    if (aerr) {
      WARN("no IPv6 loopback: " << aerr.message());
      return;
    }
    CHECK(a.local_addr().to_string().rfind("[::1]:", 0) == 0);
    auto [c, cerr] = net::dial("udp", a.local_addr().to_string());
    REQUIRE_FALSE(cerr);
    CHECK_FALSE(c.write(bytes("six")).err);
    std::byte buf[16];
    auto [n, from, err] = a.read_from(buf);
    CHECK_FALSE(err);
    CHECK(str(std::span(buf, n)) == "six");
    CHECK(from == c.local_addr());
    auto [any, anyerr] = net::listen_packet("udp", ":0");
    REQUIRE_FALSE(anyerr);
    auto [c4, c4err] = net::dial("udp4", weft_test::hostport("127.0.0.1", any.local_addr().port()));
    REQUIRE_FALSE(c4err);
    CHECK_FALSE(c4.write(bytes("four")).err);
    auto r = any.read_from(buf);
    CHECK_FALSE(r.err);
    CHECK(r.addr.to_string() == c4.local_addr().to_string());  // IPv4-mapped, shown as IPv4
  });
}

TEST_CASE("udp: a reader parked when the port-unreachable error arrives gets ECONNREFUSED",
          "[net][udp]") {
  // The error comes with writability (EPOLLERR|EPOLLOUT), so the poller leaves it to the
  // system call, as Go does: the read reports ECONNREFUSED, not "not pollable".
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [p, perr] = net::listen_packet("udp", "127.0.0.1:0");
    REQUIRE_FALSE(perr);
    std::string addr = p.local_addr().to_string();
    p.close();  // nothing listens on that port now
    auto [c, derr] = net::dial("udp", addr);
    REQUIRE_FALSE(derr);
    net::IoResult r;
    std::atomic<bool> read_done{false};
    Latch done(1);
    go([&] {
      c.set_read_deadline(clk::now() + 10s);
      std::byte buf[16];
      r = c.read(buf);
      read_done = true;
      done.count_down();
    });
    auto& waiters = weft::detail::current_g()->sched->netpoll.waiters;
    while (waiters.load() < 1 && !read_done) weft::yield();  // the reader is parked (or failed)
    (void)c.write(bytes("x"));  // on loopback the ICMP error is back at once
    done.wait();
    CHECK(r.err == std::errc::connection_refused);
    // And again: nothing sticky was left behind ("not pollable" for every later read).
    (void)c.write(bytes("y"));
    std::byte buf[16];
    CHECK(c.read(buf).err == std::errc::connection_refused);
  });
}
