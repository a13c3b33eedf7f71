// skynet: a 10-ary tree of fibers over n leaves (default 1M) sums its leaf numbers over
// unbuffered channels. Boost.Fiber twin of tools/bench/go/skynet.
//
// Each node's channel is shared with its children (std::shared_ptr) instead of living in the
// node's frame: a child may still be leaving push() on another thread when its parent has
// taken the value, so the channel must outlive the last child, as Go's garbage collector
// makes it.
#include <cstdio>

#include "fiber.hpp"

namespace {

using Chan = boost::fibers::unbuffered_channel<std::int64_t>;

void skynet(const std::shared_ptr<Chan>& c, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    c->push(num);
    return;
  }
  auto rc = std::make_shared<Chan>();
  for (std::int64_t i = 0; i < div; ++i) {
    bf::go([rc, num, i, size, div] { skynet(rc, num + i * (size / div), size / div, div); });
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) {
    std::int64_t v = 0;
    if (rc->pop(v) != boost::fibers::channel_op_status::success) {
      std::fprintf(stderr, "skynet: channel closed\n");
      std::exit(1);
    }
    sum += v;
  }
  c->push(sum);
}

double pass(std::int64_t n) {
  auto t0 = std::chrono::steady_clock::now();
  auto c = std::make_shared<Chan>();
  bf::go([c, n] { skynet(c, 0, n, 10); });
  std::int64_t sum = 0;
  c->pop(sum);
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
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("skynet", pass(f.n), "ms");
  });
}
