// mutex: cost of a contended lock/unlock: 8 fibers each lock a shared mutex, increment a
// counter and unlock, n times in all (default 1M); ns per lock-unlock. Boost.Fiber twin of
// tools/bench/go/mutex (sync.Mutex), with boost::fibers::mutex.
#include <cstdio>

#include "fiber.hpp"

namespace {

constexpr int kFibers = 8;

double pass(long n) {
  boost::fibers::mutex mu;
  long counter = 0;  // guarded by mu
  long per = n / kFibers;
  bf::WaitGroup wg(kFibers);
  auto t0 = std::chrono::steady_clock::now();
  for (int g = 0; g < kFibers; ++g) {
    bf::go([&, per] {
      for (long i = 0; i < per; ++i) {
        mu.lock();
        ++counter;
        mu.unlock();
      }
      wg.done();
    });
  }
  wg.wait();
  double ns = bench::since_ns(t0);
  if (counter != kFibers * per) {
    std::fprintf(stderr, "mutex: counter %ld, want %ld\n", counter, kFibers * per);
    std::exit(1);
  }
  return ns / double(kFibers * per);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  if (f.n < kFibers * 10) {
    std::fprintf(stderr, "mutex: need -n >= %d\n", kFibers * 10);
    return 2;
  }
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("mutex", pass(f.n), "ns/op");
  });
}
