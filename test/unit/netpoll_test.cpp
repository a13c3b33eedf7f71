// netpoll_test: the pollDesc state machine (netpoll.hpp N1-N5) on real sockets — readiness,
// deadlines (expire, past, extend, independent), close, the break channel, fd reuse.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>

#include "../support.hpp"
#include "netpoll.hpp"
#include "debug.hpp"
#include "proc.hpp"

using namespace weft;
using namespace weft::detail;
using namespace std::chrono_literals;
using weft_test::each_procs;
using weft_test::Latch;

namespace {

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    a = fds[0];
    b = fds[1];
  }
  ~Pair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
};

std::int64_t in(std::chrono::nanoseconds d) { return nanotime() + d.count(); }

// read_fiber reads at least one byte from fd, parking on pd: returns the byte count, or the
// poll error as a negative number.
long read_some(PollDesc* pd, int fd) {
  char buf[64];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) return n;
    if (n < 0 && errno != EAGAIN) return -100;
    if (PollErr e = poll_wait(pd, 'r'); e != PollErr::none) return -long(e);
  }
}

// open_pd registers fd; fatal on failure (not REQUIRE: fibers may call it in parallel, and
// Catch2's assertions are not thread-safe).
PollDesc* open_pd(int fd) {
  std::error_code err;
  PollDesc* pd = poll_open(current_g()->sched, fd, err);
  if (!pd) fatal("poll_open(%d): %s", fd, err.message().c_str());
  return pd;
}

void close_pd(PollDesc* pd) {
  poll_unblock(pd);
  poll_close(current_g()->sched, pd);
}

}  // namespace

TEST_CASE("a reader parks until the peer writes", "[unit][netpoll]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      for (int round = 0; round < 50; ++round) {
        Pair p;
        PollDesc* pd = open_pd(p.a);
        long got = 0;
        Latch l(1);
        go([&] {
          got = read_some(pd, p.a);
          l.count_down();
        });
        if (round % 2) sleep_for(1ms);  // both orders: the reader parked first, or not yet
        REQUIRE(write(p.b, "x", 1) == 1);
        l.wait();
        CHECK(got == 1);
        close_pd(pd);
      }
    });
  });
}

TEST_CASE("readiness that arrives with nobody waiting is kept and consumed (N3)",
          "[unit][netpoll]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Pair p;
    PollDesc* pd = open_pd(p.a);
    std::vector<G*> woken;
    netpoll(current_g()->sched, 0, woken);  // the initial EPOLLOUT edge
    REQUIRE(write(p.b, "x", 1) == 1);
    netpoll(current_g()->sched, 0, woken);  // the EPOLLIN edge: nobody waits
    CHECK(woken.empty());
    CHECK(pd->rg.load() == pdReady);
    CHECK(poll_wait(pd, 'r') == PollErr::none);  // consumes it without parking
    CHECK(pd->rg.load() == 0);
    close_pd(pd);
  });
}

TEST_CASE("a read deadline expires with a timeout, never early", "[unit][netpoll]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Pair p;
      PollDesc* pd = open_pd(p.a);
      auto t0 = std::chrono::steady_clock::now();
      poll_set_deadline(current_g()->sched, pd, in(20ms), 'r');
      CHECK(read_some(pd, p.a) == -long(PollErr::timeout));
      CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);
      CHECK(read_some(pd, p.a) == -long(PollErr::timeout));  // stays expired
      poll_set_deadline(current_g()->sched, pd, 0, 'r');     // cleared: data reads again
      REQUIRE(write(p.b, "x", 1) == 1);
      CHECK(read_some(pd, p.a) == 1);
      close_pd(pd);
    });
  });
}

