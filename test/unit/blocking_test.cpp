// blocking_test: weft::blocking (entersyscall/exitsyscall) and sysmon's retake of the P —
// Go's TestPreemptionAfterSyscall made deterministic: a fiber queued behind a blocking call
// must run while the call is still blocked.
#include <chrono>
#include <stdexcept>
#include <thread>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("blocking returns the value, passes exceptions, nests, and works off fibers",
          "[unit][blocking]") {
  CHECK(blocking([] { return 5; }) == 5);  // not on a fiber: a plain call
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    CHECK(blocking([] { return 6; }) == 6);
    CHECK(blocking([] { return blocking([] { return 7; }) + 1; }) == 8);
    CHECK_THROWS_WITH(blocking([]() -> int { throw std::runtime_error("io"); }), "io");
    int x = 0;
    int& r = blocking([&]() -> int& { return x; });
    CHECK(&r == &x);
    yield();  // the fiber is a normal fiber again
  });
}

TEST_CASE("a fiber queued behind a blocking call runs while the call is blocked",
          "[unit][blocking]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([procs] {
      // Fill every P with a blocking call, then queue one more fiber: it can only run if sysmon
      // hands a P off while the calls still block.
      std::atomic<bool> ran{false};
      std::atomic<int> in_call{0};
      std::atomic<bool> release{false};
      Latch l(int(procs) + 1);
      for (unsigned i = 0; i < procs; ++i) {
        go([&] {
          blocking([&] {
            in_call.fetch_add(1);
            // Blocks until the queued fiber has run (or a generous bound passes).
            for (int i = 0; i < 5000 && !release.load(); ++i) std::this_thread::sleep_for(1ms);
          });
          l.count_down();
        });
      }
      go([&] {
        ran.store(true);
        release.store(true);
        l.count_down();
      });
      l.wait();
      CHECK(ran.load());
      CHECK(release.load());
    });
  });
}

TEST_CASE("blocking calls at procs=1 overlap: their P is handed on", "[unit][blocking]") {
  Runtime rt(Config{.procs = 1});
  std::atomic<int> now{0}, most{0};
  rt.block_on([&] {
    Latch l(4);
    for (int i = 0; i < 4; ++i) {
      go([&] {
        blocking([&] {
          int n = now.fetch_add(1) + 1;
          int m = most.load();
          while (n > m && !most.compare_exchange_weak(m, n)) {
          }
          std::this_thread::sleep_for(100ms);
          now.fetch_sub(1);
        });
        l.count_down();
      });
    }
    l.wait();
  });
  CHECK(most.load() >= 2);
}

TEST_CASE("a fiber whose P was taken while it blocked gets one back", "[unit][blocking]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([procs] {
      // Busy fibers keep every P occupied (yielding) while one fiber returns from a blocking
      // call: it finds no P (exitsyscall0), is queued globally, and must still run.
      std::atomic<bool> stop{false};
      std::atomic<int> done{0};
      Latch l(int(procs) + 1);
      for (unsigned i = 0; i < procs; ++i) {
        go([&] {
          while (!stop.load()) yield();
          l.count_down();
        });
      }
      go([&] {
        blocking([] { std::this_thread::sleep_for(20ms); });
        done.fetch_add(1);
        stop.store(true);
        l.count_down();
      });
      l.wait();
      CHECK(done.load() == 1);
    });
  });
}
