// time: the state behind weft::Timer, weft::Ticker, weft::after and context deadlines — runtime
// timers (timer.hpp) that send on a channel or call a function. Follows Go's time/sleep.go.
//
// A TimerState is type-stable: it comes from its runtime's TimerPool and is never freed while
// the runtime lives, only recycled, because a timer function may still run for it after its
// owner let it go (timer.hpp T4). Each use has a generation:
//  TS1. gen is bumped (under mu) when the state is recycled; the runtime timer carries the gen
//       it was armed with as its seq, and the fire function does nothing unless they match.
//  TS2. The fire function reads what it acts on (channel, callback owner) under mu and takes its
//       own reference before unlocking, so recycling during the action frees nothing in use.
//  TS3. A detached state (weft::after) is recycled by its own fire function after it fired
//       once; nobody else holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "lock_futex.hpp"
#include "timer.hpp"

namespace weft::detail {

struct Hchan;
struct Sched;

struct TimerState {
  Timer t;                      // fn = timerstate_fire, arg = this, seq = gen
  Sched* s = nullptr;           // the runtime whose heaps take it
  Lock mu;                      // guards what follows
  std::uint64_t gen = 0;        // TS1
  Hchan* c = nullptr;           // a time_point channel to send on (one reference held)
  std::shared_ptr<void> owner;  // or: fire(owner.get()) is called (TS2)
  void (*fire)(void* owner) = nullptr;
  bool detached = false;            // TS3
  TimerState* next_free = nullptr;  // the pool's free list; guarded by TimerPool::lock
};

struct TimerPool {
  Lock lock;
  std::vector<std::unique_ptr<TimerState[]>> blocks;  // guarded by lock; never shrinks
  TimerState* free = nullptr;                         // guarded by lock
};

// timerpool_destroy frees the pool and what its states still hold; the runtime's Ms are gone.
void timerpool_destroy(TimerPool* pool);

// timer_start_fn arms a one-shot timer calling fire(owner.get()) at `when` on a scheduler
// thread (g0: fire must not park). Stop and release it with timer_stop / timer_free.
TimerState* timer_start_fn(Sched* s, std::shared_ptr<void> owner, void (*fire)(void*),
                           std::int64_t when);

}  // namespace weft::detail
