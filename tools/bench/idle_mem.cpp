// idle_mem: resident memory per parked fiber — n fibers each park forever (on a slot on their
// own stack); RSS after minus RSS before, over n. Twin of tools/bench/go/idle_mem.
#include <unistd.h>

#include <iostream>
#include <thread>

#include "bench.hpp"

int main(int argc, char** argv) {
  bench::Flags f = bench::parse(argc, argv, 1000000);
  weft::Runtime rt(weft::Config{.procs = f.procs});
  long before = bench::rss_bytes();
  std::cerr << "before: " << bench::vmpte() << "\n";
  rt.block_on([&] {
    std::atomic<long> started{0};
    for (long i = 0; i < f.n; ++i) {
      weft::go([&started] {
        weft::detail::ParkSlot never;
        started.fetch_add(1, std::memory_order_relaxed);
        weft::detail::parkslot_wait(&never);
      });
    }
    while (started.load() < f.n) weft::yield();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // settle, as the Go twin does
  long after = bench::rss_bytes();
  std::cerr << "after:  " << bench::vmpte() << "\n";
  bench::report("idle_mem", double(after - before) / double(f.n), "bytes/fiber");
  std::_Exit(0);  // a million parked fibers need no unwinding to measure them
}
