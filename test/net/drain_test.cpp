// drain_test: the drained read on TCP (net/fd.hpp D1-D5, runtime/netpoll.hpp N6) — after a
// short read the next read waits for the poller instead of making a recv that fails; urgent
// data, a FIN or a reset already received must still be read at once, never waited for.
//
// The dangerous cases need the poller to harvest the event after everything arrived and
// before the reader reads: the peer is a fiber that sends without yielding while the reader is
// parked (netpoll.waiters says so), so at procs = 1 nothing can harvest in between.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "fd.hpp"
#include "net_support.hpp"

namespace weft::net::detail {
// ConnAccess (declared in conn.hpp): the tests' way to a Conn's NetFD.
struct ConnAccess {
  static NetFD& fd(Conn& c) { return *c.fd_; }
};
}  // namespace weft::net::detail

namespace {

using namespace weft;
using namespace std::chrono_literals;
using weft::net::detail::ConnAccess;
using weft_test::bytes;
using weft_test::each_procs;
using weft_test::Latch;

constexpr auto kBound = 10s;  // a sanity bound: a lost wakeup ends as a timeout, not a hang

std::uint64_t eagain_reads(net::Conn& c) { return ConnAccess::fd(c).eagain_reads; }

// wait_parked_readers yields until n fibers of this runtime wait in the poller.
void wait_parked_readers(int n) {
  auto& waiters = detail::current_g()->sched->netpoll.waiters;
  while (waiters.load() < n) weft::yield();
}

// read_str reads once into a 4 KiB buffer under a kBound deadline.
net::IoResult read_str(net::Conn& c, std::string* out) {
  c.set_read_deadline(std::chrono::steady_clock::now() + kBound);
  std::byte buf[4096];
  auto r = c.read(buf);
  out->assign(reinterpret_cast<const char*>(buf), r.n);
  return r;
}

// read_later: the server reads while the client writes msg only once the server is parked;
// returns the recvs that failed with EAGAIN during that read. REQUIREs msg back.
std::uint64_t read_later(weft_test::Pair& p, const std::string& msg) {
  auto before = eagain_reads(p.server);
  go([&] {
    wait_parked_readers(1);
    (void)p.client.write(bytes(msg));
  });
  std::string got;
  REQUIRE_FALSE(read_str(p.server, &got).err);
  REQUIRE(got == msg);
  return eagain_reads(p.server) - before;
}

// pingpong: `rounds` round trips of 10-byte messages from a to b and back; b's reads are short.
// Each message is sent once b's reader is parked, so every read of b starts before its data is
// there, whatever the load. Returns false on any error or wrong byte.
bool pingpong(net::Conn& a, net::Conn& b, int rounds) {
  std::atomic<bool> ok{true};
  Latch done(1);
  go([&] {
    std::byte buf[4096];
    for (int i = 0; i < rounds; ++i) {
      auto r = b.read(buf);
      if (r.err || b.write(std::span(buf, r.n)).err) {
        ok = false;
        break;
      }
    }
    done.count_down();
  });
  auto& waiters = detail::current_g()->sched->netpoll.waiters;
  for (int i = 0; i < rounds && ok; ++i) {
    std::string msg = "ping " + std::to_string(100000 + i).substr(1);  // 10 bytes
    std::error_code e;
    while (ok && waiters.load() < 1) weft::yield();  // b's reader parks (a's is not parked now)
    if (!ok || a.write(bytes(msg)).err || weft_test::read_full(a, msg.size(), &e) != msg) {
      ok = false;
      (void)a.close();  // b's reader, if still waiting, ends with EOF: a failure, not a hang
    }
  }
  done.wait();
  return ok;
}

TEST_CASE("drained TCP reads: after a short read no recv fails with EAGAIN", "[net][drain]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      constexpr int kRounds = 200;
      auto p = weft_test::connect_pair("tcp", "127.0.0.1:0");
      REQUIRE(pingpong(p.client, p.server, kRounds));
      // The first read finds nothing and parks through EAGAIN; every later one follows a
      // short read and waits for the poller first (D1). A stale edge would cost one EAGAIN;
      // a ping-pong makes none, but allow a few.
      CHECK(eagain_reads(p.server) <= 3);

      // Control: a Unix stream socket has no hint (D4) and pays the failing recv each round
      // (its reader parks before the data is sent), which shows the counter counts.
      weft_test::TempDir dir;
      auto u = weft_test::connect_pair("unix", dir.file("s"));
      REQUIRE(pingpong(u.client, u.server, kRounds));
      CHECK(eagain_reads(u.server) >= kRounds);
    });
  });
}

