// ctx_switch: the context-switch backend alone (Boost.Context or asm/, per -Dcontext): two
// contexts on one thread hand control to each other with ctx_jump n times; ns per switch. No
// scheduler, no Go twin: it is the floor under tools/bench/switch (docs/performance.md).
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bench.hpp"
#include "context.hpp"

namespace {

using weft::detail::Ctx;
using weft::detail::Transfer;

struct Bounce {
  long n;
};

void bounce(Transfer t) {
  long n = static_cast<Bounce*>(t.data)->n;
  for (long i = 0; i < n; ++i) t = weft::detail::ctx_jump(t.ctx, nullptr);
  weft::detail::ctx_jump(t.ctx, nullptr);  // done: never resumed
  std::abort();
}

double pass(long n) {
  constexpr std::size_t kStack = 64 * 1024;
  std::unique_ptr<char[]> stack(new char[kStack]);
  Bounce b{n};
  Ctx c = weft::detail::ctx_make(stack.get() + kStack, kStack, bounce);
  auto t0 = std::chrono::steady_clock::now();
  Transfer t = weft::detail::ctx_jump(c, &b);
  for (long i = 0; i < n; ++i) t = weft::detail::ctx_jump(t.ctx, nullptr);
  return bench::since_ns(t0) / double(2 * n + 2);  // n + 1 jumps each way
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 20000000);
  if (f.procs != 1) {
    std::fprintf(stderr, "ctx_switch: one thread only (-procs 1)\n");
    return 2;
  }
  pass(f.n / 10);  // warm-up
  bench::report("ctx_switch", pass(f.n), "ns/switch");
  return 0;
}
