// timeout_test: deadlines, after Go's net/timeout_test.go — a past deadline beats ready data
// (TestReadTimeout, TestWriteTimeout, TestAcceptTimeout), read and write deadlines are independent
// (Test*TimeoutMustNotReturn), deadlines are never early (Test*TimeoutFluctuation, and a deadline
// extended while blocked), deadlines from 1 ns to 1 s all time out (TestVariousDeadlines, at
// procs 1, 2 and 4), and concurrent deadline changes during I/O (TestReadWriteProlongedTimeout,
// TestReadWriteDeadlineRace, TestConcurrentSetDeadline).
#include <string>
#include <vector>

#include "net_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::bytes;
using weft_test::each_procs;
using weft_test::Latch;

namespace {

using clk = std::chrono::steady_clock;

// Generous upper bound for "the deadline fired reasonably soon": this is a sanity check on a
// shared 2-core machine, not a latency measurement.
constexpr auto kLate = 2s;

}  // namespace

TEST_CASE("read deadline: a past one beats ready data, a future one lets reads through first",
          "[net][timeout]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    weft_test::Pair p = weft_test::connect_pair();
    REQUIRE_FALSE(p.server.write(bytes("READ TIMEOUT TEST")).err);
    sleep_for(5ms);  // the data has arrived
    std::byte b[1];
    // Go's readTimeoutTests: {-5s, [timeout, timeout]}, {50ms, [nil, timeout]}.
    p.client.set_read_deadline(clk::now() - 5s);
    for (int j = 0; j < 2; ++j) {
      auto r = p.client.read(b);
      CHECK(r.err == net::errc::timeout);
      CHECK(r.n == 0);
    }
    p.client.set_read_deadline(clk::now() + 50ms);
    int ok_reads = 0;
    for (int j = 0; j < 2; ++j) {
      for (;;) {
        auto r = p.client.read(b);
        if (!r.err) {
          ++ok_reads;
          sleep_for(50ms / 3);
          continue;
        }
        CHECK(r.err == net::errc::timeout);
        CHECK(r.n == 0);
        break;
      }
    }
    CHECK(ok_reads > 0);
    CHECK(ok_reads < 17);
  });
}

TEST_CASE("write deadline: a past one beats free buffer space, a future one ends a full buffer",
          "[net][timeout]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    for (auto timeout : {clk::duration(-5s), clk::duration(10ms)}) {
      weft_test::Pair p = weft_test::connect_pair();
      p.client.set_write_deadline(clk::now() + timeout);
      std::size_t before_timeout = 0;
      for (int j = 0; j < 2; ++j) {
        for (;;) {
          auto r = p.client.write(bytes("WRITE TIMEOUT TEST"));
          if (!r.err) {
            before_timeout += r.n;
            continue;
          }
          CHECK(r.err == net::errc::timeout);
          if (timeout < 0s) CHECK(r.n == 0);
          break;
        }
      }
      if (timeout < 0s) {
        CHECK(before_timeout == 0);
      } else {
        CHECK(before_timeout > 0);
      }
    }
    // One write call far larger than the buffers: the deadline ends it with a partial count.
    weft_test::Pair p = weft_test::connect_pair();
    std::vector<std::byte> big(64 << 20);
    auto t0 = clk::now();
    p.client.set_write_deadline(t0 + 50ms);
    auto r = p.client.write(big);
    CHECK(r.err == net::errc::timeout);
    CHECK(r.n > 0);
    CHECK(r.n < big.size());
    CHECK(clk::now() - t0 >= 50ms);
  });
}

TEST_CASE("read and write deadlines are independent (Go's Test*TimeoutMustNotReturn)",
          "[net][timeout]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    {  // both expired, then the read deadline cleared: a read must block until close
      weft_test::Pair p = weft_test::connect_pair();
      p.client.set_deadline(clk::now() - 5s);
      p.client.set_write_deadline(clk::now() - 5s);
      p.client.set_read_deadline({});
      std::atomic<bool> returned{false};
      std::error_code err;
      Latch l(1);
      go([&, c = p.client]() mutable {
        std::byte b[1];
        err = c.read(b).err;
        returned = true;
        l.count_down();
      });
      sleep_for(100ms);
      CHECK_FALSE(returned.load());
      CHECK(p.client.write(bytes("x")).err == net::errc::timeout);  // the write side expired
      p.client.close();
      l.wait();
      CHECK(err == net::errc::closed);
    }
    {  // the mirror image: a write must block (buffers full) until close
      weft_test::Pair p = weft_test::connect_pair();
      p.client.set_deadline(clk::now() - 5s);
      p.client.set_read_deadline(clk::now() - 5s);
      p.client.set_write_deadline({});
      std::atomic<bool> returned{false};
      std::error_code err;
      Latch l(1);
      go([&, c = p.client]() mutable {
        std::vector<std::byte> chunk(64 * 1024);
        for (;;) {
          auto r = c.write(chunk);
          if (r.err) {
            err = r.err;
            break;
          }
        }
        returned = true;
        l.count_down();
      });
      sleep_for(100ms);
      CHECK_FALSE(returned.load());
      std::byte b[1];
      CHECK(p.client.read(b).err == net::errc::timeout);  // the read side expired
      p.client.close();
      l.wait();
      CHECK(err == net::errc::closed);
    }
    {  // an expired read deadline leaves writes working, and an expired write one reads
      weft_test::Pair p = weft_test::connect_pair();
      std::byte b[8];
      p.client.set_read_deadline(clk::now() + 10ms);
      CHECK(p.client.read(b).err == net::errc::timeout);
      CHECK_FALSE(p.client.write(bytes("ping")).err);
      std::error_code e;
      CHECK(weft_test::read_full(p.server, 4, &e) == "ping");
      p.client.set_read_deadline({});
      p.client.set_write_deadline(clk::now() - 1s);
      CHECK(p.client.write(bytes("x")).err == net::errc::timeout);
      CHECK_FALSE(p.server.write(bytes("pong")).err);
      CHECK(weft_test::read_full(p.client, 4, &e) == "pong");
    }
  });
}

