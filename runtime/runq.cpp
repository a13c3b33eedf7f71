// runq: each P's lock-free ring plus runnext, and the global run queue.
// Follows Go's src/runtime/proc.go (runqput, runqputslow, runqget, runqgrab, runqsteal).
#include "runq.hpp"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "debug.hpp"

namespace weft::detail {

namespace {

constexpr auto acq = std::memory_order_acquire;
constexpr auto rel = std::memory_order_release;
constexpr auto rlx = std::memory_order_relaxed;

// runqputslow moves half of the full ring plus gp to the global queue. False if a thief took
// from the ring meanwhile (then there is room; retry runqput).
bool runqputslow(P* pp, G* gp, std::uint32_t h, std::uint32_t t) {
  constexpr std::uint32_t n = kRunqSize / 2;
  G* batch[n + 1];
  if (t - h != kRunqSize) fatal("runqputslow: queue is not full");
  for (std::uint32_t i = 0; i < n; ++i) batch[i] = pp->runq[(h + i) % kRunqSize].load(rlx);
  // R2: CAS-release commits the consume; on failure the slots were not ours.
  if (!pp->runqhead.compare_exchange_strong(h, h + n, rel, rlx)) return false;
  batch[n] = gp;
  Sched* s = pp->sched;
  std::lock_guard<Lock> lk(s->lock);
  for (G* b : batch) globrunqput(s, b);
  return true;
}

// runqgrab copies up to half of pp's ring into batch[batch_head..] (mod 256) and commits the
// consume. Returns how many.
std::uint32_t runqgrab(P* pp, std::atomic<G*>* batch, std::uint32_t batch_head,
                       bool steal_runnext) {
  for (;;) {
    std::uint32_t h = pp->runqhead.load(acq);  // synchronize with other consumers
    std::uint32_t t = pp->runqtail.load(acq);  // synchronize with the producer (R2)
    std::uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (!steal_runnext) return 0;
      G* next = pp->runnext.load(acq);
      if (!next) return 0;
      if (pp->status.load(rlx) == PStatus::running) {
        // pp's G may have just readied `next` and be about to block, so that pp runs it in a
        // moment; back off briefly instead of thrashing it between Ps. Go sleeps 3 µs
        // (usleep(3)); so do we (a spin of pause instructions would last from 1 to 100 µs
        // depending on the CPU's pause latency, and would keep the core from other threads).
        std::uint32_t gen = pp->nextgen.load(rlx);
        runq_backoff(pp);
        // R6: pp put a new runnext meanwhile: its Gs hand each other the P (a ping-pong pair,
        // ready-then-park), so pp is making progress and taking its runnext would split the
        // pair across Ps. Steal only a runnext that sat there for the whole back-off.
        if (pp->nextgen.load(rlx) != gen) return 0;
      }
      if (!pp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) continue;
      batch[batch_head % kRunqSize].store(next, rlx);
      return 1;
    }
    if (n > kRunqSize / 2) continue;  // h and t read inconsistently
    for (std::uint32_t i = 0; i < n; ++i) {
      batch[(batch_head + i) % kRunqSize].store(pp->runq[(h + i) % kRunqSize].load(rlx), rlx);
    }
    if (pp->runqhead.compare_exchange_strong(h, h + n, rel, rlx)) return n;
  }
}

void runq_sleep(P*) {
  timespec ts{0, 3000};
  nanosleep(&ts, nullptr);
}

// runq_prefetch: R8, after the owner took slot h of a ring whose tail it read as t. Distances
// 2 and 4 (G four takes ahead, its context two) measured the same as 1 and 2 (skynet, spawn,
// chain; 5 alternating rounds), and 1 and 2 also serve a ring of two or three Gs.
constexpr std::uint32_t kCtxAhead = 1, kGAhead = 2;
inline void runq_prefetch(P* pp, std::uint32_t h, std::uint32_t t) {
  std::uint32_t n = t - h;
  if (n > kCtxAhead) {
    G* g1 = pp->runq[(h + kCtxAhead) % kRunqSize].load(rlx);
    if (Ctx c = dump_load(g1->ctx)) {
      const char* sp = static_cast<const char*>(c);
      __builtin_prefetch(sp - 64, 1);
      __builtin_prefetch(sp, 1);
      __builtin_prefetch(sp + 63, 1);
    }
    // An unguarded stack's canary (below its lowest byte), checked when the G switches out.
    // G::stack is written only before the G is first published, so this read does not race.
    if (!g1->stack.guarded) __builtin_prefetch(g1->stack.lo - 8);
  }
  if (n > kGAhead) {
    const char* g2 = reinterpret_cast<const char*>(pp->runq[(h + kGAhead) % kRunqSize].load(rlx));
    __builtin_prefetch(g2, 1);
    __builtin_prefetch(g2 + 64, 1);
  }
}

}  // namespace

void (*runq_backoff)(P* victim) = runq_sleep;

void runqput(P* pp, G* gp, bool next) {
  if (next) {
    G* old = pp->runnext.load(rlx);
    pp->nextgen.store(pp->nextgen.load(rlx) + 1, rlx);  // R6 (only the owner writes it)
    if (!old) {                                         // R5: nobody else can make it non-null
      pp->runnext.store(gp, rel);  // pairs with runqgrab's acquire load (and its CAS)
      return;
    }
    old = pp->runnext.exchange(gp, std::memory_order_acq_rel);
    if (!old) return;  // a thief took the old one
    gp = old;          // kick the old runnext to the tail
  }
  for (;;) {
    std::uint32_t h = pp->runqhead.load(acq);  // synchronize with consumers
    std::uint32_t t = pp->runqtail.load(rlx);  // only we write it (R1)
    if (t - h < kRunqSize) {
      pp->runq[t % kRunqSize].store(gp, rlx);
      pp->runqtail.store(t + 1, rel);  // R2: publishes the slot
      return;
    }
    if (runqputslow(pp, gp, h, t)) return;
  }
}

