#include <atomic>
#include <cstdio>
#include <weft/weft.hpp>

int main() {
  return weft::run([] {  // Go's main(): the runtime is up while it runs
    std::atomic<int> done{0};
    for (int i = 0; i < 100000; ++i) {
      weft::go([&done] {  // Go's `go f()`: a fiber on any core
        weft::yield();    // runtime.Gosched()
        done.fetch_add(1);
      });
    }
    while (done.load() < 100000) weft::yield();
    std::printf("%d fibers ran\n", done.load());
  });
}
