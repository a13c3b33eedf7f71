// demo_fibers: the foundation demo — 100,000 fibers in 50,000 pairs ping-pong through park/ready
// (a ParkSlot each) across all Ps, and the switch rate is printed. Run by `tools/run demo`.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <weft/weft.hpp>

#include "parkslot.hpp"

using weft::detail::ParkSlot;
using weft::detail::parkslot_signal;
using weft::detail::parkslot_wait;

namespace {

struct Pair {
  ParkSlot a, b;
};

long rss_kib() {
  long pages = 0, rss = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4;
}

}  // namespace

int main(int argc, char** argv) {
  long fibers = argc > 1 ? std::atol(argv[1]) : 100000;
  long rounds = argc > 2 ? std::atol(argv[2]) : 200;
  if (fibers < 2 || fibers % 2 || rounds < 1) {
    std::fprintf(stderr, "usage: demo_fibers [fibers (even, >= 2)] [rounds]\n");
    return 2;
  }
  long pairs = fibers / 2;
  return weft::run([&] {
    std::vector<Pair> ps(static_cast<std::size_t>(pairs));
    std::atomic<long> done{0};
    ParkSlot all_done;
    auto t0 = std::chrono::steady_clock::now();
    for (Pair& p : ps) {
      // Every fiber counts itself out: main must not return (destroying ps) while a pinger is
      // still to wake from its last wait.
      weft::go([&p, &done, &all_done, rounds, pairs] {  // the pinger
        for (long i = 0; i < rounds; ++i) {
          parkslot_signal(&p.b);
          parkslot_wait(&p.a);
        }
        if (done.fetch_add(1) + 1 == 2 * pairs) parkslot_signal(&all_done);
      });
      weft::go([&p, &done, &all_done, rounds, pairs] {  // the ponger
        for (long i = 0; i < rounds; ++i) {
          parkslot_wait(&p.b);
          parkslot_signal(&p.a);
        }
        if (done.fetch_add(1) + 1 == 2 * pairs) parkslot_signal(&all_done);
      });
    }
    long rss_peak = rss_kib();
    parkslot_wait(&all_done);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double switches = double(pairs) * double(rounds) * 2.0;
    std::printf("weft demo: %ld fibers, %ld park/ready round trips each\n", fibers, rounds);
    std::printf("  switches:       %.0f in %.3f s\n", switches, secs);
    std::printf("  switches/s:     %.2f million\n", switches / secs / 1e6);
    std::printf("  ns per switch:  %.1f (wall clock, all Ps)\n", secs * 1e9 / switches);
    std::printf("  RSS after spawn: %.1f MiB (%.0f bytes per fiber, stacks touched lazily)\n",
                double(rss_peak) / 1024.0, double(rss_peak) * 1024.0 / double(fibers));
    std::fflush(stdout);
    return 0;
  });
}