G* runqget(P* pp, bool* inherit) {
  G* next = pp->runnext.load(rlx);
  if (pp->solo) {  // R7: nobody else takes from this P
    if (next) {
      pp->runnext.store(nullptr, rlx);
      *inherit = true;
      return next;
    }
    *inherit = false;
    std::uint32_t h = pp->runqhead.load(rlx);
    std::uint32_t t = pp->runqtail.load(rlx);
    if (t == h) return nullptr;
    G* gp = pp->runq[h % kRunqSize].load(rlx);
    pp->runqhead.store(h + 1, rel);  // rel: runqempty/runqlen readers (sysmon, dumps)
    runq_prefetch(pp, h, t);
    return gp;
  }
  // Only the owner puts into runnext, but thieves may clear it: CAS.
  if (next && pp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel, rlx)) {
    *inherit = true;
    return next;
  }
  *inherit = false;
  for (;;) {
    std::uint32_t h = pp->runqhead.load(acq);
    std::uint32_t t = pp->runqtail.load(rlx);
    if (t == h) return nullptr;
    G* gp = pp->runq[h % kRunqSize].load(rlx);
    if (pp->runqhead.compare_exchange_strong(h, h + 1, rel, rlx)) {
      runq_prefetch(pp, h, t);
      return gp;
    }
  }
}

G* runqsteal(P* pp, P* p2, bool steal_runnext) {
  if (p2->solo) fatal("runqsteal: P %d is its runtime's only P (R7)", p2->id);
  std::uint32_t t = pp->runqtail.load(rlx);
  std::uint32_t n = runqgrab(p2, pp->runq, t, steal_runnext);
  if (n == 0) return nullptr;
  --n;
  G* gp = pp->runq[(t + n) % kRunqSize].load(rlx);
  if (n == 0) return gp;
  std::uint32_t h = pp->runqhead.load(acq);
  if (t - h + n >= kRunqSize) fatal("runqsteal: runq overflow");
  pp->runqtail.store(t + n, rel);  // R2: publishes the stolen slots
  return gp;
}

bool runqempty(P* pp) {
  // Go's loop: runnext and the ring must be read consistently, since runqput may move the old
  // runnext to the ring between our reads.
  for (;;) {
    std::uint32_t h = pp->runqhead.load(acq);
    std::uint32_t t = pp->runqtail.load(acq);
    G* next = pp->runnext.load(acq);
    if (pp->runqtail.load(acq) == t) return h == t && next == nullptr;
  }
}

std::uint32_t runqlen(P* pp) {
  std::uint32_t h = pp->runqhead.load(acq);
  std::uint32_t t = pp->runqtail.load(acq);
  return t - h + (pp->runnext.load(rlx) ? 1 : 0);
}

void GQueue::grow() {
  std::size_t cap = cap_ == 0 ? kRunqSize : 2 * cap_;
  G** buf = new (std::nothrow) G*[cap];
  if (!buf) fatal("out of memory: the global run queue cannot grow to %zu fibers", cap);
  for (std::size_t i = 0; i < n_; ++i) buf[i] = buf_[(head_ + i) & (cap_ - 1)];
  delete[] buf_;
  buf_ = buf;
  cap_ = cap;
  head_ = 0;
}

// GStack's out-of-line parts (runtime2.hpp).
void GStack::grow(std::size_t need) {
  std::size_t cap = cap_ == 0 ? kPGfreeMax : cap_;  // a P's cache never grows past the first
  while (cap < need) cap *= 2;
  G** buf = new (std::nothrow) G*[cap];
  if (!buf) fatal("out of memory: a free-fiber list cannot grow to %zu fibers", cap);
  if (n_ != 0) std::memcpy(buf, buf_, n_ * sizeof(G*));
  delete[] buf_;
  buf_ = buf;
  cap_ = cap;
}

void GStack::take_top(GStack& from, std::size_t n) {
  if (n == 0) return;
  if (n_ + n > cap_) grow(n_ + n);
  std::memcpy(buf_ + n_, from.buf_ + from.n_ - n, n * sizeof(G*));
  n_ += n;
  from.n_ -= n;
}

void GStack::take_bottom(GStack& from, std::size_t n) {
  if (n == 0) return;
  if (n_ + n > cap_) grow(n_ + n);
  std::memcpy(buf_ + n_, from.buf_, n * sizeof(G*));
  n_ += n;
  from.n_ -= n;
  std::memmove(from.buf_, from.buf_ + n, from.n_ * sizeof(G*));
}

void globrunqput(Sched* s, G* gp) {
  s->runq.push_back(gp);
  s->runqsize.store(s->runq.size(), rlx);
}

G* globrunqget(Sched* s, P* pp, int max) {
  std::size_t size = s->runq.size();
  if (size == 0) return nullptr;
  std::size_t n = std::min<std::size_t>(size, size / std::size_t(s->nprocs) + 1);
  if (max > 0 && n > std::size_t(max)) n = std::size_t(max);
  if (n > kRunqSize / 2) n = kRunqSize / 2;
  G* gp = s->runq.pop_front();
  while (--n > 0) runqput(pp, s->runq.pop_front(), false);
  s->runqsize.store(s->runq.size(), rlx);
  return gp;
}

}  // namespace weft::detail
