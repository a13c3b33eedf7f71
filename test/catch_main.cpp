// catch_main: Catch2's main, compiled once for every suite, plus a watchdog.
//
// The watchdog turns a hung test case into a diagnosis instead of a bare suite timeout: when one
// test case has run for WEFT_TEST_WATCHDOG seconds (default 300; meson kills a suite at 600),
// it prints the test case's name and the stacks of every thread (gdb, when installed), then
// aborts. The test still fails; the log says where it stood.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

std::mutex g_mu;               // guards g_name
std::string g_name;            // the running test case, or empty
std::atomic<long> g_start{0};  // its start (seconds on Clock), 0 between test cases

// now_s: seconds on Clock, plus one so that a start time is never 0 (g_start's "none").
long now_s() {
  return long(std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch())
                  .count()) +
         1;
}

// dump_stacks runs gdb on this process (a child attaching to its parent: allowed by the
// PR_SET_PTRACER below where Yama restricts ptrace).
void dump_stacks() {
  char pid[32];
  std::snprintf(pid, sizeof pid, "%d", int(getpid()));
  pid_t child = fork();
  if (child == 0) {
    dup2(2, 1);
    execlp("gdb", "gdb", "-p", pid, "-batch", "-nx", "-ex", "thread apply all bt 25",
           static_cast<char*>(nullptr));
    // The child of a multithreaded process may call only async-signal-safe functions: another
    // thread may have held stdio's lock at the fork.
    static const char msg[] = "weft test watchdog: gdb is not installed; no stacks\n";
    ssize_t unused = write(2, msg, sizeof msg - 1);
    (void)unused;
    _exit(127);
  }
  if (child > 0) {
    int status;
    waitpid(child, &status, 0);
  }
}

void watch(long limit) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    long start = g_start.load();
    if (start == 0 || now_s() - start < limit) continue;
    std::string name;
    {
      std::lock_guard<std::mutex> lk(g_mu);
      name = g_name;
    }
    std::fprintf(stderr,
                 "\nweft test watchdog: test case \"%s\" has run for %ld s (WEFT_TEST_WATCHDOG); "
                 "stacks of every thread follow, then abort\n",
                 name.c_str(), now_s() - start);
    std::fflush(stderr);
    dump_stacks();
    std::abort();
  }
}

struct Watchdog : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;

  void testRunStarting(const Catch::TestRunInfo&) override {
    long limit = 300;
    if (const char* e = std::getenv("WEFT_TEST_WATCHDOG")) limit = std::atol(e);
    if (limit <= 0) return;
#ifdef PR_SET_PTRACER
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
    std::thread(watch, limit).detach();
  }
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    {
      std::lock_guard<std::mutex> lk(g_mu);
      g_name = info.name;
    }
    g_start.store(now_s());
  }
  void testCaseEnded(const Catch::TestCaseStats&) override { g_start.store(0); }
};

}  // namespace

CATCH_REGISTER_LISTENER(Watchdog)
