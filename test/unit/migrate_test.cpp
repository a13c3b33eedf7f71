// migrate_test: WEFT_DEBUG=migrate=1 makes every switch-out resume on a different thread, so
// code that caches thread-local state across a park is caught in tests (DESIGN.md "Fibers
// move between threads").
#include <cstdlib>
#include <thread>

#include "../support.hpp"

using namespace weft;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("with migrate=1 a fiber resumes on another thread after every yield", "[unit][migrate]") {
  const char* old = std::getenv("WEFT_DEBUG");
  std::string saved = old ? old : "";
  setenv("WEFT_DEBUG", "migrate=1", 1);
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    int moved = 0, stayed = 0;
    rt.block_on([&] {
      Latch l(1);
      go([&] {
        for (int i = 0; i < 200; ++i) {
          auto before = weft_test::tid();
          yield();
          (weft_test::tid() != before ? moved : stayed)++;
        }
        l.count_down();
      });
      l.wait();
    });
    CHECK(moved == 200);
    CHECK(stayed == 0);
  });
  if (old)
    setenv("WEFT_DEBUG", saved.c_str(), 1);
  else
    unsetenv("WEFT_DEBUG");
}
