// timer: per-P 4-ary min-heaps of timers. Follows Go 1.14+'s src/runtime/time.go; the
// invariants T1-T4 are in timer.hpp.
#include "timer.hpp"

#include <limits>
#include <mutex>

#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t kArity = 4;

// The heap helpers run with pp->timers_lock held.
void place(P* pp, std::size_t i, Timer* t) {
  pp->timers[i] = t;
  t->idx = i;
}

void sift_up(P* pp, std::size_t i) {
  Timer* t = pp->timers[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / kArity;
    if (pp->timers[parent]->when <= t->when) break;
    place(pp, i, pp->timers[parent]);
    i = parent;
  }
  place(pp, i, t);
}

void sift_down(P* pp, std::size_t i) {
  std::vector<Timer*>& h = pp->timers;
  Timer* t = h[i];
  for (;;) {
    std::size_t c = i * kArity + 1;
    if (c >= h.size()) break;
    std::size_t best = c;
    for (std::size_t k = c + 1; k < c + kArity && k < h.size(); ++k) {
      if (h[k]->when < h[best]->when) best = k;
    }
    if (h[best]->when >= t->when) break;
    place(pp, i, h[best]);
    i = best;
  }
  place(pp, i, t);
}

void publish_min(P* pp) {
  pp->timer0_when.store(pp->timers.empty() ? 0 : pp->timers[0]->when, std::memory_order_release);
}

void heap_push(P* pp, Timer* t) {
  pp->timers.push_back(t);
  sift_up(pp, pp->timers.size() - 1);
  t->pp.store(pp, std::memory_order_release);
  publish_min(pp);
}

void heap_remove(P* pp, Timer* t) {
  std::vector<Timer*>& h = pp->timers;
  std::size_t i = t->idx;
  if (i >= h.size() || h[i] != t) fatal("timer: heap index corrupt");
  Timer* last = h.back();
  h.pop_back();
  if (last != t) {
    place(pp, i, last);
    sift_down(pp, i);
    sift_up(pp, last->idx);
  }
  t->pp.store(nullptr, std::memory_order_release);
  publish_min(pp);
}

// heap_for picks the P whose heap takes a new timer: the caller's, else the first.
P* heap_for(Sched* s) {
  M* m = tls_m;
  if (m && m->sched == s && m->p) return m->p;
  return s->allp[0];
}

// add_locked: t->mu held, t not pending.
void add_locked(Sched* s, Timer* t, std::int64_t when, std::uintptr_t seq) {
  if (when <= 0) when = 1;  // 0 means "none" in timer0_when
  P* pp = heap_for(s);
  {
    std::lock_guard<Lock> lk(pp->timers_lock);
    t->when = when;
    t->seq = seq;
    heap_push(pp, t);
  }
  wake_timer_sleeper(s, when);
}

bool del_locked(Timer* t) {  // t->mu held
  for (;;) {
    P* pp = t->pp.load(std::memory_order_acquire);
    if (!pp) return false;
    std::lock_guard<Lock> lk(pp->timers_lock);
    if (t->pp.load(std::memory_order_relaxed) != pp) continue;  // ran or moved meanwhile
    heap_remove(pp, t);
    return true;
  }
}

}  // namespace

void timer_add(Sched* s, Timer* t, std::int64_t when, std::uintptr_t seq) {
  std::lock_guard<Lock> lk(t->mu);
  if (t->pp.load()) fatal("timer_add: timer already pending");
  add_locked(s, t, when, seq);
}

bool timer_del(Timer* t) {
  std::lock_guard<Lock> lk(t->mu);
  return del_locked(t);
}

bool timer_mod(Sched* s, Timer* t, std::int64_t when, std::uintptr_t seq, std::int64_t period) {
  std::lock_guard<Lock> lk(t->mu);
  bool was = del_locked(t);
  if (period >= 0) t->period = period;
  add_locked(s, t, when, seq);
  return was;
}

std::int64_t checktimers(P* pp, std::int64_t now) {
  std::int64_t next = pp->timer0_when.load(std::memory_order_acquire);
  if (next == 0 || next > now) return next;
  std::unique_lock<Lock> lk(pp->timers_lock);
  while (!pp->timers.empty() && pp->timers[0]->when <= now) {
    Timer* t = pp->timers[0];
    // Read what the run needs before heap_remove publishes pp = null: a concurrent timer_del
    // that sees null (acquire) lets its owner re-arm and rewrite t at once, so these reads must
    // happen before that release store.
    auto fn = t->fn;
    void* arg = t->arg;
    std::uintptr_t seq = t->seq;
    if (t->period > 0) {
      // Re-arm in place before running, as Go does (skipping missed periods): it never leaves
      // the heap, so a concurrent timer_del always finds it pending and removes it.
      std::int64_t w = t->when + t->period;
      if (w <= now) w = now + t->period;
      t->when = w;
      sift_down(pp, 0);
      publish_min(pp);
    } else {
      heap_remove(pp, t);
    }
    lk.unlock();  // T2/T4: fn runs without the heap lock
    fn(arg, seq);
    lk.lock();
  }
  return pp->timers.empty() ? 0 : pp->timers[0]->when;
}

std::int64_t timer_next(Sched* s) {
  std::int64_t next = 0;
  for (P* pp : s->allp) {
    std::int64_t w = pp->timer0_when.load(std::memory_order_acquire);
    if (w != 0 && (next == 0 || w < next)) next = w;
  }
  return next;
}

}  // namespace weft::detail
