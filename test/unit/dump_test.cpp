// dump_test: weft::dump_fibers / Runtime::dump_fibers show every field Go's goroutine dump does:
// id, status or wait reason, minutes waited, the thread a fiber is locked to, its spawn site.
#include <regex>
#include <sstream>
#include <string>

#include "../support.hpp"
#include "proc.hpp"

using namespace weft;
using weft_test::sched_of;

TEST_CASE("the fiber dump shows id, state, wait reason, minutes, locked thread, spawn site",
          "[unit][dump]") {
  Runtime rt(Config{.procs = 2});
  weft::detail::ParkSlot a, b;
  unsigned line_a = 0, line_b = 0;
  std::string dump, dump_minutes;
  rt.block_on([&] {
    // clang-format off
    line_a = __LINE__; go([&] { weft::detail::parkslot_wait(&a); });
    line_b = __LINE__; go([&] { lock_os_thread(); weft::detail::parkslot_wait(&b); unlock_os_thread(); });
    // clang-format on
    for (int i = 0; i < 2000; ++i) {  // until both are parked
      std::ostringstream os;
      dump_fibers(os);
      dump = os.str();
      // Plain searches: std::regex recurses per character, too deep for a fiber's stack.
      if (dump.find("[park]") != dump.npos && dump.find("[park, locked") != dump.npos) break;
      sleep_for(std::chrono::milliseconds(1));
    }
    // Pretend fiber a has waited three and a half minutes: its wait began at park (wait_since).
    // On a machine up for less than that (nanotime counts from boot) the value goes negative,
    // which the dump must still read as a time, not as "never parked".
    std::lock_guard<std::mutex> lk(sched_of(rt)->allglock);
    for (weft::detail::G* gp : sched_of(rt)->allgs) {
      if (gp->status.load() == weft::detail::GStatus::waiting && !gp->lockedm) {
        gp->wait_since -= 210'000'000'000LL;
      }
    }
  });
  std::ostringstream os;
  rt.dump_fibers(os);  // from a foreign thread
  dump_minutes = os.str();
  weft::detail::parkslot_signal(&a);
  weft::detail::parkslot_signal(&b);
  INFO(dump << "----\n" << dump_minutes);
  std::string file = "unit/dump_test.cpp:";
  CHECK(std::regex_search(
      dump, std::regex("fiber [0-9]+ \\[running\\]:\n\tspawned at .*" + file + "[0-9]+\n")));
  CHECK(std::regex_search(dump, std::regex("fiber [0-9]+ \\[park\\]:\n\tspawned at .*" + file +
                                           std::to_string(line_a) + "\n")));
  CHECK(std::regex_search(dump, std::regex("fiber [0-9]+ \\[park, locked to thread M[0-9]+\\]:\n"
                                           "\tspawned at .*" +
                                           file + std::to_string(line_b) + "\n")));
  CHECK(std::regex_search(dump_minutes, std::regex("fiber [0-9]+ \\[park, 3 minutes\\]:\n\tspawned "
                                                   "at .*" +
                                                   file + std::to_string(line_a) + "\n")));
  CHECK(weft_test::settles(rt));
}
