// switch: cost of one cooperative context switch: two fibers each call this_fiber::yield() n
// times. Boost.Fiber twin of tools/bench/go/switch (runtime.Gosched).
#include "fiber.hpp"

namespace {

double pass(long n) {
  bf::WaitGroup wg(2);
  auto t0 = std::chrono::steady_clock::now();
  for (int g = 0; g < 2; ++g) {
    bf::go([&wg, n] {
      for (long i = 0; i < n; ++i) boost::this_fiber::yield();
      wg.done();
    });
  }
  wg.wait();
  return bench::since_ns(t0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 10000000);
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("switch", pass(f.n) / double(2 * f.n), "ns/switch");
  });
}
