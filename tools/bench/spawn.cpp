// spawn: cost of spawning a fiber that exits at once — main spawns n fibers, each signals a
// latch (Go's wg.Done), main waits. Twin of tools/bench/go/spawn.
#include "bench.hpp"

namespace {

double pass(long n) {
  bench::Latch wg(n);
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) weft::go([&wg] { wg.done(); });
  wg.wait();
  return bench::since_ns(t0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  return weft::run(
      [&] {
        pass(f.n / 10);  // warm-up
        bench::report("spawn", pass(f.n) / double(f.n), "ns/fiber");
      },
      weft::Config{.procs = f.procs});
}