TEST_CASE("deadlines are never early (Go's Test*TimeoutFluctuation; extended while blocked)",
          "[net][timeout]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      weft_test::Pair p = weft_test::connect_pair();
      std::byte b[256];
      for (auto d : {1ms, 5ms, 50ms}) {
        INFO("read, deadline +" << d.count() << " ms");
        auto t0 = clk::now();
        auto deadline = t0 + d;
        p.client.set_read_deadline(deadline);
        auto r = p.client.read(b);
        auto t1 = clk::now();
        CHECK(r.err == net::errc::timeout);
        CHECK(r.n == 0);
        CHECK(t1 >= deadline);
        CHECK(t1 - t0 < d + kLate);
      }
      p.client.set_read_deadline({});
      std::vector<std::byte> chunk(64 * 1024);
      for (auto d : {1ms, 5ms, 50ms}) {
        INFO("write, deadline +" << d.count() << " ms");
        auto t0 = clk::now();
        auto deadline = t0 + d;
        p.client.set_write_deadline(deadline);
        std::error_code err;
        while (!(err = p.client.write(chunk).err)) {
        }
        auto t1 = clk::now();
        CHECK(err == net::errc::timeout);
        CHECK(t1 >= deadline);
        CHECK(t1 - t0 < d + kLate);
      }
      // A deadline moved later while a read waits: the read waits for the new one.
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      REQUIRE_FALSE(err);
      auto [c, derr] = net::dial("tcp", ln.addr().to_string());
      REQUIRE_FALSE(derr);
      // The setter must run before the first deadline passes; on a loaded machine it may not,
      // and then the read rightly times out at the first one: try again (bounded).
      for (int attempt = 0;; ++attempt) {
        REQUIRE(attempt < 20);
        auto t0 = clk::now();
        c.set_read_deadline(t0 + 30ms);
        Chan<clk::time_point> set_at(1);
        go([c, t0, set_at]() mutable {
          sleep_for(10ms);
          c.set_read_deadline(t0 + 200ms);
          set_at.send(clk::now());
        });
        auto r = c.read(b);
        auto t1 = clk::now();
        CHECK(r.err == net::errc::timeout);
        if (*set_at.recv() >= t0 + 30ms) continue;
        CHECK(t1 - t0 >= 200ms);
        break;
      }
    });
  });
}

TEST_CASE("deadlines from 1 ns to 1 s all time out (Go's TestVariousDeadlines)", "[net][timeout]") {
  const std::vector<clk::duration> timeouts = {1ns,   2ns,   5ns,   50ns,  100ns, 200ns, 500ns,
                                               750ns, 1us,   5us,   25us,  250us, 500us, 1ms,
                                               5ms,   100ms, 250ms, 500ms, 1s};
  each_procs([&](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    constexpr int kRuns = 3;
    struct Outcome {
      std::error_code err;
      clk::duration took{};
      std::size_t bytes = 0;
    };
    std::vector<Outcome> out(timeouts.size() * kRuns);
    rt.block_on([&] {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      REQUIRE_FALSE(err);
      go([ln]() mutable {  // Go's handler: wait for the client to close, then close
        for (;;) {
          auto [c, aerr] = ln.accept();
          if (aerr) return;
          go([c]() mutable {
            std::byte b[1];
            c.read(b);
            c.close();
          });
        }
      });
      // All at once, each on its own connection (Go runs them one after another).
      Latch l(std::int64_t(out.size()));
      std::string addr = ln.addr().to_string();
      for (std::size_t i = 0; i < out.size(); ++i) {
        go([&, i] {
          Outcome& o = out[i];
          auto [c, derr] = net::dial("tcp", addr);
          if (derr) {
            o.err = derr;
            l.count_down();
            return;
          }
          auto t0 = clk::now();
          c.set_deadline(t0 + timeouts[i / kRuns]);
          std::byte b[512];
          for (;;) {  // io.Copy(io.Discard, c)
            auto r = c.read(b);
            o.bytes += r.n;
            if (r.err) {
              o.err = r.err;
              break;
            }
          }
          o.took = clk::now() - t0;
          c.close();
          l.count_down();
        });
      }
      l.wait();
      ln.close();
    });
    for (std::size_t i = 0; i < out.size(); ++i) {
      auto t = timeouts[i / kRuns];
      INFO("timeout " << std::chrono::duration_cast<std::chrono::nanoseconds>(t).count()
                      << " ns, run " << i % kRuns);
      CHECK(out[i].err == net::errc::timeout);
      CHECK(out[i].took >= t);
      CHECK(out[i].bytes == 0);
    }
  });
}

