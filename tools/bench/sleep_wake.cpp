// sleep_wake: how late a sleeping fiber wakes: sleep_for(1 ms) n times (default 1000), mean of
// (woke - deadline) in µs. Twin of tools/bench/go/sleep_wake.
#include "bench.hpp"

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000);
  return weft::run(
      [&] {
        double late_ns = 0;
        for (long i = 0; i < f.n; ++i) {
          auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
          weft::sleep_for(std::chrono::milliseconds(1));
          late_ns += bench::since_ns(deadline);
        }
        bench::report("sleep_wake", late_ns / double(f.n) / 1e3, "us");
      },
      weft::Config{.procs = f.procs});
}