TEST_CASE("a deadline set in the past wakes a blocked reader at once, and beats ready data",
          "[unit][netpoll]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    Pair p;
    PollDesc* pd = open_pd(p.a);
    long got = 0;
    Latch l(1);
    go([&] {
      got = read_some(pd, p.a);
      l.count_down();
    });
    sleep_for(5ms);  // the reader is parked by now (and if not, the result is the same)
    poll_set_deadline(current_g()->sched, pd, nanotime() - 1, 'r');
    l.wait();
    CHECK(got == -long(PollErr::timeout));
    REQUIRE(write(p.b, "x", 1) == 1);
    sleep_for(2ms);
    CHECK(poll_wait(pd, 'r') == PollErr::timeout);  // the expired deadline wins over data
    close_pd(pd);
  });
}

TEST_CASE("extending a deadline while blocked: the old timer does not fire (N5)",
          "[unit][netpoll]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    Pair p;
    PollDesc* pd = open_pd(p.a);
    Sched* s = current_g()->sched;
    poll_set_deadline(s, pd, in(30ms), 'r');
    long got = 0;
    Latch l(1);
    go([&] {
      got = read_some(pd, p.a);
      l.count_down();
    });
    sleep_for(5ms);
    poll_set_deadline(s, pd, in(2s), 'r');  // extend while the reader is blocked
    sleep_for(60ms);                        // past the first deadline
    REQUIRE(write(p.b, "x", 1) == 1);       // data, long before the second
    l.wait();
    CHECK(got == 1);
    close_pd(pd);
  });
}

TEST_CASE("shortening a deadline while blocked fires the new one", "[unit][netpoll]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    Pair p;
    PollDesc* pd = open_pd(p.a);
    Sched* s = current_g()->sched;
    poll_set_deadline(s, pd, in(10s), 'r');
    long got = 0;
    auto t0 = std::chrono::steady_clock::now();
    Latch l(1);
    go([&] {
      got = read_some(pd, p.a);
      l.count_down();
    });
    sleep_for(2ms);
    poll_set_deadline(s, pd, in(20ms), 'r');  // nearer, in the future
    l.wait();
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(got == -long(PollErr::timeout));
    CHECK(took >= 20ms);
    CHECK(took < 5s);  // generous: the old 10 s deadline did not decide it
    close_pd(pd);
  });
}

TEST_CASE("4,000 blocked readers with deadlines over all Ps all time out, none early",
          "[unit][netpoll]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    // 8,000 fds: the per-process limit here is 20,000.
    const int kReaders = weft_test::kSanitized ? 500 : 4000;
    std::atomic<int> early{0}, timed_out{0};
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([&] {
      std::vector<std::unique_ptr<Pair>> pairs;
      for (int i = 0; i < kReaders; ++i) pairs.push_back(std::make_unique<Pair>());
      Latch l(kReaders);
      for (int i = 0; i < kReaders; ++i) {
        go([&, i] {
          Pair& p = *pairs[std::size_t(i)];
          PollDesc* pd = open_pd(p.a);
          std::int64_t deadline = in(std::chrono::microseconds(1 + (i * 7919) % 50000));
          poll_set_deadline(current_g()->sched, pd, deadline, 'r');
          if (read_some(pd, p.a) == -long(PollErr::timeout)) ++timed_out;
          if (nanotime() < deadline) ++early;
          close_pd(pd);
          l.count_down();
        });
      }
      l.wait();
    });
    double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    std::printf("netpoll deadlines: procs=%u %d readers in %.0f ms (%.1f us per reader)\n", procs,
                kReaders, us / 1000, us / kReaders);
    CHECK(timed_out.load() == kReaders);
    CHECK(early.load() == 0);
  });
}

TEST_CASE("read and write deadlines are independent", "[unit][netpoll]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Pair p;
    PollDesc* pd = open_pd(p.a);
    Sched* s = current_g()->sched;
    poll_set_deadline(s, pd, nanotime() - 1, 'r');
    CHECK(poll_wait(pd, 'r') == PollErr::timeout);
    CHECK(poll_reset(pd, 'w') == PollErr::none);
    poll_set_deadline(s, pd, nanotime() - 1, 'w');
    CHECK(poll_wait(pd, 'w') == PollErr::timeout);
    poll_set_deadline(s, pd, 0, 'r' + 'w');
    CHECK(poll_reset(pd, 'r') == PollErr::none);
    CHECK(poll_reset(pd, 'w') == PollErr::none);
    close_pd(pd);
  });
}

