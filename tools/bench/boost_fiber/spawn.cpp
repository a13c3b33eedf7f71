// spawn: cost of creating, running and finishing one fiber: main spawns n fibers that each
// call wg.done(). Boost.Fiber twin of tools/bench/go/spawn (and tools/bench/spawn.cpp).
#include "fiber.hpp"

namespace {

double pass(long n) {
  bf::WaitGroup wg(n);
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) bf::go([&wg] { wg.done(); });
  wg.wait();
  return bench::since_ns(t0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("spawn", pass(f.n) / double(f.n), "ns/fiber");
  });
}
