// handoff_test: the direct G-to-G switch of yield and gopark (proc.cpp H1-H3): when it is taken,
// when it is not, and that its park commit keeps the park protocol (P1, P2).
#include <atomic>
#include <vector>

#include "../support.hpp"
#include "proc.hpp"

using namespace weft;
using weft::detail::G;
using weft::detail::GStatus;
using weft::detail::WaitReason;
using weft_test::Latch;
using weft_test::sched_of;

namespace {

std::uint64_t handoffs(Runtime& rt) {
  std::uint64_t n = 0;
  for (weft::detail::P* pp : sched_of(rt)->allp) n += pp->handoffs.load();
  return n;
}

bool migrating(Runtime& rt) { return sched_of(rt)->debug.migrate; }

struct Probe {
  std::atomic<G*> parked{nullptr};
  GStatus status_in_unlockf = GStatus::idle;
  G* current_in_unlockf = nullptr;
  bool ctx_saved = false;
  bool park = true;
};

bool probe_unlockf(G* gp, void* arg) {
  auto* p = static_cast<Probe*>(arg);
  p->status_in_unlockf = gp->status.load();
  p->current_in_unlockf = weft::detail::current_g();
  p->ctx_saved = gp->ctx != nullptr;
  if (!p->park) return false;
  p->parked.store(gp);
  return true;
}

}  // namespace

TEST_CASE("handoff: a park switches straight to a runnable fiber that has run (H1, P1)",
          "[unit][handoff]") {
  Probe probe;
  G* parker = nullptr;
  std::vector<int> log;
  std::uint64_t before = 0, after = 0;
  bool migrate = false;
  weft_test::until_unpreempted([&] {
    Runtime rt(Config{.procs = 1});
    migrate = migrating(rt);
    probe.parked = nullptr;
    log.clear();
    rt.block_on([&] {
      Latch l(1);
      go([&] {
        parker = weft::detail::current_g();
        log.push_back(1);
        before = handoffs(rt);
        // block_on's fiber yielded to us and waits on the ring: the park hands the M to it.
        weft::detail::gopark(probe_unlockf, &probe, WaitReason::park);
        log.push_back(3);
        l.count_down();
      });
      yield();  // runs the fiber above, which parks
      after = handoffs(rt);
      log.push_back(2);
      REQUIRE(probe.parked.load() == parker);
      weft::detail::goready(parker);
      l.wait();
    });
    return weft_test::preemptions(rt);
  });
  CHECK(log == std::vector<int>{1, 2, 3});
  CHECK(probe.status_in_unlockf == GStatus::waiting);  // P1: published only after the switch
  CHECK(probe.ctx_saved);
  CHECK(probe.current_in_unlockf == parker);  // H2: curg is still the parking G
  if (migrate) {
    CHECK(after == before);  // H1: WEFT_DEBUG=migrate sends every switch through g0
  } else {
    CHECK(after == before + 1);
  }
}

TEST_CASE(
    "handoff: a park whose unlockf finds the condition true runs right after the next "
    "fiber (H2)",
    "[unit][handoff]") {
  Probe probe;
  probe.park = false;
  std::vector<int> log;
  bool migrate = false;
  weft_test::until_unpreempted([&] {
    Runtime rt(Config{.procs = 1});
    migrate = migrating(rt);
    log.clear();
    rt.block_on([&] {
      Latch l(2);
      go([&] {
        log.push_back(1);
        yield();  // back to block_on's fiber: both have run now
        log.push_back(3);
        l.count_down();
      });
      yield();
      log.push_back(2);
      // The fiber above is runnable and has run: the park hands it the M, unlockf says "do not
      // sleep", and this fiber, runnable again without any goready, runs as soon as it yields.
      weft::detail::gopark(probe_unlockf, &probe, WaitReason::park);
      log.push_back(4);
      l.count_down();
      l.wait();
    });
    return weft_test::preemptions(rt);
  });
  CHECK(probe.status_in_unlockf == GStatus::waiting);
  if (migrate) {
    CHECK(log == std::vector<int>{1, 2, 4, 3});  // no handoff (H1): on g0 it runs again at once
  } else {
    CHECK(log == std::vector<int>{1, 2, 3, 4});
  }
}

TEST_CASE("handoff: a pending timer sends the park through g0 (H1)", "[unit][handoff]") {
  Runtime rt(Config{.procs = 1});
  Probe probe;
  std::uint64_t before = 0, after = 0;
  rt.block_on([&] {
    // Holds a timer on this P for the whole test; shutdown unwinds it out of its sleep.
    go([] { sleep_for(std::chrono::seconds(30)); });
    yield();  // the sleeper runs and sleeps: its timer is pending from here on
    Latch parker_done(1);
    go([&] {
      before = handoffs(rt);
      weft::detail::gopark(probe_unlockf, &probe, WaitReason::park);
      parker_done.count_down();
    });
    yield();  // the parker runs and parks with the timer pending
    after = handoffs(rt);
    REQUIRE(probe.parked.load() != nullptr);
    weft::detail::goready(probe.parked.load());
    parker_done.wait();
  });
  CHECK(after == before);
}

TEST_CASE("handoff: ping-pong through parks at procs = 1, 2, 4 loses no wakeup",
          "[unit][handoff]") {
  weft_test::each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    // A quarter under TSan, where with WEFT_DEBUG=migrate=1 the 20,000 took 28 s.
    constexpr int kRounds = weft_test::kTsan ? 5000 : 20000;
    int last = 0;
    rt.block_on([&] {
      weft::detail::ParkSlot a, b;
      Latch l(2);
      go([&] {
        for (int i = 0; i < kRounds; ++i) {
          weft::detail::parkslot_signal(&b);
          weft::detail::parkslot_wait(&a);
        }
        l.count_down();
      });
      go([&] {
        for (int i = 0; i < kRounds; ++i) {
          weft::detail::parkslot_wait(&b);
          last = i + 1;
          weft::detail::parkslot_signal(&a);
        }
        l.count_down();
      });
      l.wait();
    });
    CHECK(last == kRounds);
    if (procs == 1 && !migrating(rt)) CHECK(handoffs(rt) > 0);
  });
}
