// sleep_wake: how late a sleeping fiber wakes: this_fiber::sleep_for(1 ms) n times (default
// 1000), mean of (woke - deadline) in µs. Boost.Fiber twin of tools/bench/go/sleep_wake.
#include "fiber.hpp"

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000);
  bf::run(f.procs, [&] {
    double late_ns = 0;
    for (long i = 0; i < f.n; ++i) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
      boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
      late_ns += bench::since_ns(deadline);
    }
    bench::report("sleep_wake", late_ns / double(f.n) / 1e3, "us");
  });
}
