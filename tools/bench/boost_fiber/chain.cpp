// chain: cost per hop of passing an integer down a chain of n fibers (default 10,000) linked by
// unbuffered channels, 10 passes, spawning the chain included. Boost.Fiber twin of
// tools/bench/go/chain.
#include <cstdio>

#include "fiber.hpp"

namespace {

constexpr int kPasses = 10;

using Chan = boost::fibers::unbuffered_channel<long>;
using boost::fibers::channel_op_status;

double run(long n) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Chan>> links;
  for (long i = 0; i <= n; ++i) links.push_back(std::make_unique<Chan>());
  bf::WaitGroup exited(n);  // the channels outlive every link (not timed)
  for (long i = 0; i < n; ++i) {
    Chan* in = links[std::size_t(i)].get();
    Chan* out = links[std::size_t(i + 1)].get();
    bf::go([in, out, &exited] {
      long v = 0;
      while (in->pop(v) == channel_op_status::success) out->push(v + 1);
      out->close();  // Go's close(out) after `for v := range in`
      exited.done();
    });
  }
  for (int p = 0; p < kPasses; ++p) {
    links.front()->push(0);
    long v = -1;
    links.back()->pop(v);
    if (v != n) {
      std::fprintf(stderr, "chain: got %ld at the tail, want %ld\n", v, n);
      std::exit(1);
    }
  }
  double ns = bench::since_ns(t0);
  links.front()->close();
  long v = 0;
  while (links.back()->pop(v) == channel_op_status::success) {
  }
  exited.wait();
  return ns / double(kPasses * n);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 10000);
  bf::run(f.procs, [&] {
    run(f.n / 10);  // warm-up
    bench::report("chain", run(f.n), "ns/hop");
  });
}