TEST_CASE("drained TCP reads: only a short read sets the hint; Conn::fd(), Listener::fd() end it",
          "[net][drain]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto p = weft_test::connect_pair("tcp", "127.0.0.1:0");
    auto& fd = ConnAccess::fd(p.server);
    REQUIRE(p.client.write(bytes("0123456789")).n == 10);
    wait_parked_readers(0);
    std::byte four[4];
    // The data is there (loopback delivers inside write); a full read proves nothing.
    auto r = p.server.read(four);
    REQUIRE(r.n == 4);
    CHECK_FALSE(fd.rdrained);
    std::byte big[64];
    r = p.server.read(big);
    REQUIRE(r.n == 6);  // short: the queue is empty now
    CHECK(fd.rdrained);
    // The next read parks without a recv and gets what comes later.
    CHECK(read_later(p, "later") == 0);
    REQUIRE(fd.rdrained);  // short again
    // D5: with the descriptor the program may set SO_RCVLOWAT or a TCP_ULP; from then on reads
    // go Go's way, even the one right after a short read.
    CHECK(p.server.fd() >= 0);
    CHECK(read_later(p, "def") == 1);  // it tried the recv first
    CHECK_FALSE(fd.rdrained);

    // Listener::fd(): Conns accepted after it inherit what it may have set (SO_RCVLOWAT), so
    // they read Go's way; those accepted before keep the hint.
    CHECK(ConnAccess::fd(p.client).drain_hint.load());  // dialed: TCP as the kernel made it
    CHECK(p.ln.fd() >= 0);
    auto [c2, derr] = net::dial("tcp", p.ln.addr().to_string());
    REQUIRE_FALSE(derr);
    auto [s2, aerr] = p.ln.accept();
    REQUIRE_FALSE(aerr);
    CHECK_FALSE(ConnAccess::fd(s2).drain_hint.load());
    weft_test::Pair q{p.ln, c2, s2};
    REQUIRE(q.client.write(bytes("abc")).n == 3);
    std::string got;
    REQUIRE_FALSE(read_str(q.server, &got).err);
    CHECK(read_later(q, "def") == 1);
  });
}

TEST_CASE("drained TCP reads: data and FIN harvested together still read EOF", "[net][drain]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      for (bool cork : {false, true}) {
        auto p = weft_test::connect_pair("tcp", "127.0.0.1:0");
        std::string got1, got2;
        net::IoResult r1, r2;
        Latch done(1);
        go([&] {
          r1 = read_str(p.server, &got1);  // parks: nothing sent yet
          r2 = read_str(p.server, &got2);  // after a short read that took the FIN as well
          done.count_down();
        });
        wait_parked_readers(1);
        // Without yielding: at procs = 1 the poller harvests data and FIN in one event (with
        // TCP_CORK they even share a segment), after both arrived.
        int one = 1, zero = 0;
        if (cork) setsockopt(p.client.fd(), IPPROTO_TCP, TCP_CORK, &one, sizeof one);
        (void)p.client.write(bytes("abc"));
        (void)p.client.close_write();
        if (cork) setsockopt(p.client.fd(), IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
        done.wait();
        INFO("cork " << cork);
        CHECK_FALSE(r1.err);
        CHECK(got1 == "abc");
        CHECK(r2.err == net::errc::eof);  // errc::timeout here: the FIN was waited for (D2)
      }
    });
  });
}

TEST_CASE("drained TCP reads: data behind an urgent mark is read without a new edge",
          "[net][drain]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto p = weft_test::connect_pair("tcp", "127.0.0.1:0");
      std::string all;
      std::error_code err;
      Latch done(1);
      go([&] {
        // Urgent data is not inline: the reader sees "ab" and "cd" (the read stops at the
        // mark), never the urgent "X".
        while (all.size() < 4) {
          std::string got;
          auto r = read_str(p.server, &got);
          if (r.err) {
            err = r.err;
            break;
          }
          all += got;
        }
        done.count_down();
      });
      wait_parked_readers(1);
      // "abX" with X urgent, then "cd", before the reader runs: one harvest sees all of it,
      // and the read that stops at the mark is short with "cd" still queued and no edge to
      // come (the peer sends nothing more until the reader is done).
      (void)p.client.write(bytes("ab"));
      REQUIRE(::send(p.client.fd(), "X", 1, MSG_OOB) == 1);
      (void)p.client.write(bytes("cd"));
      done.wait();
      CHECK_FALSE(err);  // errc::timeout: "cd" was waited for behind the mark (D2)
      CHECK(all == "abcd");
    });
  });
}

TEST_CASE("drained TCP reads: a reset after a short read is reported, not waited for",
          "[net][drain]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto p = weft_test::connect_pair("tcp", "127.0.0.1:0");
    std::string got1, got2;
    net::IoResult r1, r2;
    Latch done(1);
    go([&] {
      r1 = read_str(p.server, &got1);
      r2 = read_str(p.server, &got2);
      done.count_down();
    });
    wait_parked_readers(1);
    (void)p.client.write(bytes("abc"));
    linger lg{1, 0};  // close with a reset
    setsockopt(p.client.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    (void)p.client.close();
    done.wait();
    CHECK(got1 == "abc");
    CHECK(r2.err == std::errc::connection_reset);
  });
}

