// chan_buffered: throughput of one buffered channel (capacity 128) between 4 producers and 4
// consumers: n integers in all (default 1M); ns per item. Boost.Fiber twin of
// tools/bench/go/chan_buffered. Boost's buffered_channel wants a power-of-two capacity and
// keeps one slot free, so it holds 127 items where Go's holds 128.
#include <cstdio>

#include "fiber.hpp"

namespace {

constexpr int kProducers = 4, kConsumers = 4;
constexpr std::size_t kCapacity = 128;

using Chan = boost::fibers::buffered_channel<long>;
using boost::fibers::channel_op_status;

double pass(long n) {
  Chan ch(kCapacity);
  bf::WaitGroup produced(kProducers), consumed(kConsumers);
  std::atomic<long> total{0};
  long per = n / kProducers;
  auto t0 = std::chrono::steady_clock::now();
  for (int p = 0; p < kProducers; ++p) {
    bf::go([&, per] {
      for (long i = 0; i < per; ++i) ch.push(i);
      produced.done();
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    bf::go([&] {
      long sum = 0, v = 0;
      while (ch.pop(v) == channel_op_status::success) sum += v;
      total.fetch_add(sum);
      consumed.done();
    });
  }
  produced.wait();
  ch.close();
  consumed.wait();
  double ns = bench::since_ns(t0);
  long want = kProducers * (per * (per - 1) / 2);
  if (total.load() != want) {
    std::fprintf(stderr, "chan_buffered: sum %ld, want %ld\n", total.load(), want);
    std::exit(1);
  }
  return ns / double(kProducers * per);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  if (f.n < kProducers * 10) {
    std::fprintf(stderr, "chan_buffered: need -n >= %d\n", kProducers * 10);
    return 2;
  }
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("chan_buffered", pass(f.n), "ns/item");
  });
}
