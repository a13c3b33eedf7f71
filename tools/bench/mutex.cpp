// mutex: cost of a contended lock/unlock — 8 fibers each lock a shared weft::Mutex, increment a
// counter and unlock, n times in all; ns per lock-unlock (as the Go twin, tools/bench/go/mutex).
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "bench.hpp"

namespace {

constexpr int kFibers = 8;

double pass(long n) {
  weft::Mutex mu;
  long counter = 0;  // guarded by mu
  long per = n / kFibers;
  weft::WaitGroup wg;
  wg.add(kFibers);
  auto t0 = std::chrono::steady_clock::now();
  for (int g = 0; g < kFibers; ++g) {
    weft::go([&] {
      for (long i = 0; i < per; ++i) {
        std::lock_guard<weft::Mutex> lk(mu);
        ++counter;
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
  return bench::main_pass(argc, argv, 1000000, "mutex", "ns/op", pass);
}
