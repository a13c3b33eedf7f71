// timer_test: the per-P timer heaps (timer.hpp T1-T4) and sleep_for / sleep_until — Go's
// time.Stop/Reset return values (sleep_test.go), never early, zero/negative/huge durations.
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "../support.hpp"
#include "proc.hpp"
#include "timer.hpp"

using namespace weft;
using namespace weft::detail;
using namespace std::chrono_literals;
using weft_test::each_procs;
using weft_test::Latch;

namespace {

struct Fired {
  std::vector<std::uintptr_t> order;
  static void fn(void* arg, std::uintptr_t seq) { static_cast<Fired*>(arg)->order.push_back(seq); }
};

}  // namespace

TEST_CASE("timers run in deadline order, each once; deleted ones never", "[unit][timer]") {
  Sched s(Config{.procs = 1});  // no M runs: the test drives checktimers itself
  P* pp = s.allp[0];
  Fired f;
  std::vector<detail::Timer> ts(500);
  std::mt19937 rng(7);
  std::vector<std::int64_t> whens;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    ts[i].fn = Fired::fn;
    ts[i].arg = &f;
    std::int64_t w = 1000 + std::int64_t(rng() % 100000);
    whens.push_back(w);
    timer_add(&s, &ts[i], w, i);
  }
  CHECK(pp->timers.size() == 500);
  // Stop half of them (Go's Timer.Stop on a pending timer: true).
  for (std::size_t i = 0; i < ts.size(); i += 2) CHECK(timer_del(&ts[i]));
  CHECK(pp->timers.size() == 250);
  CHECK(checktimers(pp, 0) != 0);  // nothing due at time 0
  CHECK(f.order.empty());
  checktimers(pp, 1000 + 100000);
  REQUIRE(f.order.size() == 250);
  for (std::size_t k = 1; k < f.order.size(); ++k) {
    CHECK(whens[f.order[k - 1]] <= whens[f.order[k]]);
    CHECK(f.order[k] % 2 == 1);
  }
  CHECK(pp->timer0_when.load() == 0);
  // After firing: Stop reports false, Reset reports false (it was not pending) and re-arms.
  CHECK_FALSE(timer_del(&ts[1]));
  CHECK_FALSE(timer_mod(&s, &ts[1], 5, 1));
  CHECK(timer_mod(&s, &ts[1], 7, 1));  // pending now: true, and moved
  CHECK(pp->timers.size() == 1);
  CHECK(pp->timer0_when.load() == 7);
  checktimers(pp, 6);
  CHECK(f.order.size() == 250);
  checktimers(pp, 7);
  CHECK(f.order.size() == 251);
}

TEST_CASE("periodic timers re-arm and skip missed periods", "[unit][timer]") {
  Sched s(Config{.procs = 1});
  P* pp = s.allp[0];
  Fired f;
  detail::Timer t;
  t.fn = Fired::fn;
  t.arg = &f;
  t.period = 10;
  timer_add(&s, &t, 100);
  checktimers(pp, 100);
  checktimers(pp, 110);
  CHECK(f.order.size() == 2);
  checktimers(pp, 1000);  // far behind: runs once, next at now + period
  CHECK(f.order.size() == 3);
  CHECK(pp->timer0_when.load() == 1010);
  CHECK(timer_del(&t));
}

TEST_CASE("sleep_for never returns early, at any procs", "[unit][timer]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> early{0};
    rt.block_on([&] {
      constexpr int kFibers = 200;
      Latch l(kFibers);
      for (int i = 0; i < kFibers; ++i) {
        go([&, i] {
          auto d = std::chrono::microseconds(100 + (i * 7919) % 20000);
          auto t0 = std::chrono::steady_clock::now();
          sleep_for(d);
          if (std::chrono::steady_clock::now() - t0 < d) ++early;
          l.count_down();
        });
      }
      l.wait();
    });
    CHECK(early.load() == 0);
  });
}

TEST_CASE("sleep_until a past or present instant returns at once without parking",
          "[unit][timer]") {
  Runtime rt(Config{.procs = 1});
  std::vector<int> log;
  rt.block_on([&] {
    Latch l(1);
    go([&] { log.push_back(1), l.count_down(); });  // would run if we parked
    sleep_for(0ms);
    sleep_for(-5s);
    sleep_until(std::chrono::steady_clock::now() - 1s);
    sleep_until(std::chrono::steady_clock::time_point{});
    log.push_back(0);
    l.wait();
  });
  CHECK(log == std::vector<int>{0, 1});
}

