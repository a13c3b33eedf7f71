// idle_mem: resident memory per parked fiber: RSS growth after n fibers block on one channel,
// divided by n. Boost.Fiber twin of tools/bench/go/idle_mem. The stacks are bf::stack()'s
// 16 KiB (fiber.hpp), so this measures what that choice keeps resident.
#include <iostream>

#include "fiber.hpp"

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  // No warm-up: it would pre-grow the heap, as the Go twin says of its own.
  bf::run(f.procs, [&] {
    long before = bench::rss_bytes();
    boost::fibers::unbuffered_channel<int> ch;  // never sent on, never closed
    std::atomic<long> started{0};
    for (long i = 0; i < f.n; ++i) {
      bf::go([&ch, &started] {
        started.fetch_add(1, std::memory_order_relaxed);
        int v;
        ch.pop(v);
      });
    }
    while (started.load() < f.n) boost::this_fiber::yield();
    boost::this_fiber::sleep_for(std::chrono::milliseconds(100));  // settle, as the Go twin does
    long after = bench::rss_bytes();
    std::cerr << "idle_mem: " << bench::vmpte() << "\n";
    bench::report("idle_mem", double(after - before) / double(f.n), "bytes/fiber");
    std::_Exit(0);  // the parked fibers are never woken: nothing to tear down
  });
}
