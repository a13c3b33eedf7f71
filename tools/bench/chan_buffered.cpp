// chan_buffered: throughput of one buffered channel (capacity 128) between 4 producers and 4
// consumers, n integers in all; ns per item (as the Go twin, tools/bench/go/chan_buffered).
#include <cstdio>
#include <cstdlib>

#include "bench.hpp"

namespace {

constexpr int kProducers = 4, kConsumers = 4;
constexpr std::size_t kCapacity = 128;

double pass(long n) {
  weft::Chan<long> ch(kCapacity);
  weft::WaitGroup produced, consumed;
  produced.add(kProducers);
  consumed.add(kConsumers);
  std::atomic<long> total{0};
  long per = n / kProducers;
  auto t0 = std::chrono::steady_clock::now();
  for (int p = 0; p < kProducers; ++p) {
    weft::go([&] {
      for (long i = 0; i < per; ++i) ch.send(i);
      produced.done();
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    weft::go([&] {
      long sum = 0;
      while (auto v = ch.recv()) sum += *v;
      total += sum;
      consumed.done();
    });
  }
  produced.wait();
  ch.close();
  consumed.wait();
  double ns = bench::since_ns(t0);
  if (long want = kProducers * (per * (per - 1) / 2); total.load() != want) {
    std::fprintf(stderr, "chan_buffered: sum %ld, want %ld\n", total.load(), want);
    std::exit(1);
  }
  return ns / double(per * kProducers);
}

}  // namespace

int main(int argc, char** argv) {
  return bench::main_pass(argc, argv, 1000000, "chan_buffered", "ns/item", pass);
}
