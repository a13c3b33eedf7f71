// lockosthread_test: lock_os_thread wires a fiber to its thread (Go's LockOSThread), with
// Go's TestYieldLockedProgress.
#include <thread>

#include "../support.hpp"
#include "proc.hpp"

using namespace weft;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("a locked fiber always resumes on its own thread", "[unit][lockosthread]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Latch l(9);
      std::atomic<bool> moved{false};
      go([&] {
        lock_os_thread();
        auto tid = weft_test::tid();
        for (int i = 0; i < 2000; ++i) {
          yield();
          if (weft_test::tid() != tid) moved = true;
        }
        unlock_os_thread();
        l.count_down();
      });
      for (int k = 0; k < 8; ++k) {  // others keep the Ps busy meanwhile
        go([&] {
          for (int i = 0; i < 2000; ++i) yield();
          l.count_down();
        });
      }
      l.wait();
      CHECK_FALSE(moved.load());
    });
  });
}

TEST_CASE("a locked fiber parked and readied from elsewhere resumes on its thread",
          "[unit][lockosthread]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      weft::detail::ParkSlot slot;
      Latch l(2);
      std::atomic<bool> moved{false};
      std::atomic<int> turn{0};
      go([&] {
        lock_os_thread();
        auto tid = weft_test::tid();
        for (int i = 0; i < 500; ++i) {
          turn.store(1);
          weft::detail::parkslot_wait(&slot);
          if (weft_test::tid() != tid) moved = true;
        }
        unlock_os_thread();
        l.count_down();
      });
      go([&] {
        for (int i = 0; i < 500; ++i) {
          while (turn.exchange(0) != 1) yield();
          weft::detail::parkslot_signal(&slot);
        }
        l.count_down();
      });
      l.wait();
      CHECK_FALSE(moved.load());
    });
  });
}

TEST_CASE("a locked fiber that yields lets others make progress (TestYieldLockedProgress)",
          "[unit][lockosthread]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      std::atomic<bool> flag{false};
      Latch l(1);
      lock_os_thread();
      go([&] {
        flag.store(true);
        l.count_down();
      });
      while (!flag.load()) yield();
      unlock_os_thread();
      l.wait();
    });
  });
}

TEST_CASE("lock_os_thread nests; unlocking an unlocked fiber does nothing",
          "[unit][lockosthread]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    unlock_os_thread();  // no-op
    lock_os_thread();
    lock_os_thread();
    unlock_os_thread();
    CHECK(weft::detail::current_g()->lockedm != nullptr);
    unlock_os_thread();
    CHECK(weft::detail::current_g()->lockedm == nullptr);
  });
}
