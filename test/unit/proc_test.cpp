// proc_test: spawn, park/ready and yield — the transitions of the park protocol (proc.cpp P1-P3)
// and the scheduling order Go gives them at procs = 1.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "../support.hpp"
#include "proc.hpp"

using namespace weft;
using weft::detail::G;
using weft::detail::GStatus;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("spawned fibers all run to completion", "[unit][proc]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> ran{0};
    rt.block_on([&] {
      Latch l(1000);
      for (int i = 0; i < 1000; ++i) go([&] { ran.fetch_add(1), l.count_down(); });
      l.wait();
    });
    CHECK(ran.load() == 1000);
  });
}

TEST_CASE("fiber ids are unique, non-zero on fibers and zero elsewhere", "[unit][proc]") {
  CHECK(fiber_id() == 0);
  CHECK_FALSE(in_fiber());
  Runtime rt(Config{.procs = 2});
  std::vector<std::uint64_t> ids(100);
  rt.block_on([&] {
    Latch l(100);
    for (int i = 0; i < 100; ++i) go([&, i] { ids[std::size_t(i)] = fiber_id(), l.count_down(); });
    CHECK(in_fiber());
    l.wait();
  });
  std::sort(ids.begin(), ids.end());
  CHECK(ids.front() != 0);
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}

TEST_CASE("yield interleaves two fibers strictly at procs=1", "[unit][proc]") {
  std::vector<int> log;
  weft_test::until_unpreempted([&] {
    Runtime rt(Config{.procs = 1});
    log.clear();
    rt.block_on([&] {
      Latch l(2);
      for (int who = 0; who < 2; ++who) {
        go([&, who] {
          for (int i = 0; i < 5; ++i) {
            log.push_back(who);
            yield();
          }
          l.count_down();
        });
      }
      l.wait();
    });
    return weft_test::preemptions(rt);
  });
  // The second go() took runnext, so fiber 1 runs first; after that they alternate.
  REQUIRE(log.size() == 10);
  for (std::size_t i = 0; i < log.size(); ++i) CHECK(log[i] == int((i + 1) % 2));
}

TEST_CASE("yield lets a fiber spinning on a flag make progress (Go's TestYieldProgress)",
          "[unit][proc]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      std::atomic<bool> flag{false};
      Latch l(1);
      go([&] {
        flag.store(true);
        l.count_down();
      });
      while (!flag.load()) yield();
      l.wait();
    });
  });
}

namespace {

struct ParkProbe {
  std::atomic<G*> parked{nullptr};
  GStatus status_in_unlockf = GStatus::idle;
  bool ctx_saved = false;
  bool park = true;
};

bool probe_unlockf(G* gp, void* arg) {
  auto* p = static_cast<ParkProbe*>(arg);
  p->status_in_unlockf = gp->status.load();
  p->ctx_saved = gp->ctx != nullptr && weft::detail::current_g() == gp;
  if (!p->park) return false;
  p->parked.store(gp);  // publishes gp: from here a waker may ready it
  return true;
}

}  // namespace

TEST_CASE("unlockf runs after the switch, with the fiber already waiting (P1)", "[unit][proc]") {
  ParkProbe probe;
  std::vector<int> log;
  weft_test::until_unpreempted([&] {
    Runtime rt(Config{.procs = 1});
    probe.parked = nullptr;
    log.clear();
    rt.block_on([&] {
      Latch l(1);
      go([&] {
        log.push_back(1);
        weft::detail::gopark(probe_unlockf, &probe, weft::detail::WaitReason::park);
        log.push_back(3);
        l.count_down();
      });
      while (!probe.parked.load()) yield();
      log.push_back(2);
      weft::detail::goready(probe.parked.load());
      l.wait();
    });
    return weft_test::preemptions(rt);
  });
  CHECK(probe.status_in_unlockf == GStatus::waiting);
  CHECK(probe.ctx_saved);
  CHECK(log == std::vector<int>{1, 2, 3});
}

TEST_CASE("unlockf returning false resumes the fiber at once (P2)", "[unit][proc]") {
  ParkProbe probe;
  probe.park = false;
  std::vector<int> log;
  bool migrate = false;
  weft_test::until_unpreempted([&] {
    Runtime rt(Config{.procs = 1});
    migrate = weft_test::sched_of(rt)->debug.migrate;
    log.clear();
    rt.block_on([&] {
      // Nothing else is runnable: the park that does not commit returns to this fiber at once,
      // with no goready from anyone.
      weft::detail::gopark(probe_unlockf, &probe, weft::detail::WaitReason::park);
      log.push_back(0);
      Latch l(1);
      go([&] {
        log.push_back(1);
        l.count_down();
      });
      // The fiber above sits in runnext and has never run: the park goes through g0 with it
      // chosen as the next (H3), and the fiber whose park did not commit runs right after it (H2).
      weft::detail::gopark(probe_unlockf, &probe, weft::detail::WaitReason::park);
      log.push_back(2);
      l.wait();
    });
    return weft_test::preemptions(rt);
  });
  CHECK(probe.status_in_unlockf == GStatus::waiting);
  if (migrate) {
    CHECK(log == std::vector<int>{0, 2, 1});  // no handoff (H1): on g0 it runs again at once
  } else {
    CHECK(log == std::vector<int>{0, 1, 2});
  }
}

