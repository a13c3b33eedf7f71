// eh_test: a fiber that parks inside a catch block keeps its own exception — the C++ runtime's
// per-thread exception state travels with the fiber (EhState in runtime2.hpp).
#include <stdexcept>
#include <string>
#include <thread>

#include "../support.hpp"

using namespace weft;
using weft_test::each_procs;
using weft_test::Latch;

TEST_CASE("fibers parked inside catch blocks keep their own current_exception", "[unit][eh]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      constexpr int kFibers = 16;
      Latch l(kFibers);
      std::atomic<int> bad{0};
      for (int f = 0; f < kFibers; ++f) {
        go([&, f] {
          try {
            throw std::runtime_error("fiber " + std::to_string(f));
          } catch (const std::exception& e) {
            for (int i = 0; i < 50; ++i) {
              yield();  // others throw and catch meanwhile, maybe on this thread
              if (std::uncaught_exceptions() != 0) ++bad;
              try {
                std::rethrow_exception(std::current_exception());
              } catch (const std::exception& again) {
                if (std::string(again.what()) != "fiber " + std::to_string(f)) ++bad;
              }
            }
            if (std::string(e.what()) != "fiber " + std::to_string(f)) ++bad;
          }
          l.count_down();
        });
      }
      l.wait();
      CHECK(bad.load() == 0);
      CHECK_FALSE(std::current_exception());
    });
  });
}