TEST_CASE("accept deadlines (Go's TestAcceptTimeout, ...MustReturn, ...MustNotReturn)",
          "[net][timeout]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(err);
    auto [c, derr] = net::dial("tcp", ln.addr().to_string());  // pending in the queue
    REQUIRE_FALSE(derr);
    sleep_for(5ms);
    ln.set_deadline(clk::now() - 5s);  // a past deadline beats the pending connection
    for (int j = 0; j < 2; ++j) CHECK(ln.accept().err == net::errc::timeout);
    ln.set_deadline({});
    auto [a, aerr] = ln.accept();
    CHECK_FALSE(aerr);
    auto t0 = clk::now();
    ln.set_deadline(t0 + 10ms);
    CHECK(ln.accept().err == net::errc::timeout);
    CHECK(clk::now() - t0 >= 10ms);
    // MustReturn: deadline set, cleared, then set in the past.
    ln.set_deadline(clk::now() + 1h);
    ln.set_deadline({});
    ln.set_deadline(clk::now() - 1s);
    CHECK(ln.accept().err == net::errc::timeout);
    // MustNotReturn: past, then cleared: accept blocks until close.
    ln.set_deadline(clk::now() - 1s);
    ln.set_deadline({});
    std::atomic<bool> returned{false};
    std::error_code accept_err;
    Latch l(1);
    go([&, ln = ln]() mutable {
      accept_err = ln.accept().err;
      returned = true;
      l.count_down();
    });
    sleep_for(100ms);
    CHECK_FALSE(returned.load());
    ln.close();
    l.wait();
    CHECK(accept_err == net::errc::closed);
  });
}

TEST_CASE(
    "deadlines changed during I/O from other fibers (Go's TestReadWriteProlongedTimeout, "
    "TestReadWriteDeadlineRace, TestConcurrentSetDeadline)",
    "[net][timeout]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> bad{0};
    rt.block_on([&] {
      {  // prolonged: every read and write pushes its deadline an hour out first
        weft_test::Pair p = weft_test::connect_pair();
        Latch l(2);
        go([&, s = p.server]() mutable {
          std::byte b[1];
          for (;;) {
            if (s.set_read_deadline(clk::now() + 1h)) ++bad;
            if (s.read(b).err) break;
          }
          l.count_down();
        });
        go([&, s = p.server]() mutable {
          std::byte b[1] = {};
          for (;;) {
            if (s.set_write_deadline(clk::now() + 1h)) ++bad;
            if (s.write(std::span<const std::byte>(b, 1)).err) break;
          }
          l.count_down();
        });
        std::byte b[1] = {};
        for (int i = 0; i < 1000; ++i) {
          p.client.write(std::span<const std::byte>(b, 1));
          p.client.read(b);
        }
        p.client.close();  // with unread data: a reset, which ends both server fibers
        l.wait();
      }
      {  // race: deadlines of 2 us set over and over while reads and writes run
        weft_test::Pair p = weft_test::connect_pair();
        constexpr int kN = 1000;
        Latch l(3);
        go([&, c = p.client]() mutable {
          for (int i = 0; i < kN; ++i) {
            if (c.set_read_deadline(clk::now() + 2us)) ++bad;
            if (c.set_write_deadline(clk::now() + 2us)) ++bad;
            sleep_for(2us);
          }
          l.count_down();
        });
        go([&, c = p.client]() mutable {
          std::byte b[1];
          for (int i = 0; i < kN; ++i) c.read(b);  // timeouts expected
          l.count_down();
        });
        go([&, c = p.client]() mutable {
          std::byte b[1] = {};
          for (int i = 0; i < kN; ++i) c.write(std::span<const std::byte>(b, 1));
          l.count_down();
        });
        l.wait();
      }
      {  // concurrent SetDeadline on ten connections from eight fibers, steadily earlier
        std::vector<weft_test::Pair> pairs;
        for (int i = 0; i < 10; ++i) pairs.push_back(weft_test::connect_pair());
        auto now = clk::now();
        Latch l(8);
        for (int g = 0; g < 8; ++g) {
          go([&, g] {
            for (int j = 100; j > 0; --j) {
              for (int k = 0; k < 10; ++k) {
                auto off = std::chrono::seconds(g * j * k);
                if (pairs[std::size_t(k)].client.set_read_deadline(now + 2h + off)) ++bad;
                if (pairs[std::size_t(k)].client.set_write_deadline(now + 1h + off)) ++bad;
              }
            }
            l.count_down();
          });
        }
        l.wait();
      }
    });
    CHECK(bad.load() == 0);
  });
}