TEST_CASE("goready puts the fiber in runnext, ahead of queued fibers (P3)", "[unit][proc]") {
  ParkProbe probe;
  std::vector<int> log;
  weft_test::until_unpreempted([&] {
    Runtime rt(Config{.procs = 1});
    probe.parked = nullptr;
    log.clear();
    rt.block_on([&] {
      Latch l(4);
      go([&] {
        weft::detail::gopark(probe_unlockf, &probe, weft::detail::WaitReason::park);
        log.push_back(100);
        l.count_down();
      });
      while (!probe.parked.load()) yield();
      for (int i = 1; i <= 3; ++i) go([&, i] { log.push_back(i), l.count_down(); });
      weft::detail::goready(probe.parked.load());
      l.wait();
    });
    return weft_test::preemptions(rt);
  });
  // runnext held 3 until goready took its place and kicked 3 to the ring's tail.
  CHECK(log == std::vector<int>{100, 1, 2, 3});
}

TEST_CASE("goready from a foreign thread wakes a parked fiber", "[unit][proc]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    ParkProbe probe;
    std::thread waker([&] {
      while (!probe.parked.load()) std::this_thread::yield();
      weft::detail::goready(probe.parked.load());
    });
    int r = rt.block_on([&] {
      weft::detail::gopark(probe_unlockf, &probe, weft::detail::WaitReason::park);
      return 42;
    });
    waker.join();
    CHECK(r == 42);
  });
}

TEST_CASE("fibers spawned from foreign threads run, with all Ps idle before", "[unit][proc]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> ran{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&] {
        for (int i = 0; i < 250; ++i) rt.spawn([&] { ran.fetch_add(1); });
      });
    }
    for (auto& t : ts) t.join();
    CHECK(weft_test::settles(rt));
    CHECK(ran.load() == 1000);
  });
}

TEST_CASE("per-spawn stack size is honoured", "[unit][proc]") {
  Runtime rt(Config{.procs = 1, .stack_size = 64 * 1024});
  std::size_t small = 0, big = 0;
  rt.block_on([&] {
    Latch l(2);
    go([&] {
      small = weft::detail::current_g()->stack.size;
      l.count_down();
    });
    go(SpawnOptions{.stack_size = 1024 * 1024}, [&] {
      // Use most of it: this would overflow a 64 KiB stack.
      volatile char buf[512 * 1024];
      buf[0] = 1;
      buf[sizeof buf - 1] = 1;
      big = weft::detail::current_g()->stack.size;
      l.count_down();
    });
    l.wait();
  });
  CHECK(small >= 60 * 1024);
  CHECK(small <= 64 * 1024);
  CHECK(big >= 1000 * 1024);
}

TEST_CASE("procs comes from Config, else WEFT_PROCS, else the CPUs the process may use",
          "[unit][proc]") {
  const char* old = std::getenv("WEFT_PROCS");
  std::string saved = old ? old : "";
  cpu_set_t mask;
  REQUIRE(sched_getaffinity(0, sizeof mask, &mask) == 0);
  int allowed = CPU_COUNT(&mask);
  setenv("WEFT_PROCS", "3", 1);
  {
    Runtime rt(Config{});
    CHECK(weft_test::sched_of(rt)->nprocs == 3);
    Runtime rt2(Config{.procs = 2});
    CHECK(weft_test::sched_of(rt2)->nprocs == 2);
  }
  unsetenv("WEFT_PROCS");
  {
    Runtime rt(Config{});
    CHECK(weft_test::sched_of(rt)->nprocs == allowed);
  }
  setenv("WEFT_PROCS", "zero", 1);  // malformed: ignored
  {
    Runtime rt(Config{});
    CHECK(weft_test::sched_of(rt)->nprocs == allowed);
  }
  unsetenv("WEFT_PROCS");
  // The affinity mask, not the machine: under `taskset -c N` a runtime gets one P, as Go does.
  int cpu = -1;
  for (int c = 0; c < CPU_SETSIZE && cpu < 0; ++c)
    if (CPU_ISSET(c, &mask)) cpu = c;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
  {
    Runtime rt(Config{});
    CHECK(weft_test::sched_of(rt)->nprocs == 1);
    CHECK(weft::detail::cpus_allowed() == 1u);
  }
  REQUIRE(sched_setaffinity(0, sizeof mask, &mask) == 0);
  CHECK(weft::detail::cpus_allowed() == unsigned(allowed));
  if (old)
    setenv("WEFT_PROCS", saved.c_str(), 1);
  else
    unsetenv("WEFT_PROCS");
}
