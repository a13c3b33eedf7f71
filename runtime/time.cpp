// time: weft::Timer, weft::Ticker, weft::after and context deadlines on runtime timers
// (invariants TS1-TS3 in time.hpp). Follows Go's time/sleep.go and time/tick.go.
#include "time.hpp"

#include <weft/time.hpp>

#include <chrono>
#include <mutex>

#include "chan.hpp"
#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t kTimerBlock = 64;

TimerState* ts_alloc(Sched* s) {
  TimerPool* pool = s->timerpool;
  std::lock_guard<Lock> lk(pool->lock);
  if (!pool->free) {
    auto block = std::make_unique<TimerState[]>(kTimerBlock);
    for (std::size_t i = 0; i < kTimerBlock; ++i) {
      block[i].next_free = pool->free;
      pool->free = &block[i];
    }
    pool->blocks.push_back(std::move(block));
  }
  TimerState* t = pool->free;
  pool->free = t->next_free;
  t->next_free = nullptr;
  t->s = s;
  return t;
}

// ts_recycle: TS1. The caller has taken the runtime timer out of the heaps, or it fired.
void ts_recycle(TimerState* t) {
  Hchan* c;
  std::shared_ptr<void> owner;
  {
    std::lock_guard<Lock> lk(t->mu);
    ++t->gen;
    c = t->c;
    t->c = nullptr;
    owner = std::move(t->owner);
    t->fire = nullptr;
    t->detached = false;
  }
  if (c) chan_release(c);
  owner.reset();
  TimerPool* pool = t->s->timerpool;
  std::lock_guard<Lock> lk(pool->lock);
  t->next_free = pool->free;
  pool->free = t;
}

void timerstate_fire(void* arg, std::uintptr_t seq) {
  auto* t = static_cast<TimerState*>(arg);
  Hchan* c = nullptr;
  std::shared_ptr<void> owner;
  void (*fire)(void*) = nullptr;
  bool detached;
  {
    std::lock_guard<Lock> lk(t->mu);
    if (t->gen != seq) return;  // TS1: recycled since it was armed
    c = t->c;
    if (c) chan_retain(c);  // TS2
    owner = t->owner;
    fire = t->fire;
    detached = t->detached;
  }
  if (c) {
    // Go's sendTime: never block a timer on a full channel (a slow reader misses ticks).
    time_point now{std::chrono::nanoseconds(nanotime())};
    chansend(c, &now, false);
    chan_release(c);
  }
  if (fire) fire(owner.get());
  if (detached) ts_recycle(t);  // TS3
}

TimerState* arm(Sched* s, Hchan* c, std::int64_t when, std::int64_t period, bool detached) {
  TimerState* t = ts_alloc(s);
  std::uint64_t gen;
  {
    std::lock_guard<Lock> lk(t->mu);
    chan_retain(c);
    t->c = c;
    t->detached = detached;
    gen = t->gen;
  }
  t->t.fn = timerstate_fire;
  t->t.arg = t;
  t->t.period = period;
  timer_add(s, &t->t, when, std::uintptr_t(gen));
  return t;
}

}  // namespace

void timerpool_destroy(TimerPool* pool) {
  if (!pool) return;
  for (auto& block : pool->blocks) {
    for (std::size_t i = 0; i < kTimerBlock; ++i) {
      TimerState& t = block[i];
      if (t.c) chan_release(t.c);  // a weft::after timer that never fired
      t.c = nullptr;
      t.owner.reset();
    }
  }
  delete pool;
}

TimerState* timer_start(Hchan* c, std::int64_t when, std::int64_t period) {
  return arm(current_sched("weft::Timer"), c, when, period, false);
}

void timer_after(Hchan* c, std::int64_t when) {
  arm(current_sched("weft::after"), c, when, 0, true);
}

TimerState* timer_start_fn(Sched* s, std::shared_ptr<void> owner, void (*fire)(void*),
                           std::int64_t when) {
  TimerState* t = ts_alloc(s);
  std::uint64_t gen;
  {
    std::lock_guard<Lock> lk(t->mu);
    t->owner = std::move(owner);
    t->fire = fire;
    gen = t->gen;
  }
  t->t.fn = timerstate_fire;
  t->t.arg = t;
  t->t.period = 0;
  timer_add(s, &t->t, when, std::uintptr_t(gen));
  return t;
}

bool timer_stop(TimerState* t) { return timer_del(&t->t); }

bool timer_reset(TimerState* t, std::int64_t when, std::int64_t period) {
  std::uint64_t gen;
  {
    std::lock_guard<Lock> lk(t->mu);
    gen = t->gen;
  }
  return timer_mod(t->s, &t->t, when, std::uintptr_t(gen), period);
}

void timer_free(TimerState* t) noexcept {
  if (!t) return;
  timer_del(&t->t);
  ts_recycle(t);
}

}  // namespace weft::detail
