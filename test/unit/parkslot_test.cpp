// parkslot_test: every transition of the ParkSlot state word (parkslot.hpp), each with its
// racing side, plus a ping-pong stress at procs = 1, 2, 4.
#include <thread>

#include "../support.hpp"
#include "parkslot.hpp"
#include "proc.hpp"

using namespace weft;
using namespace weft::detail;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("parkslot: signal before wait is consumed without parking", "[unit][parkslot]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    ParkSlot ps;
    parkslot_signal(&ps);
    CHECK(ps.state.load() == 1);
    parkslot_signal(&ps);  // kReady stays: signals coalesce
    CHECK(ps.state.load() == 1);
    parkslot_wait(&ps);  // consumes without parking
    CHECK(ps.state.load() == 0);
  });
}

TEST_CASE("parkslot: wait parks, signal readies exactly that fiber", "[unit][parkslot]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    ParkSlot ps;
    Latch l(1);
    std::uint64_t waiter = 0;
    go([&] {
      waiter = fiber_id();
      parkslot_wait(&ps);
      l.count_down();
    });
    while (ps.state.load() < 2) yield();
    G* parked = reinterpret_cast<G*>(ps.state.load());
    CHECK(parked->id == waiter);
    CHECK(parked->status.load() == GStatus::waiting);
    parkslot_signal(&ps);
    CHECK(ps.state.load() == 0);
    CHECK(parked->status.load() == GStatus::runnable);
    l.wait();
  });
}

TEST_CASE("parkslot: a signal racing the park commit is not lost", "[unit][parkslot]") {
  // The racing side is a foreign thread that signals as soon as it sees the waiter about to park;
  // repeated many times, both orders (signal before the commit CAS, and after it) occur.
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    for (int round = 0; round < 200; ++round) {
      ParkSlot ps;
      std::atomic<bool> go_signal{false};
      std::thread t([&] {
        while (!go_signal.load()) {
        }
        parkslot_signal(&ps);
      });
      rt.block_on([&] {
        go_signal.store(true);
        parkslot_wait(&ps);  // must return whichever side wins
      });
      t.join();
      CHECK(ps.state.load() == 0);
    }
  });
}

TEST_CASE("parkslot: ping-pong between fibers on all Ps", "[unit][parkslot]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      // A quarter of the rounds under TSan, where with WEFT_DEBUG=migrate=1 they took 24 s.
      constexpr int kPairs = 50, kRounds = weft_test::kTsan ? 500 : 2000;
      Latch l(2 * kPairs);
      std::vector<ParkSlot> a(kPairs), b(kPairs);
      for (int p = 0; p < kPairs; ++p) {
        go([&, p] {
          for (int i = 0; i < kRounds; ++i) {
            parkslot_signal(&b[std::size_t(p)]);
            parkslot_wait(&a[std::size_t(p)]);
          }
          l.count_down();
        });
        go([&, p] {
          for (int i = 0; i < kRounds; ++i) {
            parkslot_wait(&b[std::size_t(p)]);
            parkslot_signal(&a[std::size_t(p)]);
          }
          l.count_down();
        });
      }
      l.wait();
    });
    CHECK(weft_test::settles(rt));
  });
}
