// chan_pingpong: round-trip latency of two fibers ping-ponging an integer over two unbuffered
// channels. Boost.Fiber twin of tools/bench/go/chan_pingpong.
#include <cstdio>

#include "fiber.hpp"

namespace {

using Chan = boost::fibers::unbuffered_channel<long>;
using boost::fibers::channel_op_status;

double pass(long n) {
  Chan ping, pong;
  bf::WaitGroup wg(2);
  auto t0 = std::chrono::steady_clock::now();
  bf::go([&] {  // pinger
    for (long i = 0; i < n; ++i) {
      ping.push(i);
      long v = -1;
      pong.pop(v);
      if (v != i + 1) {
        std::fprintf(stderr, "chan_pingpong: got %ld, want %ld\n", v, i + 1);
        std::exit(1);
      }
    }
    ping.close();
    wg.done();
  });
  bf::go([&] {  // ponger
    long v = 0;
    while (ping.pop(v) == channel_op_status::success) pong.push(v + 1);
    wg.done();
  });
  wg.wait();
  return bench::since_ns(t0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  bf::run(f.procs, [&] {
    pass(f.n / 10);  // warm-up
    bench::report("chan_pingpong", pass(f.n) / double(f.n), "ns/roundtrip");
  });
}