TEST_CASE("close wakes a blocked reader and a blocked writer with closing", "[unit][netpoll]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Pair p;
      PollDesc* pd = open_pd(p.a);
      char junk[65536] = {};
      while (write(p.a, junk, sizeof junk) > 0) {  // fill the socket: writes would block
      }
      poll_reset(pd, 'w');
      long rgot = 0;
      PollErr wgot = PollErr::none;
      Latch l(2);
      go([&] {
        rgot = read_some(pd, p.a);
        l.count_down();
      });
      go([&] {
        wgot = poll_wait(pd, 'w');
        l.count_down();
      });
      sleep_for(5ms);
      poll_unblock(pd);
      l.wait();
      CHECK(rgot == -long(PollErr::closing));
      CHECK(wgot == PollErr::closing);
      CHECK(poll_wait(pd, 'r') == PollErr::closing);  // and every later wait
      poll_close(current_g()->sched, pd);
    });
  });
}

TEST_CASE("netpollbreak wakes a 10 s poll within a generous bound", "[unit][netpoll]") {
  Sched s(Config{.procs = 1});  // no M runs: the test calls the backend itself
  std::vector<G*> ready;
  auto t0 = std::chrono::steady_clock::now();
  std::thread breaker([&] {
    std::this_thread::sleep_for(20ms);
    netpollbreak(&s);
  });
  netpoll(&s, std::int64_t(10e9), ready);
  auto took = std::chrono::steady_clock::now() - t0;
  breaker.join();
  CHECK(took >= 20ms);
  CHECK(took < 2s);
  CHECK(ready.empty());
  CHECK(s.netpoll.wakesig.load() == 0);
}

TEST_CASE("netpollbreak coalesces: one pending wakeup at a time", "[unit][netpoll]") {
  Sched s(Config{.procs = 1});
  std::vector<G*> ready;
  netpollbreak(&s);
  netpollbreak(&s);
  netpollbreak(&s);
  CHECK(s.netpoll.wakesig.load() == 1);
  std::uint64_t count = 0;
  REQUIRE(read(s.netpoll.breakfd, &count, sizeof count) == sizeof count);
  CHECK(count == 1);  // one write for three calls
  std::uint64_t one = 1;
  REQUIRE(write(s.netpoll.breakfd, &one, sizeof one) == sizeof one);  // put it back
  auto t0 = std::chrono::steady_clock::now();
  netpoll(&s, std::int64_t(10e9), ready);  // returns at once: the break is pending
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(s.netpoll.wakesig.load() == 0);
  netpollbreak(&s);  // a new one can be sent once the old was consumed
  CHECK(s.netpoll.wakesig.load() == 1);
}

TEST_CASE("an event for a closed fd never reaches the pollDesc reused for its number (N5)",
          "[unit][netpoll]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    Sched* s = current_g()->sched;
    int stale = 0;
    for (int round = 0; round < 200; ++round) {
      {
        Pair p;
        PollDesc* pd = open_pd(p.a);
        REQUIRE(write(p.b, "x", 1) == 1);  // an EPOLLIN edge is pending for this registration
        poll_unblock(pd);
        poll_close(s, pd);
      }        // both fds closed
      Pair q;  // very likely gets the same fd numbers, and the same pollDesc from the cache
      PollDesc* pd = open_pd(q.a);
      poll_set_deadline(s, pd, in(1ms), 'r');
      // No data was written to q: readiness here could only come from the old registration.
      if (poll_wait(pd, 'r') != PollErr::timeout) ++stale;
      close_pd(pd);
    }
    CHECK(stale == 0);
  });
}
