// crash_test: runs crash_programs in a child per mode and matches how it died and what it said
// (Go's runtime crash tests do the same with their testprog).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

namespace {

struct Outcome {
  int signal = 0;  // the signal that killed it, or 0
  int code = -1;   // its exit code when it exited
  std::string err;
};

Outcome run_child(const char* mode) {
  const char* prog = std::getenv("WEFT_CRASH_PROGRAM");
  REQUIRE(prog != nullptr);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    // No core files from deliberate crashes.
    struct rlimit none {};
    setrlimit(RLIMIT_CORE, &none);
    // The programs expect default signal dispositions: a shell starts background jobs with
    // SIGINT and SIGQUIT ignored, and exec keeps ignored signals ignored.
    signal(SIGQUIT, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execl(prog, prog, mode, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  Outcome o;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) o.err.append(buf, std::size_t(n));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) o.signal = WTERMSIG(st);
  if (WIFEXITED(st)) o.code = WEXITSTATUS(st);
  return o;
}

void expect_abort(const char* mode, const char* pattern) {
  Outcome o = run_child(mode);
  INFO("mode " << mode << ", stderr:\n" << o.err);
  CHECK(o.signal == SIGABRT);
  CHECK(std::regex_search(o.err, std::regex(pattern)));
}

}  // namespace

TEST_CASE("a guarded stack overflow is reported with the fiber and stack size", "[crash]") {
  expect_abort("overflow_guarded", "^weft: fiber [0-9]+: stack overflow \\(stack size 65536\\)\n");
}

TEST_CASE("an unguarded stack overflow is caught by its canary at switch-out", "[crash]") {
#if defined(__SANITIZE_ADDRESS__)
  // ASan sees the write into the neighbouring stack's redzones before any switch-out.
  Outcome o = run_child("overflow_canary");
  INFO(o.err);
  CHECK(std::regex_search(o.err, std::regex("AddressSanitizer: stack-buffer-overflow|weft: fiber "
                                            "[0-9]+: stack overflow")));
#else
  expect_abort("overflow_canary",
               "weft: fiber [0-9]+: stack overflow \\(stack size 65472; unguarded stack, caught "
               "by its canary\\)");
#endif
}

TEST_CASE("an exception escaping a fiber is fatal and names the fiber", "[crash]") {
  expect_abort("uncaught", "weft: fiber [0-9]+: uncaught exception: boom\n");
}

TEST_CASE("a SIGSEGV that is not a stack overflow keeps its default behaviour", "[crash]") {
  Outcome o = run_child("segv");
  INFO(o.err);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The default behaviour here is the sanitizer's: our handler passes the fault on to it.
  CHECK(o.signal + o.code != 0);
  CHECK(std::regex_search(o.err, std::regex("(Address|Thread)Sanitizer: SEGV")));
#else
  CHECK(o.signal == SIGSEGV);
#endif
  CHECK(o.err.find("stack overflow") == std::string::npos);
}

TEST_CASE("misuse outside or inside fibers is fatal with a message naming the operation",
          "[crash]") {
  expect_abort("double_wait", "weft: fiber [0-9]+: parkslot: another fiber is already waiting");
  expect_abort("go_outside", "^weft: go called outside a fiber");
  expect_abort("ready_running",
               "weft: fiber [0-9]+: casgstatus: fiber [0-9]+ is running, expected waiting");
  expect_abort("yield_outside", "^weft: yield called outside a fiber");
  expect_abort("shutdown_from_fiber",
               "weft: fiber [0-9]+: Runtime::shutdown called from one of its own fibers");
  expect_abort("block_on_from_fiber", "weft: fiber [0-9]+: block_on called from a fiber");
}

TEST_CASE("a deadlocked program is reported like Go's and exits with status 2", "[crash]") {
  for (const char* mode : {"deadlock_main", "deadlock_pair", "deadlock_after_sleep"}) {
    Outcome o = run_child(mode);
    INFO("mode " << mode << ", stderr:\n" << o.err);
    CHECK(o.code == 2);
    CHECK(
        std::regex_search(o.err, std::regex("^fatal error: all fibers are asleep - deadlock!\n")));
    CHECK(std::regex_search(
        o.err, std::regex("fiber [0-9]+ \\[park\\]:\n\tspawned at .*crash_programs.cpp:[0-9]+")));
  }
  Outcome o = run_child("deadlock_pair");
  // main plus the two fibers waiting on each other
  std::regex park("\\[park\\]");
  std::ptrdiff_t n =
      std::distance(std::sregex_iterator(o.err.begin(), o.err.end(), park), std::sregex_iterator());
  CHECK(n == 3);
}

TEST_CASE("no deadlock is reported while main blocks in a call or after main returned", "[crash]") {
  for (const char* mode : {"no_deadlock_blocking", "no_deadlock_after_main", "no_deadlock_sleeping",
                           "no_deadlock_io_wait"}) {
    Outcome o = run_child(mode);
    INFO("mode " << mode << ", stderr:\n" << o.err);
    CHECK(o.signal == 0);
    CHECK(o.code == 0);
    CHECK(o.err.find("deadlock") == std::string::npos);
  }
}

