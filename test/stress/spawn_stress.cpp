// spawn_stress: a million fibers spawned and run to completion, at procs = 1, 2 and 4; and a
// storm of cross-P goready at once.
#include <chrono>
#include <cstdio>

#include "../support.hpp"
#include "parkslot.hpp"

using namespace weft;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("1,000,000 spawned fibers all complete", "[stress][spawn]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const int kFibers = int(1000000 / weft_test::stress_scale());
    std::atomic<long> sum{0};
    auto t0 = std::chrono::steady_clock::now();
    rt.block_on([&] {
      Latch l(kFibers);
      for (int i = 0; i < kFibers; ++i) {
        go([&sum, &l, i] {
          sum.fetch_add(i, std::memory_order_relaxed);
          l.count_down();
        });
        if (i % 1024 == 1023) yield();  // let this P run its backlog too
      }
      l.wait();
    });
    double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    std::printf("spawn stress: procs=%u %d fibers, %.0f ns per spawn+run\n", procs, kFibers,
                ns / kFibers);
    CHECK(sum.load() == long(kFibers) * (kFibers - 1) / 2);
    CHECK(weft_test::settles(rt));
  });
}

TEST_CASE("no lost wakeup in a storm of cross-P goready", "[stress][spawn]") {
  // 64 fibers each park and are readied by a random other fiber, 10^6 wakeups in all; the
  // chain of wakeups crosses Ps constantly. A lost wakeup hangs the test (meson's timeout).
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    constexpr int kFibers = 64;
    const long kWakeups = 1000000 / weft_test::stress_scale();
    rt.block_on([&] {
      std::vector<weft::detail::ParkSlot> slots(kFibers);
      std::atomic<long> left{kWakeups};
      Latch l(kFibers);
      for (int f = 0; f < kFibers; ++f) {
        go([&, f] {
          std::uint32_t x = std::uint32_t(f) * 2654435761u + 1;
          for (;;) {
            weft::detail::parkslot_wait(&slots[std::size_t(f)]);
            if (left.fetch_sub(1) <= 0) break;
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            weft::detail::parkslot_signal(&slots[x % kFibers]);
          }
          // Pass the end on so every fiber sees it.
          for (auto& s : slots) weft::detail::parkslot_signal(&s);
          l.count_down();
        });
      }
      weft::detail::parkslot_signal(&slots[0]);
      l.wait();
    });
    CHECK(weft_test::settles(rt));
  });
}
