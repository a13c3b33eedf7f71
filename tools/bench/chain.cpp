// chain: cost per hop of passing an integer down a chain of n fibers (default 10,000), 10
// passes, spawning the chain included (as the Go twin, tools/bench/go/chain, measures it).
// Until weft has channels each link is a one-slot mailbox: a value and a ParkSlot, the same
// park/ready per hop as an unbuffered channel.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "bench.hpp"

namespace {

constexpr int kPasses = 10;

struct Link {
  weft::detail::ParkSlot ready;
  long value = 0;  // written before ready is signalled, read after the wait returns
};

void send(Link& l, long v) {
  l.value = v;
  weft::detail::parkslot_signal(&l.ready);
}

long recv(Link& l) {
  weft::detail::parkslot_wait(&l.ready);
  return l.value;
}

double run(long n) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Link>> links;
  for (long i = 0; i <= n; ++i) links.push_back(std::make_unique<Link>());
  for (long i = 0; i < n; ++i) {
    Link* in = links[std::size_t(i)].get();
    Link* out = links[std::size_t(i + 1)].get();
    weft::go([in, out] {
      for (;;) {
        long v = recv(*in);
        send(*out, v < 0 ? v : v + 1);  // -1 closes the chain
        if (v < 0) return;
      }
    });
  }
  for (int p = 0; p < kPasses; ++p) {
    send(*links.front(), 0);
    long v = recv(*links.back());
    if (v != n) {
      std::fprintf(stderr, "chain: got %ld at the tail, want %ld\n", v, n);
      std::exit(1);
    }
  }
  double ns = bench::since_ns(t0);
  send(*links.front(), -1);  // close the chain (not timed)
  recv(*links.back());
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
