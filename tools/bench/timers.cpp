// timers: cost of arming and firing n timers (default 1M) spread over 0-10 ms, each counting
// down a latch when it fires. Twin of tools/bench/go/timers (time.AfterFunc). weft has no
// public AfterFunc yet (issue "Go's concurrency toolkit"), so this uses the runtime's timers.
#include <memory>
#include <vector>

#include "bench.hpp"
#include "proc.hpp"
#include "timer.hpp"

namespace {

double pass(long n) {
  std::unique_ptr<weft::detail::Timer[]> ts(new weft::detail::Timer[std::size_t(n)]);
  bench::Latch wg(n);
  weft::detail::Sched* s = weft::detail::current_g()->sched;
  auto t0 = std::chrono::steady_clock::now();
  std::int64_t now = weft::detail::nanotime();
  for (long i = 0; i < n; ++i) {
    weft::detail::Timer& t = ts[std::size_t(i)];
    t.fn = [](void* arg, std::uintptr_t) { static_cast<bench::Latch*>(arg)->done(); };
    t.arg = &wg;
    weft::detail::timer_add(s, &t, now + std::int64_t(i % 10000) * 1000);
  }
  wg.wait();
  return bench::since_ns(t0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  return weft::run(
      [&] {
        pass(f.n / 10);  // warm-up
        bench::report("timers", pass(f.n) / double(f.n), "ns/timer");
      },
      weft::Config{.procs = f.procs});
}
