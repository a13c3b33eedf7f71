// support: helpers shared by the suites — running a body at procs = 1, 2 and 4, and a latch.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <weft/weft.hpp>

#include "parkslot.hpp"
#include "proc.hpp"
#include "runtime2.hpp"

namespace weft_test {

// each_procs runs body(procs) for procs = 1, 2, 4, each in its own Catch2 section.
template <class F>
void each_procs(F&& body) {
  for (unsigned procs : {1u, 2u, 4u}) {
    DYNAMIC_SECTION("procs=" << procs) { body(procs); }
  }
}

// Latch: count down from n; wait() parks the one waiting fiber until it reaches zero. wait()
// returns only after consuming the final count_down's signal, so the Latch may be destroyed
// as soon as wait() returns (the last count_down is done touching it by then).
class Latch {
 public:
  explicit Latch(std::int64_t n) : n_(n), armed_(n > 0) {}
  void count_down() {
    if (n_.fetch_sub(1) == 1) weft::detail::parkslot_signal(&slot_);
  }
  void wait() {
    if (armed_) weft::detail::parkslot_wait(&slot_);
  }

 private:
  std::atomic<std::int64_t> n_;
  bool armed_;
  weft::detail::ParkSlot slot_;
};

// settles waits (from a non-fiber thread) until no fiber of rt is live: after block_on returns,
// fibers that signalled it may still be on their way out. False after 60 s, a sanity bound:
// a million fibers leaving take 0.2-3 s alone on a 2-vCPU guest, and several times that beside
// another suite's million.
inline bool settles(weft::Runtime& rt) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (rt.live_fibers() != 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif

// stress_scale divides stress-test fiber and iteration counts: under WEFT_DEBUG=migrate=1 every
// switch is a hand-off between threads (futex wake and sleep); under the sanitizers everything
// is 5-20x slower and TSan counts each live fiber against its limit of 8,128 threads.
inline long stress_scale() {
  const char* d = std::getenv("WEFT_DEBUG");
  long s = d && std::strstr(d, "migrate=1") ? 20 : 1;
  return kSanitized ? s * 200 : s;
}

// rounds scales an iteration count down by stress_scale(), keeping at least one.
inline int rounds(int n) { return std::max(1, int(n / stress_scale())); }

// tid is the calling thread's kernel id, read afresh on every call. Not std::this_thread::get_id
// or pthread_self: glibc declares pthread_self `const`, so the compiler may reuse its value across
// a call that parks — and a fiber may resume on another thread (DESIGN.md, "Fibers move between
// threads").
inline long tid() { return syscall(SYS_gettid); }

using weft::detail::sched_of;

// preemptions: the time slices sysmon has ended in rt so far (Sched::npreempt).
inline std::uint64_t preemptions(weft::Runtime& rt) { return sched_of(rt)->npreempt.load(); }

// until_unpreempted runs attempt() — which builds its own runtime, runs a scenario whose order
// of events at procs = 1 is fixed only while no time slice ends, and returns
// preemptions(rt) — until one attempt ran without sysmon preempting it. A loaded machine, a
// sanitizer or WEFT_DEBUG=migrate=1 (every switch a futex hand-off between threads, each one a
// chance for the OS to leave the next thread waiting past the 10 ms slice) can stretch a
// scenario past the slice; after 10 preempted attempts the rest run with time slices off
// (detail::time_slices_off), as a machine fast enough would run them. The test then checks
// what the last attempt recorded.
template <class F>
void until_unpreempted(F attempt) {
  struct Restore {
    ~Restore() { weft::detail::time_slices_off.store(false); }
  } restore;
  for (int i = 0; i < 20; ++i) {
    if (i == 10) weft::detail::time_slices_off.store(true);
    if (attempt() == 0) return;
  }
  FAIL("sysmon preempted every attempt, even with time slices off");
}

// count_waiting counts rt's fibers parked with wait reason `reason` (as the fiber dump names it:
// "chan receive", "select", "sync.Mutex.Lock"...). Any thread.
inline int count_waiting(weft::Runtime& rt, const char* reason) {
  std::ostringstream os;
  rt.dump_fibers(os);
  std::string dump = os.str(), needle = std::string("[") + reason;
  int n = 0;
  for (std::size_t at = dump.find(needle); at != std::string::npos;
       at = dump.find(needle, at + 1)) {
    char next = dump[at + needle.size()];
    if (next == ']' || next == ',') ++n;
  }
  return n;
}

// wait_until_waiting waits (yielding; from a fiber or a thread) until n fibers of rt wait for
// `reason`. False after 10 s.
inline bool wait_until_waiting(weft::Runtime& rt, const char* reason, int n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (count_waiting(rt, reason) < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (weft::in_fiber()) {
      weft::yield();
    } else {
      std::this_thread::yield();
    }
  }
  return true;
}

// rss_bytes is the process's resident set size.
inline long rss_bytes() {
  long pages = 0, rss = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4096;
}

}  // namespace weft_test
