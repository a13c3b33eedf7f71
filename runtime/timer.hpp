// timer: per-P 4-ary min-heaps of timers, run by whichever M schedules on (or steals from) the
// P. Follows Go 1.14+'s src/runtime/time.go: no global timer lock.
//
// A Timer is pending while it sits in some P's heap; Timer::pp says which (null: not pending).
// Invariants:
//  T1. A pending timer is in exactly one heap, at Timer::idx, and Timer::pp is that heap's P.
//      pp and idx change only under that P's timers_lock.
//  T2. Add, delete and modify of one timer are serialized by Timer::mu (lock order: Timer::mu,
//      then P::timers_lock). Running a timer takes only the heap's lock: it reads fn, arg and
//      seq, then pops a one-shot timer (pp becomes null, so a concurrent delete reports "already
//      fired" and the owner may reuse the Timer at once) or re-arms a periodic one in place (it
//      stays pending, so a concurrent delete always stops it), and calls fn with the heap lock
//      released.
//  T3. P::timer0_when is the heap's earliest `when` (0: empty), stored under the lock and read
//      without it as a hint: by schedule() to skip the lock, by the idle M that sleeps until the
//      next timer, and by checkdead (pending timers are possible wakers: no deadlock).
//  T4. fn runs after the timer left the heap; deleting a timer does not wait for a running fn,
//      so its owner must keep it (and arg) alive — weft's own timers live in type-stable
//      objects (G, pollDesc).
#pragma once

#include <atomic>
#include <cstdint>

#include "lock_futex.hpp"

namespace weft::detail {

struct P;
struct Sched;

struct Timer {
  std::int64_t when = 0;    // nanotime() deadline; guarded by the heap lock while pending
  std::int64_t period = 0;  // > 0: re-armed period ns after each run
  void (*fn)(void* arg, std::uintptr_t seq) = nullptr;
  void* arg = nullptr;
  std::uintptr_t seq = 0;       // passed to fn (stale-deadline detection in netpoll)
  std::atomic<P*> pp{nullptr};  // T1: the heap holding it
  std::size_t idx = 0;          // T1: its index there
  Lock mu;                      // T2
};

// timer_add arms t (not pending) to fire at `when` (nanotime; saturating, never early); fn will
// receive `seq` (set under the heap lock, so a concurrent run never reads it torn).
void timer_add(Sched* s, Timer* t, std::int64_t when, std::uintptr_t seq = 0);
// timer_del disarms t; true if it was pending (it will not run), false if it had already run
// or been deleted (Go's deltimer / Timer.Stop).
bool timer_del(Timer* t);
// timer_mod re-arms t at `when`, pending or not; true if it was pending (Go's Timer.Reset).
// period >= 0 replaces t->period (changed while t is in no heap).
bool timer_mod(Sched* s, Timer* t, std::int64_t when, std::uintptr_t seq = 0,
               std::int64_t period = -1);

// checktimers runs pp's timers due by `now`; called by an M holding a P (pp is its own P or a
// victim's). Returns pp's next `when` after running (0: none).
std::int64_t checktimers(P* pp, std::int64_t now);
// timer_next is the earliest pending `when` over all Ps (0: none); racy hint (T3).
std::int64_t timer_next(Sched* s);

}  // namespace weft::detail