TEST_CASE("huge durations saturate instead of overflowing", "[unit][timer]") {
  std::atomic<int> destroyed{0};
  {
    Runtime rt(Config{.procs = 2});
    rt.block_on([&] {
      Latch started(3);
      struct Bump {
        std::atomic<int>* n;
        ~Bump() { n->fetch_add(1); }
      };
      go([&] {
        Bump b{&destroyed};
        started.count_down();
        sleep_for(std::chrono::hours::max());
      });
      go([&] {
        Bump b{&destroyed};
        started.count_down();
        sleep_for(std::chrono::nanoseconds::max());
      });
      go([&] {
        Bump b{&destroyed};
        started.count_down();
        sleep_until(std::chrono::steady_clock::time_point::max());
      });
      started.wait();
      sleep_for(10ms);  // they are parked with their timers pending, far in the future
      std::int64_t next = timer_next(current_g()->sched);
      CHECK(next > steady_now_ns() + std::int64_t(1e15));
    });
  }  // shutdown unwinds the three sleepers
  CHECK(destroyed.load() == 3);
}

TEST_CASE("a sleeping fiber wakes while the only P is kept busy by a yielding fiber",
          "[unit][timer]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    std::atomic<bool> woke{false};
    Latch l(2);
    go([&] {
      sleep_for(5ms);
      woke = true;
      l.count_down();
    });
    go([&] {
      auto deadline = std::chrono::steady_clock::now() + 10s;  // generous bound
      while (!woke.load() && std::chrono::steady_clock::now() < deadline) yield();
      l.count_down();
    });
    l.wait();
    CHECK(woke.load());
  });
}

TEST_CASE("100,000 concurrent sleeps over all Ps all fire, none early", "[unit][timer]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const int kFibers = int(100000 / weft_test::stress_scale());
    std::atomic<int> early{0}, fired{0};
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([&] {
      Latch l(kFibers);
      for (int i = 0; i < kFibers; ++i) {
        go([&, i] {
          auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(i % 50000);
          sleep_until(until);
          if (std::chrono::steady_clock::now() < until) ++early;
          ++fired;
          l.count_down();
        });
      }
      l.wait();
    });
    double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    std::printf("timers: procs=%u %d sleeps over 50 ms in %.0f ms (%.2f us per sleep overall)\n",
                procs, kFibers, us / 1000, us / kFibers);
    CHECK(fired.load() == kFibers);
    CHECK(early.load() == 0);
  });
}

TEST_CASE("timers fire while fibers keep every P busy (Go's TestTimerFairness 1 and 2)",
          "[unit][timer]") {
  // Go's versions spin in select loops sending on a channel; weft's channels and select come
  // with issue "Go's concurrency toolkit", so the busy fibers here spin in yield() loops. The
  // property is the same: a timer fires even though runnable fibers never run out.
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([procs] {
      // 1: main sleeps 20 ms while 2 x procs fibers spin.
      std::atomic<bool> done{false};
      Latch spinners(int(2 * procs));
      for (unsigned i = 0; i < 2 * procs; ++i) {
        go([&] {
          while (!done.load()) yield();
          spinners.count_down();
        });
      }
      auto t0 = std::chrono::steady_clock::now();
      sleep_for(20ms);
      CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);
      done = true;
      spinners.wait();
      // 2: each busy fiber waits for its own timer (fired by the runtime, not by a sleep).
      std::atomic<int> fired{0};
      std::vector<detail::Timer> timers(2 * procs);
      Latch busy(int(2 * procs));
      for (unsigned i = 0; i < 2 * procs; ++i) {
        timers[i].fn = [](void* arg, std::uintptr_t) {
          static_cast<std::atomic<int>*>(arg)->fetch_add(1);
        };
        timers[i].arg = &fired;
        go([&, i] {
          std::int64_t until = steady_now_ns() + 10'000'000;
          timer_add(current_g()->sched, &timers[i], until);
          auto deadline = std::chrono::steady_clock::now() + 10s;  // generous bound
          while (fired.load() < int(i + 1) && std::chrono::steady_clock::now() < deadline) {
            yield();
          }
          busy.count_down();
        });
      }
      busy.wait();
      CHECK(fired.load() == int(2 * procs));
    });
  });
}
