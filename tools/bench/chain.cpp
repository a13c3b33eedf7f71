// chain: cost per hop of passing an integer down a chain of n fibers (default 10,000) linked by
// unbuffered channels, 10 passes, spawning the chain included (as the Go twin,
// tools/bench/go/chain, measures it).
#include <cstdio>
#include <cstdlib>

#include "bench.hpp"

namespace {

constexpr int kPasses = 10;

double run(long n) {
  auto t0 = std::chrono::steady_clock::now();
  weft::Chan<long> head(0);
  weft::Chan<long> in = head;
  for (long i = 0; i < n; ++i) {
    weft::Chan<long> out(0);
    weft::go([in, out] {
      while (auto v = in.recv()) out.send(*v + 1);
      out.close();
    });
    in = out;
  }
  weft::Chan<long> tail = in;
  for (int p = 0; p < kPasses; ++p) {
    head.send(0);
    long v = *tail.recv();
    if (v != n) {
      std::fprintf(stderr, "chain: got %ld at the tail, want %ld\n", v, n);
      std::exit(1);
    }
  }
  double ns = bench::since_ns(t0);
  head.close();  // the chain exits link by link (not timed)
  while (tail.recv()) {
  }
  return ns / double(kPasses * n);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 10000);
  return weft::run(
      [&] {
        run(f.n / 10);  // warm-up
        bench::report("chain", run(f.n), "ns/hop");
      },
      weft::Config{.procs = f.procs});
}
