// select2: cost of a two-way select — one fiber selects n times over two unbuffered channels,
// each fed n/2 values by its own sender; ns per select (as the Go twin, tools/bench/go/select2).
#include <cstdio>
#include <cstdlib>

#include "bench.hpp"

namespace {

double pass(long n) {
  weft::Chan<long> a(0), b(0);
  auto t0 = std::chrono::steady_clock::now();
  for (const weft::Chan<long>& c : {a, b}) {
    weft::go([c, n] {
      for (long i = 0; i < n / 2; ++i) c.send(1);
    });
  }
  long from_a = 0, from_b = 0;
  for (long i = 0; i < n; ++i) {
    weft::select(weft::on_recv(a, [&](std::optional<long> v) { from_a += *v; }),
                 weft::on_recv(b, [&](std::optional<long> v) { from_b += *v; }));
  }
  double ns = bench::since_ns(t0);
  if (from_a != n / 2 || from_b != n / 2) {
    std::fprintf(stderr, "select2: got %ld from a and %ld from b, want %ld each\n", from_a, from_b,
                 n / 2);
    std::exit(1);
  }
  return ns / double(n);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  if (f.n % 2 != 0) {
    std::fprintf(stderr, "select2: need an even -n\n");
    return 2;
  }
  return weft::run(
      [&] {
        pass(f.n / 10 / 2 * 2);  // warm-up
        bench::report("select2", pass(f.n), "ns/select");
      },
      weft::Config{.procs = f.procs});
}
