// fd_mutex_test: the descriptor lock (net/fd_mutex.hpp F1-F5), ported from Go's
// internal/poll/fd_mutex_test.go (Lock, Close, CloseUnblock, Stress), and the semaphore under it
// (runtime/sema.hpp A1-A4).
#include <random>
#include <thread>

#include "../support.hpp"
#include "fd_mutex.hpp"
#include "sema.hpp"

using namespace weft;
using weft::detail::semacquire1;
using weft::detail::semrelease1;
using weft::detail::WaitReason;
using weft::net::detail::FdMutex;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("sema: releases wake waiters in FIFO order; spare units are counted (A1)",
          "[unit][sema]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    std::atomic<std::uint32_t> s{0};
    semrelease1(&s, false);  // nobody waits: counted
    CHECK(s.load() == 1);
    semacquire1(&s, false, WaitReason::park);  // consumes without parking
    CHECK(s.load() == 0);
    std::vector<int> arrived, order;
    Latch l(3);
    for (int i = 0; i < 3; ++i) {
      go([&, i] {
        arrived.push_back(i);  // procs=1: each runs until it parks, so this is queue order
        semacquire1(&s, false, WaitReason::park);
        order.push_back(i);
        l.count_down();
      });
    }
    while (arrived.size() < 3) yield();
    // One release at a time, each run to completion: the hand-off order is the queue order.
    // (Released all at once they would run in runnext order instead, as in Go.)
    for (std::size_t k = 0; k < 3; ++k) {
      semrelease1(&s, false);
      while (order.size() == k) yield();
    }
    l.wait();
    CHECK(order == arrived);  // FIFO
    CHECK(s.load() == 0);
  });
}

TEST_CASE("sema: a foreign thread's releases wake parked fibers", "[unit][sema]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<std::uint32_t> s{0};
    constexpr int kRounds = 2000;
    std::thread releaser([&] {
      for (int i = 0; i < kRounds; ++i) semrelease1(&s, false);
    });
    rt.block_on([&] {
      for (int i = 0; i < kRounds; ++i) semacquire1(&s, false, WaitReason::park);
    });
    releaser.join();
    CHECK(s.load() == 0);
  });
}

TEST_CASE("fdMutex: incref, decref and the two locks (Go's TestMutexLock)", "[unit][fdmutex]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    FdMutex mu;
    CHECK(mu.incref());
    CHECK_FALSE(mu.decref());
    CHECK(mu.rwlock(true));
    CHECK_FALSE(mu.rwunlock(true));
    CHECK(mu.rwlock(false));
    CHECK_FALSE(mu.rwunlock(false));
    CHECK(mu.rwlock(true));
    CHECK(mu.rwlock(false));  // F2: a reader and a writer at once
    CHECK_FALSE(mu.rwunlock(true));
    CHECK_FALSE(mu.rwunlock(false));
    CHECK(mu.state() == 0);
  });
}

TEST_CASE(
    "fdMutex: close refuses new operations; the last reference learns it (Go's "
    "TestMutexClose)",
    "[unit][fdmutex]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    FdMutex mu;
    CHECK(mu.incref());  // an operation in flight
    CHECK(mu.increfAndClose());
    CHECK_FALSE(mu.incref());      // F1
    CHECK_FALSE(mu.rwlock(true));  // F1
    CHECK_FALSE(mu.rwlock(false));
    CHECK_FALSE(mu.increfAndClose());  // only once
    CHECK_FALSE(mu.decref());          // the in-flight operation ends: not the last
    CHECK(mu.decref());                // close's own reference is the last (F4)
  });
}

TEST_CASE(
    "fdMutex: close wakes every parked reader and writer, which fail (Go's "
    "TestMutexCloseUnblock)",
    "[unit][fdmutex]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      FdMutex mu;
      CHECK(mu.rwlock(true));
      CHECK(mu.rwlock(false));
      std::atomic<int> failed{0};
      Latch l(8);
      for (int i = 0; i < 8; ++i) {
        go([&, i] {
          if (!mu.rwlock(i % 2 == 0)) ++failed;
          l.count_down();
        });
      }
      // Wait until all eight are counted as waiters in the state word.
      auto waiters = [&] {
        std::uint64_t st = mu.state();
        return ((st >> 23) & 0xfffff) + ((st >> 43) & 0xfffff);
      };
      while (waiters() != 8) yield();
      CHECK(mu.increfAndClose());
      l.wait();
      CHECK(failed.load() == 8);
      CHECK_FALSE(mu.rwunlock(true));
      CHECK_FALSE(mu.rwunlock(false));
      CHECK(mu.decref());  // F4: close's reference is the last
    });
  });
}

TEST_CASE(
    "fdMutex: random operations from many fibers keep readers and writers exclusive "
    "(Go's TestMutexStress)",
    "[unit][fdmutex]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    constexpr int kFibers = 8;
    const long kOps = 1000000 / weft_test::stress_scale();  // 8 x 10^6 operations in all
    std::atomic<long> broken{0};
    rt.block_on([&] {
      FdMutex mu;
      std::uint64_t read_state[2] = {0, 0}, write_state[2] = {0, 0};  // guarded by the locks
      Latch l(kFibers);
      for (int f = 0; f < kFibers; ++f) {
        go([&, f] {
          std::mt19937 rng(std::uint32_t(f) * 7919u + 1);
          for (long i = 0; i < kOps; ++i) {
            switch (rng() % 3) {
              case 0:
                if (!mu.incref() || mu.decref()) ++broken;
                break;
              case 1:
                if (!mu.rwlock(true)) ++broken;
                if (read_state[0] != read_state[1]) ++broken;
                ++read_state[0];
                if (i % 64 == 0) yield();  // park while holding it, now and then
                ++read_state[1];
                if (mu.rwunlock(true)) ++broken;
                break;
              default:
                if (!mu.rwlock(false)) ++broken;
                if (write_state[0] != write_state[1]) ++broken;
                ++write_state[0];
                if (i % 64 == 0) yield();
                ++write_state[1];
                if (mu.rwunlock(false)) ++broken;
                break;
            }
          }
          l.count_down();
        });
      }
      l.wait();
      if (!mu.increfAndClose() || !mu.decref()) ++broken;
    });
    CHECK(broken.load() == 0);
  });
}
