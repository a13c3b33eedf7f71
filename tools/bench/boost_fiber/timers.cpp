// timers: cost of arming and firing n timers (default 1M) spread over 0-10 ms, each counting
// down a WaitGroup when it fires. Boost.Fiber twin of tools/bench/go/timers (time.AfterFunc).
// Boost.Fiber has no timer callbacks: its timer is a fiber sleeping until the deadline
// (this_fiber::sleep_until), so each timer here costs a fiber as well.
#include "fiber.hpp"

namespace {

double pass(long n) {
  bf::WaitGroup wg(n);
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    auto when = t0 + std::chrono::microseconds(i % 10000);
    bf::go([&wg, when] {
      boost::this_fiber::sleep_until(when);
      wg.done();
    });
  }
  wg.wait();
  return bench::since_ns(t0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("timers", pass(f.n) / double(f.n), "ns/timer");
  });
}