TEST_CASE("the thread limit and parking inside blocking() are fatal with a message", "[crash]") {
  expect_abort("thread_limit", "weft: .*thread limit: 3 threads exist");
  expect_abort("sleep_outside", "^weft: sleep called outside a fiber");
  expect_abort("netpoll_double_wait", "weft: fiber [0-9]+: netpollblock: double wait on fd");
  expect_abort("fdmutex_bad_unlock",
               "weft: fiber [0-9]+: fdMutex: inconsistent poll.fdMutex \\(unlock of an unlocked "
               "read lock\\)");
  expect_abort("fdmutex_overflow",
               "weft: fiber [0-9]+: fdMutex: too many concurrent operations on a single file or "
               "socket \\(max 1048575\\)");
  expect_abort("yield_in_blocking", "weft: fiber [0-9]+: yield called inside weft::blocking\\(\\)");
}

TEST_CASE("WEFT_DEBUG=schedtrace=MS prints Go's scheduler line every MS ms", "[crash]") {
  Outcome o = run_child("schedtrace");
  INFO(o.err);
  CHECK(o.code == 0);
  std::regex line(
      "SCHED [0-9]+ms: procs=2 idleprocs=[0-2] threads=[0-9]+ spinningthreads=[0-9]+ "
      "idlethreads=[0-9]+ runqueue=[0-9]+ \\[[0-9]+ [0-9]+\\]\n");
  std::ptrdiff_t n =
      std::distance(std::sregex_iterator(o.err.begin(), o.err.end(), line), std::sregex_iterator());
  // 300 ms at one line per 20 ms is 15 lines; a loaded 2-core machine has starved the child for
  // 100 ms at a time, so ask for a few, spaced by at least the period.
  CHECK(n >= 3);
  std::regex stamp("SCHED ([0-9]+)ms");
  long prev = -1;
  for (auto it = std::sregex_iterator(o.err.begin(), o.err.end(), stamp);
       it != std::sregex_iterator(); ++it) {
    long ms = std::stol((*it)[1].str());
    if (prev >= 0) CHECK(ms - prev >= 19);  // never more often than every 20 ms (1 ms rounding)
    prev = ms;
  }
}

TEST_CASE("sync and channel misuse is fatal with Go's messages, naming the fiber", "[crash]") {
  expect_abort("mutex_unlock_unlocked", "^weft: fiber [0-9]+: sync: unlock of unlocked mutex\n");
  expect_abort("rwmutex_runlock_unlocked",
               "^weft: fiber [0-9]+: sync: RUnlock of unlocked RWMutex\n");
  expect_abort("rwmutex_unlock_unlocked",
               "^weft: fiber [0-9]+: sync: Unlock of unlocked RWMutex\n");
  expect_abort("waitgroup_negative", "^weft: fiber [0-9]+: sync: negative WaitGroup counter\n");
  expect_abort("chan_recv_outside", "^weft: chan receive: cannot park outside a fiber\n");
  expect_abort("select_outside", "^weft: select: cannot park outside a fiber\n");
}

TEST_CASE("fibers blocked on channels, select and mutexes are a reported deadlock", "[crash]") {
  Outcome o = run_child("deadlock_chan");
  INFO("stderr:\n" << o.err);
  CHECK(o.code == 2);
  CHECK(std::regex_search(o.err, std::regex("^fatal error: all fibers are asleep - deadlock!\n")));
  CHECK(std::regex_search(o.err, std::regex("fiber [0-9]+ \\[chan receive\\]:")));
  Outcome p = run_child("deadlock_select_nil");
  INFO("stderr:\n" << p.err);
  CHECK(p.code == 2);
  CHECK(std::regex_search(p.err, std::regex("fiber [0-9]+ \\[select \\(no cases\\)\\]:")));
  CHECK(std::regex_search(p.err, std::regex("fiber [0-9]+ \\[sync.Mutex.Lock\\]:")));
}

TEST_CASE("SIGQUIT, when enabled, prints every fiber and exits with status 2 (Go's behaviour)",
          "[crash]") {
  for (const char* mode : {"sigquit", "sigquit_env"}) {
    Outcome o = run_child(mode);
    INFO("mode " << mode << ", stderr:\n" << o.err);
    CHECK(o.signal == 0);
    CHECK(o.code == 2);
    CHECK(std::regex_search(o.err, std::regex("^SIGQUIT: quit\n\n")));
    // main (still running, or back in its sleep by the time sysmon looked), and the three
    // parked fibers with their reasons, the locked one naming its thread, each with its site.
    CHECK(std::regex_search(o.err, std::regex("fiber 1 \\[(running|sleep)\\]:\n\tspawned at "
                                              ".*crash_programs.cpp:[0-9]+\n")));
    CHECK(std::regex_search(o.err, std::regex("fiber [0-9]+ \\[park\\]:\n\tspawned at "
                                              ".*crash_programs.cpp:[0-9]+\n")));
    CHECK(std::regex_search(o.err, std::regex("fiber [0-9]+ \\[sleep\\]:\n\tspawned at "
                                              ".*crash_programs.cpp:[0-9]+\n")));
    CHECK(std::regex_search(o.err, std::regex("fiber [0-9]+ \\[park, locked to thread M[0-9]+\\]:"
                                              "\n\tspawned at .*crash_programs.cpp:[0-9]+\n")));
    CHECK(o.err.find("no dump") == std::string::npos);
  }
  Outcome o = run_child("sigquit_off");  // not enabled: the default action, death by SIGQUIT
  INFO(o.err);
  CHECK(o.signal == SIGQUIT);
  CHECK(o.err.find("SIGQUIT: quit") == std::string::npos);
}
