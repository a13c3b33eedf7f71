// skynet: a 10-ary tree of fibers over n leaves (default 1M) sums its leaf numbers. Twin of
// tools/bench/go/skynet. Until weft has channels (issue "Go's concurrency toolkit") each node
// collects its children's sums through a result array and a latch instead of an unbuffered
// channel: the same spawn tree and the same park/ready per child.
#include <cstdio>
#include <cstdlib>

#include "bench.hpp"

namespace {

struct Node {
  bench::Latch* parent_done;
  std::int64_t* out;
};

void skynet(Node up, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    *up.out = num;
    up.parent_done->done();
    return;
  }
  std::int64_t sums[10] = {};
  bench::Latch children(div);
  for (std::int64_t i = 0; i < div; ++i) {
    weft::go([&children, &sums, i, num, size, div] {
      skynet(Node{&children, &sums[i]}, num + i * (size / div), size / div, div);
    });
  }
  children.wait();
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) sum += sums[i];
  *up.out = sum;
  up.parent_done->done();
}

double pass(std::int64_t n) {
  auto t0 = std::chrono::steady_clock::now();
  std::int64_t sum = 0;
  bench::Latch done(1);
  weft::go([&] { skynet(Node{&done, &sum}, 0, n, 10); });
  done.wait();
  double ms = bench::since_ns(t0) / 1e6;
  if (sum != n * (n - 1) / 2) {
    std::fprintf(stderr, "skynet: wrong sum %lld, want %lld\n", static_cast<long long>(sum),
                 static_cast<long long>(n * (n - 1) / 2));
    std::exit(1);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  std::int64_t p = 1;
  while (p < f.n) p *= 10;
  if (f.n < 10 || p != f.n) {
    std::fprintf(stderr, "skynet: need -n a power of 10 >= 10\n");
    return 2;
  }
  return weft::run(
      [&] {
        pass(f.n / 10);  // warm-up
        bench::report("skynet", pass(f.n), "ms");
      },
      weft::Config{.procs = f.procs});
}
