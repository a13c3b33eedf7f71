// chan_pingpong: round-trip latency of two fibers ping-ponging an integer over two unbuffered
// channels (the Go twin, tools/bench/go/chan_pingpong, does the same with goroutines).
#include <cstdio>
#include <cstdlib>

#include "bench.hpp"

namespace {

double pass(long n) {
  weft::Chan<long> ping(0), pong(0);
  weft::WaitGroup wg;
  wg.add(2);
  auto t0 = std::chrono::steady_clock::now();
  weft::go([&] {  // pinger
    for (long i = 0; i < n; ++i) {
      ping.send(i);
      if (auto v = pong.recv(); !v || *v != i + 1) {
        std::fprintf(stderr, "chan_pingpong: bad reply at %ld\n", i);
        std::exit(1);
      }
    }
    ping.close();
    wg.done();
  });
  weft::go([&] {  // ponger
    while (auto v = ping.recv()) pong.send(*v + 1);
    wg.done();
  });
  wg.wait();
  return bench::since_ns(t0) / double(n);
}

}  // namespace

int main(int argc, char** argv) {
  return bench::main_pass(argc, argv, 1000000, "chan_pingpong", "ns/roundtrip", pass);
}
