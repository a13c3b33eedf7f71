// fiber: what the Boost.Fiber twins share — their stacks, spawning, a WaitGroup, and running a
// program's main on `procs` threads the way Boost.Fiber offers (Go's GOMAXPROCS).
//
// The twins do the work of the Go programs in tools/bench/go the same way, with Boost.Fiber's
// own means: boost::fibers::fiber for goroutines, unbuffered_channel / buffered_channel for
// channels, fibers::mutex, this_fiber::yield / sleep_for. Where Boost.Fiber has no equivalent
// the twin says what stands in (timers: a sleeping fiber per timer) or there is none (select2:
// Boost.Fiber has no select over several channels).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/fiber/all.hpp>

#include "../common.hpp"

namespace bf {

// stack: every twin's fiber stack. Boost.Fiber's default allocator mallocs 128 KiB per fiber,
// which glibc serves with one mmap each: a million live fibers (spawn, skynet, timers) would
// exceed vm.max_map_count (65,530). 16 KiB from the heap holds these programs' deepest frames
// with a wide margin; it plays the part of Go's 2 KiB growing stacks and weft's 128 KiB lazily
// committed ones (like them, only the pages touched become resident).
inline boost::fibers::fixedsize_stack stack() { return boost::fibers::fixedsize_stack(16 * 1024); }

// go: Go's `go f()` — a detached fiber, queued behind the running one (launch::post).
template <class F>
void go(F&& f) {
  boost::fibers::fiber(std::allocator_arg, stack(), std::forward<F>(f)).detach();
}

// WaitGroup: Go's sync.WaitGroup as these programs use it (a count fixed up front, one waiter).
// done() is one atomic add except for the last, which wakes the waiter under the mutex; the
// waiter returns only after taking that mutex back, so the WaitGroup may die as soon as
// wait() returns.
class WaitGroup {
 public:
  explicit WaitGroup(std::int64_t n) : n_(n), zero_(n <= 0) {}
  void done() {
    if (n_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    std::lock_guard<boost::fibers::mutex> lk(m_);
    zero_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<boost::fibers::mutex> lk(m_);
    cv_.wait(lk, [this] { return zero_; });
  }

 private:
  std::atomic<std::int64_t> n_;
  boost::fibers::mutex m_;
  boost::fibers::condition_variable cv_;
  bool zero_;  // guarded by m_
};

// run calls main on this thread's main fiber. With procs = 1 the thread keeps Boost.Fiber's
// default round_robin scheduler. With procs > 1, this thread and procs - 1 helper threads run
// the work_stealing scheduler (Boost.Fiber's counterpart of Go's per-P queues and stealing),
// idle threads sleeping rather than spinning (suspend = true), as Go's and weft's idle Ms do;
// the helpers leave when main returns.
template <class F>
void run(unsigned procs, F&& main) {
  if (procs <= 1) {
    main();
    return;
  }
  using work_stealing = boost::fibers::algo::work_stealing;
  boost::fibers::mutex m;
  boost::fibers::condition_variable cv;
  bool done = false;  // guarded by m
  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < procs; ++i) {
    helpers.emplace_back([&] {
      boost::fibers::use_scheduling_algorithm<work_stealing>(procs, true);
      std::unique_lock<boost::fibers::mutex> lk(m);
      cv.wait(lk, [&] { return done; });
    });
  }
  boost::fibers::use_scheduling_algorithm<work_stealing>(procs, true);
  main();
  {
    std::lock_guard<boost::fibers::mutex> lk(m);
    done = true;
  }
  cv.notify_all();
  for (auto& t : helpers) t.join();
}

}  // namespace bf