TEST_CASE("drained TCP reads: deadlines and close end the drained wait", "[net][drain]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto p = weft_test::connect_pair("tcp", "127.0.0.1:0");
      auto& fd = ConnAccess::fd(p.server);
      REQUIRE(p.client.write(bytes("abc")).n == 3);
      std::string got;
      REQUIRE_FALSE(read_str(p.server, &got).err);
      REQUIRE(got == "abc");
      REQUIRE(fd.rdrained);
      // D3: a deadline ends the wait; the hint stays and the next read gets later data.
      p.server.set_read_deadline(std::chrono::steady_clock::now() + 20ms);
      std::byte buf[64];
      CHECK(p.server.read(buf).err == net::errc::timeout);
      CHECK(fd.rdrained);
      REQUIRE(p.client.write(bytes("def")).n == 3);
      CHECK_FALSE(read_str(p.server, &got).err);
      CHECK(got == "def");
      // A past deadline beats the drained wait at once.
      p.server.set_read_deadline(std::chrono::steady_clock::now() - 1s);
      CHECK(p.server.read(buf).err == net::errc::timeout);
      // Close wakes the drained waiter.
      p.server.set_read_deadline({});
      net::IoResult r;
      Latch done(1);
      go([&] {
        r = p.server.read(buf);
        done.count_down();
      });
      wait_parked_readers(1);
      (void)p.server.close();
      done.wait();
      CHECK(r.err == net::errc::closed);
    });
  });
}

TEST_CASE("drained TCP reads under load: random chunks, urgent bytes and half-closes",
          "[net][drain]") {
  // Each connection's client sends random-sized chunks (some with an urgent byte, counted
  // apart) and half-closes; the server reads with random buffer sizes (full and short reads
  // alternate) until EOF and answers the byte count. A lost wakeup is a timeout.
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const int conns = int(std::max(4L, 40 / weft_test::stress_scale()));
    const int chunks = int(std::max(20L, 400 / weft_test::stress_scale()));
    std::atomic<int> bad{0};
    rt.block_on([&] {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      REQUIRE_FALSE(err);
      Latch served(conns);
      go([&, ln]() mutable {
        for (int i = 0; i < conns; ++i) {
          auto [c, aerr] = ln.accept();
          if (aerr) {
            bad += conns - i;
            for (; i < conns; ++i) served.count_down();
            break;
          }
          go([&, c, i]() mutable {
            std::minstd_rand rng(unsigned(i) * 7919u + 1u);
            std::vector<std::byte> buf(4096);
            std::uint64_t n = 0;
            for (;;) {
              c.set_read_deadline(std::chrono::steady_clock::now() + kBound);
              auto r = c.read(std::span(buf.data(), 1 + rng() % buf.size()));
              // An urgent byte not yet read when the next one comes joins the normal data
              // (TCP keeps one mark): count only the letters.
              n += std::size_t(std::count_if(buf.data(), buf.data() + r.n,
                                             [](std::byte b) { return b != std::byte('!'); }));
              if (r.err) {
                if (r.err != net::errc::eof) ++bad;
                break;
              }
            }
            std::string ans = std::to_string(n) + "\n";
            (void)c.write(bytes(ans));
            (void)c.close();
            served.count_down();
          });
        }
      });
      std::string addr = ln.addr().to_string();
      Latch clients(conns);
      for (int i = 0; i < conns; ++i) {
        go([&, i] {
          std::minstd_rand rng(unsigned(i) + 17u);
          auto [c, derr] = net::dial("tcp", addr);
          if (derr) {
            ++bad;
            clients.count_down();
            return;
          }
          std::uint64_t sent = 0;
          std::string chunk;
          for (int k = 0; k < chunks; ++k) {
            chunk.assign(1 + rng() % 3000, char('a' + k % 26));
            if (c.write(bytes(chunk)).err) ++bad;
            sent += chunk.size();
            if (rng() % 16 == 0 && ::send(c.fd(), "!", 1, MSG_OOB) != 1) ++bad;
            if (rng() % 4 == 0) weft::yield();
          }
          (void)c.close_write();
          std::string ans;
          std::error_code e;
          for (char ch = 0; ch != '\n';) {
            std::byte b[1];
            c.set_read_deadline(std::chrono::steady_clock::now() + kBound);
            auto r = c.read(b);
            if (r.err) {
              e = r.err;
              break;
            }
            ch = char(b[0]);
            if (ch != '\n') ans += ch;
          }
          if (e || ans != std::to_string(sent)) ++bad;
          (void)c.close();
          clients.count_down();
        });
      }
      clients.wait();
      served.wait();
      ln.close();
    });
    CHECK(bad.load() == 0);
  });
}

}  // namespace
