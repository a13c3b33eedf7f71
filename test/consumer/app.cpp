// A program that uses an installed weft through pkg-config, as a user would.
#include <atomic>
#include <cstdio>

#include <weft/weft.hpp>

int main() {
  return weft::run([] {
    std::atomic<int> n{0};
    for (int i = 0; i < 100; ++i) weft::go([&] { n.fetch_add(1); });
    while (n.load() < 100) weft::yield();
    std::printf("consumer: %d fibers ran\n", n.load());
    return n.load() == 100 ? 0 : 1;
  });
}
