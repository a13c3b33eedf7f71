// proc: the scheduler — G lifecycle, park/ready, each M's schedule loop, M and P hand-off.
// Follows Go's src/runtime/proc.go; this comment is our version of the one at its top.
//
// # The pieces
//
// G is a fiber, M an OS thread, P a processor: the right to run Gs, with a local run queue.
// An M runs Gs only while it holds a P; there are exactly `procs` Ps (Go's GOMAXPROCS). Each M's
// own thread stack is its g0, the scheduler stack: schedule() runs there, and every switch is
// G -> g0 -> G. Gs may resume on any M (see DESIGN.md "Fibers move between threads").
//
// # Switching: gogo and mcall
//
// g0 resumes a G with gogo(): ctx_jump(gp->ctx, m), handing the G its new M. A G gives control
// back with mcall(fn): ctx_ontop(m->g0ctx, req, mcall_switch) saves the G's registers into its
// stack, switches to g0's stack and runs mcall_switch there, which records gp->ctx and then runs
// fn(gp). Only after that point may anyone else resume gp. fn's result — a G to run at once, or
// null — is returned to the g0 frame suspended in gogo, and the schedule loop continues.
//
// yield() and gopark() take a shorter road when they can (handoff): the G dequeues the next G
// from its own P itself and switches straight to it with ctx_ontop, and the commit that mcall
// would run on g0 — record the G's context, then make it runnable and queue it (yield) or set it
// waiting and call unlockf (park) — runs on the next G's stack before that G resumes. One switch
// instead of two, and no pass through schedule(). Its rules:
//  H1. It applies only when schedule() would simply take the next G from this P's ring: the M
//      holds a P, the time slice is not used up (P::preempt), no timer is pending on this P, the
//      global queue is empty (so schedule()'s every-61st-tick look there has nothing to take),
//      no shutdown, the G is not locked to its thread, and WEFT_DEBUG=migrate is off (it wants
//      every switch through g0).
//      Otherwise the G mcalls as before. runnext inherits the time slice here as in schedule(),
//      so a ping-ponging pair meets sysmon's preemption (P::preempt) after 10 ms like any chain.
//  H2. The ownership rules are those of mcall: the G is published (queued, or made findable by
//      unlockf) only by the commit, after its registers are saved, and m->curg is still the G
//      while unlockf runs. If unlockf returns false the G is runnable again and goes to runnext:
//      it runs right after the G it handed its M to (on g0 it would run at once; either way no
//      wakeup is lost, P2).
//  H3. A G that has never run cannot take an ontop call (its context has no frame to return
//      into), so for it the handoff goes through g0 with the next G already chosen (yield_to_m,
//      park_to_m); a G locked to another M goes there too, for startlockedm.
//
// # Parking: gopark / goready (the "check, then sleep" protocol)
//
// gopark(unlockf, arg, reason) is mcall(park_m) (or a handoff, H1): on g0 (or on the next G's
// stack), with the G's context already saved,
// park_m sets the G waiting and calls unlockf. unlockf is where the G becomes findable by its
// waker (it releases a lock, or CASes the G into a wait slot). If unlockf returns false (the
// condition it re-checked is already true), park_m makes the G runnable and it runs again at
// once (or, after a handoff, right after the G it handed its M to: H2). Therefore:
//  P1. A waker can only see a G that is `waiting` with a saved context: goready's
//      waiting->runnable never races with the G still running on its own stack. Nor with
//      another waker: the one that took the G out of the wait structure (under its lock, or by
//      winning select_state's or a wait slot's CAS) owns it (GStatus), so goready is an owner
//      transition like the others — a checked load and a release store, no locked instruction
//      (Go CASes here; on the Zen 4 machines weft is measured on, a locked instruction costs
//      ~6.5 ns, a tenth of a channel hand-off). A second goready of the same G still fails the
//      check, unless the two race, which the sudog check after every channel wake (chan.cpp C3)
//      also reports.
//  P2. No wakeup is lost: a waker either runs before unlockf publishes the G (unlockf then sees
//      the condition and returns false) or after (it finds the G and readies it).
//  P3. goready puts the G in runnext of the caller's P (it runs next and inherits the time
//      slice) and calls wakep(); without a P (foreign thread, shutdown) it goes to the global
//      queue and an idle P, if any, is started.
//
// # Finding work, spinning, and thread parking
//
// An M that runs out of local work looks in the global queue, then steals half of another P's
// ring (four rounds over all Ps from a random start; the last round may take runnext). An M
// doing this is "spinning" (Sched::nmspinning counts them). The problem is the classic M:N one:
// a G made runnable while every M is on its way to sleep must still run, yet a wakeup should not
// start a stampede of threads. Go's rules, which we keep:
//  S1. At most one extra M is woken per readied G, and only if no M is spinning: wakep() CASes
//      nmspinning 0 -> 1 and starts an M with an idle P. A spinning M will find the G.
//  S2. An M that stops spinning because it found work calls wakep() (resetspinning): the next
//      G may need another M. This "spinning M handoff" keeps parallelism without a stampede.
//  S3. Spinning Ms are bounded by half the busy Ps (2*nmspinning < procs - npidle).
//  S4. An M gives up its P only under Sched::lock after re-checking the global queue. Everyone
//      who puts a G on the global queue without a P of their own (foreign threads, g0 without
//      a P) does so under Sched::lock and then takes an idle P and starts an M for it (Go's
//      injectglist). So a G on the global queue is never stranded: either some M holds a P and
//      will look at the global queue before releasing it, or the putter saw the idle P.
//  S5. An M leaving the spinning state with no work decrements nmspinning first and then looks
//      at every P's ring once more; if one has work it takes an idle P and spins again. A G put
//      on a P's own ring by the M holding that P needs no wakeup for correctness at all: that M
//      runs it when its current G parks or yields. wakep() on that path only buys parallelism.
//  S6. Idle Ms sleep on their own Note (futex) on Sched::midle; startm hands an M its P in
//      M::nextp before notewakeup, and the woken M acquires it after notesleep.
//
// # Fairness
//
// runnext inherits the time slice, so a pair of Gs ping-ponging cannot starve the ring; every
// 61st schedule takes one G from the global queue first, so the global queue cannot starve.
//
// # Lifecycle
//
// Ms are created on demand by startm and never exit until shutdown. Shutdown sets
// Sched::stopping under the lock (so no M is started afterwards), wakes idle Ms, and joins every
// M; each leaves its schedule loop at its next scheduling point. The shutting-down thread then
// acts as a temporary M without a P and unwinds every fiber still queued or parked: a fiber that
// never ran has its callable destroyed, one that ran is resumed with ForcedUnwind thrown at its
// suspension point, so its destructors run. Every parking primitive catches ForcedUnwind around
// its gopark just long enough to take its G out of its wait structure (netpollblock,
// parkslot_wait, semacquire): destructors running during the unwinding may close or release
// that structure, and must not find a G that no longer waits.
#include "proc.hpp"

#include <cxxabi.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "context.hpp"
#include "debug.hpp"
#include "runq.hpp"
#include "sanitizer.hpp"
#include "time.hpp"
#include "timer.hpp"
#include "trace.hpp"
#include "netpoll.hpp"

#ifndef WEFT_DEFAULT_STACK_SIZE
#define WEFT_DEFAULT_STACK_SIZE (128 * 1024)
#endif

namespace weft::detail {

thread_local M* tls_m __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

constexpr std::size_t kGlobalDirtyMax = 2048;  // global free Gs beyond this release stacks

struct MCallReq {
  G* gp;
  MCallFn fn;
  void* arg;
};

struct ParkReq {
  UnlockFn unlockf;
  void* arg;
  WaitReason reason;
};

// tick increments a counter that only the M holding its P writes (see P::schedtick).
template <class T>
inline void tick(std::atomic<T>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// p_enter: the M leaves a G's user code for runtime code that may touch its P. It publishes
// in_runtime (a plain store; sysmon's membarrier provides the CPU fence — see sysmon.cpp) and
// then checks that it still owns m->p: a P in `retaking` is CASed back to running; a P that
// sysmon retook is dropped (m->p = null) and the caller proceeds as a thread without a P.
// Returns true if the caller must p_exit (it was in user code); false when already in runtime
// code (on g0, or nested), which needs no bracket.
inline bool p_enter(M* m) {
  if (m->in_runtime.load(std::memory_order_relaxed)) return false;
  m->in_runtime.store(true, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (P* pp = m->p) {
    PStatus st = pp->status.load(std::memory_order_acquire);
    if (st == PStatus::retaking && pp->status.compare_exchange_strong(st, PStatus::running)) {
      st = PStatus::running;
    }
    if (st != PStatus::running || pp->m.load(std::memory_order_acquire) != m) m->p = nullptr;
  }
  return true;
}

// p_exit: back to user code after a p_enter that returned true.
inline void p_exit(M* m, bool entered) {
  if (!entered) return;
  // Release (a plain store on x86): pairs with sysmon's acquire load, so what this M did to
  // the P happens-before whatever the P's next owner does (TSan sees the ownership hand-off).
  m->in_runtime.store(false, std::memory_order_release);
}

// to_user: g0 or a commit is about to resume a G's user code on m, which holds a P.
inline void to_user(M* m) { m->in_runtime.store(false, std::memory_order_release); }

// eh_switch moves the C++ exception state of the thread from `from` (saved into it, null for
// g0) to `to` (restored from it, null for g0). See EhState in runtime2.hpp.
inline void eh_switch(M* m, G* from, G* to) {
  if (from) from->eh = *m->eh;
  *m->eh = to ? to->eh : EhState{};
}

EhState* thread_eh() { return reinterpret_cast<EhState*>(abi::__cxa_get_globals()); }

// g0_init records the calling thread's stack and TSan fiber as m's g0 (sanitizer.hpp).
void g0_init(M* m) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* lo = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
    m->g0_lo = lo;
    m->g0_size = size;
  }
  m->g0_tsan = san::fiber_current();
}

std::uint32_t fastrand(M* m) {
  // xorshift32; owned by the M.
  std::uint32_t x = m->fastrand;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  m->fastrand = x;
  return x;
}

// trace_at records a trace event on the calling thread's track: its M's buffer, else the
// shared one (sysmon's track or "other threads"). Callers test s->trace first.
__attribute__((noinline)) void trace_at(Sched* s, TraceEv k, std::uint64_t g, std::uint64_t arg = 0,
                                        const char* site = nullptr, std::uint32_t line = 0) {
  M* m = tls_m;
  if (m && m->sched == s && m->trace) {
    trace_event(m->trace, k, g, arg, site, line);
    return;
  }
  int tid = std::this_thread::get_id() == s->sysmon.get_id() ? kTraceSysmonTid : kTraceOtherTid;
  trace_event_other(s->trace, tid, k, g, arg, site, line);
}

void schedule(M* m);
void mstart(M* m);

// ---- Ps and Ms (all under Sched::lock) ----

void pidleput(Sched* s, P* pp) {
  if (!runqempty(pp)) fatal("pidleput: P %d has a non-empty run queue", pp->id);
  pp->status.store(PStatus::idle);
  pp->link = s->pidle;
  s->pidle = pp;
  s->npidle.fetch_add(1);
}

P* pidleget(Sched* s) {
  P* pp = s->pidle;
  if (pp) {
    s->pidle = pp->link;
    pp->link = nullptr;
    s->npidle.fetch_sub(1);
  }
  return pp;
}

void mput(Sched* s, M* m) {
  m->link = s->midle;
  s->midle = m;
  m->on_midle = true;
  ++s->nmidle;
}

// mremove takes m off the idle list (it may be anywhere on it); it stops being the timer
// sleeper if it was.
void mremove(Sched* s, M* m) {
  for (M** pm = &s->midle; *pm; pm = &(*pm)->link) {
    if (*pm == m) {
      *pm = m->link;
      break;
    }
  }
  m->link = nullptr;
  m->on_midle = false;
  --s->nmidle;
  if (s->timer_sleeper == m) {
    s->timer_sleeper = nullptr;
    s->sleeper_until.store(0, std::memory_order_relaxed);
  }
}

M* mget(Sched* s) {
  M* m = s->midle;
  if (m) mremove(s, m);
  return m;
}

void acquirep(M* m, P* pp) {
  if (m->p || pp->m.load()) fatal("acquirep: P %d already owned", pp->id);
  m->p = pp;
  pp->m.store(m, std::memory_order_release);
  pp->status.store(PStatus::running);
}

P* releasep(M* m) {
  P* pp = m->p;
  if (!pp || pp->m.load() != m) fatal("releasep: M %d does not own its P", m->id);
  pp->m.store(nullptr, std::memory_order_release);
  m->p = nullptr;
  return pp;
}

// newm creates an M that starts with pp. Sched::lock must be held (so shutdown, which sets
// stopping under the lock, sees every M it must join).
void newm(Sched* s, P* pp, bool spinning, G* nextg = nullptr) {
  if (s->mcount >= s->max_threads) {
    fatal(
        "thread limit: %d threads exist (Config::max_threads, Go's maxmcount); too many "
        "fibers in blocking calls?",
        s->mcount);
  }
  M* m = new M;
  m->nextg = nextg;
  m->id = s->mcount++;
  m->sched = s;
  m->nextp = pp;
  m->spinning = spinning;
  m->fastrand = 0x9e3779b9u * std::uint32_t(m->id + 1);
  if (s->trace) m->trace = trace_m_buf(s->trace, m->id);
  s->allm.push_back(m);
  m->thread = std::thread(mstart, m);
}

// startm runs pp (an idle P if null) on an idle or new M. With spinning, the caller has
// already counted the new M in nmspinning (wakep); if no P can be had, that count is undone.
void startm(Sched* s, P* pp, bool spinning) {
  std::unique_lock<Lock> lk(s->lock);
  if (s->stopping.load()) {
    if (pp) pidleput(s, pp);
    if (spinning) s->nmspinning.fetch_sub(1);
    return;
  }
  if (!pp) {
    pp = pidleget(s);
    if (!pp) {
      if (spinning) s->nmspinning.fetch_sub(1);
      return;
    }
  }
  M* m = mget(s);
  if (!m) {
    newm(s, pp, spinning);
    return;
  }
  lk.unlock();
  m->spinning = spinning;
  m->nextp = pp;
  notewakeup(&m->park);
}

// wakep starts an M for an idle P if no M is spinning (S1).
void wakep(Sched* s) {
  if (s->npidle.load() == 0) return;
  int zero = 0;
  if (s->nmspinning.load() != 0 || !s->nmspinning.compare_exchange_strong(zero, 1)) return;
  startm(s, nullptr, true);
}

void resetspinning(M* m) {
  m->spinning = false;
  if (m->sched->nmspinning.fetch_sub(1) - 1 < 0) fatal("resetspinning: negative nmspinning");
  wakep(m->sched);  // S2
}

// netpoll_block: while fibers wait on I/O, the first M to go idle becomes the poller instead of
// sleeping: it blocks in netpoll until readiness, the next timer (if a P is free to run it) or
// a break, holding no P and staying off the idle list (Go's blocking netpoll in findrunnable).
// Readied fibers go to an idle P it takes, else to the global queue (S4: no P is idle). False
// if this M did not poll (nobody waits on I/O, or another M polls).
bool netpoll_block(M* m) {
  Sched* s = m->sched;
  Netpoll& np = s->netpoll;
  if (np.waiters.load() == 0 || s->stopping.load()) return false;
  std::int64_t lp = np.lastpoll.load();
  if (lp == 0 || !np.lastpoll.compare_exchange_strong(lp, 0)) return false;
  std::int64_t next = s->npidle.load() > 0 ? timer_next(s) : 0;  // busy Ps run their own timers
  std::int64_t delay = next == 0 ? -1 : std::max<std::int64_t>(0, next - nanotime());
  np.poll_until.store(next);
  m->ready.clear();
  netpoll(s, delay, m->ready);
  np.poll_until.store(0);
  np.lastpoll.store(nanotime());
  if (m->trace && !m->ready.empty()) [[unlikely]] {
    trace_event(m->trace, TraceEv::netpoll, 0, m->ready.size());
  }
  bool timers_due = next != 0 && next <= nanotime();
  if (m->ready.empty() && !timers_due) return true;  // a break: findrunnable re-evaluates
  P* pp;
  {
    std::lock_guard<Lock> lk(s->lock);
    pp = pidleget(s);
    if (!pp) {
      for (G* gp : m->ready) {
        casgstatus(gp, GStatus::waiting, GStatus::runnable);
        if (m->trace) [[unlikely]]
          trace_event(m->trace, TraceEv::ready, gp->id);
        globrunqput(s, gp);
      }
    }
  }
  if (pp) {
    acquirep(m, pp);
    for (G* gp : m->ready) goready(gp);
  }
  m->ready.clear();
  return true;
}

// stopm parks the M until startm hands it a P, or shutdown wakes it without one.
void stopm(M* m) {
  Sched* s = m->sched;
  if (m->p) fatal("stopm: M %d holds a P", m->id);
  if (m->spinning) fatal("stopm: M %d is spinning", m->id);
  if (netpoll_block(m)) return;
  std::int64_t until = 0;
  {
    std::lock_guard<Lock> lk(s->lock);
    if (s->stopping.load()) return;
    mput(s, m);
    // The timer sleeper: while timers are pending and a P is free to run them, one idle M
    // sleeps only until the earliest (the network poller takes this role when it exists).
    std::int64_t next = timer_next(s);
    if (next != 0 && s->npidle.load() > 0 &&
        (!s->timer_sleeper || next < s->sleeper_until.load(std::memory_order_relaxed))) {
      if (s->timer_sleeper) {
        s->timer_sleeper = nullptr;  // its deadline is later; it stays asleep as a plain idle M
      }
      s->timer_sleeper = m;
      s->sleeper_until.store(next, std::memory_order_relaxed);
      until = next;
    }
    checkdead(s);
  }
  if (until != 0) {
    std::int64_t now = nanotime();
    if (!(until > now && notetsleep(&m->park, until - now))) {
      std::lock_guard<Lock> lk(s->lock);
      if (m->on_midle) {  // nobody claimed this M: it woke for the timers
        mremove(s, m);
        if (P* pp = pidleget(s)) acquirep(m, pp);
        return;  // findrunnable runs the due timers (or, without a P, sleeps again)
      }
      // Claimed meanwhile (startm, wake_timer_sleeper): its notewakeup follows.
    }
  }
  notesleep(&m->park);
  noteclear(&m->park);
  if (m->nextp) {
    acquirep(m, m->nextp);
    m->nextp = nullptr;
  }
}

// injectg queues gp globally from a context that holds no P (a foreign thread, shutdown, an M
// whose P sysmon took): under the lock it also takes an idle P, if any, and starts an M for it,
// so the G is never stranded (S4). Go's injectglist.
void injectg(Sched* s, G* gp) {
  P* pp;
  {
    std::lock_guard<Lock> lk(s->lock);
    globrunqput(s, gp);
    pp = pidleget(s);
  }
  if (pp) startm(s, pp, false);
}

// handoffp finds a home for a P that its M gave up or sysmon retook (status idle, on no list):
// an M to run it if there is work for it, else the idle list. Go's handoffp.
void handoffp_impl(Sched* s, P* pp) {
  if (!runqempty(pp) || s->runqsize.load() != 0) {
    startm(s, pp, false);
    return;
  }
  // No work here; if nobody is looking for work elsewhere, this P becomes a spinning M's.
  int zero = 0;
  if (s->nmspinning.load() + s->npidle.load() == 0 &&
      s->nmspinning.compare_exchange_strong(zero, 1)) {
    startm(s, pp, true);
    return;
  }
  std::unique_lock<Lock> lk(s->lock);
  if (!s->runq.empty() && !s->stopping.load()) {
    lk.unlock();
    startm(s, pp, false);
    return;
  }
  pidleput(s, pp);
}

// ---- G accounting ----

constexpr std::uint64_t kGoidBatch = 16;  // Go's _GoidCacheBatch

// newgoid hands out fiber ids from the caller's P's batch, so spawning touches no shared line.
std::uint64_t newgoid(Sched* s) {
  M* m = tls_m;
  P* pp = (m && m->sched == s) ? m->p : nullptr;
  if (!pp) return s->goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (pp->goidcache == pp->goidcacheend) {
    pp->goidcache = s->goidgen.fetch_add(kGoidBatch, std::memory_order_relaxed) + 1;
    pp->goidcacheend = pp->goidcache + kGoidBatch;
  }
  return pp->goidcache++;
}

// Counting spawns and exits per P (single writer each) instead of in one shared atomic keeps the
// spawn/exit path free of a cache line bouncing between cores. Release stores pair with the
// acquire loads in live_count.
void bump(std::atomic<std::int64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void count_spawn(Sched* s, P* pp) {
  if (pp)
    bump(pp->nspawned);
  else
    s->nspawned.fetch_add(1, std::memory_order_acq_rel);
}

void count_exit(Sched* s, P* pp) {
  if (pp)
    bump(pp->nexited);
  else
    s->nexited.fetch_add(1, std::memory_order_acq_rel);
}

// live_count: fibers spawned and not yet exited. Exits are read first: every exit seen was
// preceded (happens-before, through the run queue that carried the G) by its spawn's count, so
// the result never undercounts a fiber that is still live.
std::int64_t live_count(Sched* s) {
  std::int64_t exited = s->nexited.load(std::memory_order_acquire);
  for (P* pp : s->allp) exited += pp->nexited.load(std::memory_order_acquire);
  std::int64_t spawned = s->nspawned.load(std::memory_order_acquire);
  for (P* pp : s->allp) spawned += pp->nspawned.load(std::memory_order_acquire);
  return spawned - exited;
}

// ---- G allocation ----

namespace {

// gfree_prefetch: the next G a spawn on this P will take, prefetched for writing (newg and
// newproc write its first three lines) while the current spawn goes on.
inline void gfree_prefetch(const GStack& l) {
  if (G* next = l.top()) {
    const char* p = reinterpret_cast<const char*>(next);
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + 64, 1);
    __builtin_prefetch(p + 128, 1);
  }
}

}  // namespace

// gfget takes a free G whose stack is of class cls: from the caller's P when it has one in s,
// else from the global lists, preferring Gs whose stacks are still resident.
G* gfget(Sched* s, std::size_t cls) {
  M* m = tls_m;
  P* pp = (m && m->sched == s) ? m->p : nullptr;
  if (cls == s->stack_size && pp) {
    if (pp->gfree.empty()) {
      // Refill half the P's cache: released stacks first, so that resident ones (on top) are
      // reused before them.
      std::lock_guard<Lock> lk(s->lock);
      std::size_t want = kPGfreeMax / 2;
      std::size_t dirty = std::min(want, s->gfree.size());
      pp->gfree.take_top(s->gfree_clean, std::min(want - dirty, s->gfree_clean.size()));
      pp->gfree.take_top(s->gfree, dirty);
      s->gfree_low = std::min(s->gfree_low, s->gfree.size());
    }
    G* gp = pp->gfree.pop();
    gfree_prefetch(pp->gfree);
    return gp;
  }
  std::lock_guard<Lock> lk(s->lock);
  if (cls == s->stack_size) {
    G* gp = s->gfree.pop();
    s->gfree_low = std::min(s->gfree_low, s->gfree.size());
    return gp ? gp : s->gfree_clean.pop();
  }
  auto it = s->gfree_sized.find(cls);
  return it == s->gfree_sized.end() ? nullptr : it->second.pop();
}

// gfput_global puts a free G on the global lists; Sched::lock must be held. Default-size Gs
// keep their resident stacks there (LIFO: the most recently freed are reused first); sysmon's
// scavenger (scavenge_stacks) later returns the pages of those that stayed unused, so memory
// does not ratchet after a burst of fibers and a burst does not churn madvise and page faults.
void gfput_global(Sched* s, G* gp) {
  if (gp->stack.cls == s->stack_size) {
    s->gfree.push(gp);
    return;
  }
  GStack& l = s->gfree_sized[gp->stack.cls];
  if (l.size() >= kGlobalDirtyMax / 64) StackPool::release(gp->stack);
  l.push(gp);
}

// gfput returns a dead G (with its stack) to the caller's P; when the P holds too many, the
// older half (the colder stacks) goes to the global lists.
void gfput(Sched* s, P* pp, G* gp) {
  setgstatus(gp, GStatus::dead, GStatus::idle);
  if (gp->stack.cls == s->stack_size && pp) {
    pp->gfree.push(gp);
    if (pp->gfree.size() < kPGfreeMax) return;
    std::lock_guard<Lock> lk(s->lock);
    s->gfree.take_bottom(pp->gfree, pp->gfree.size() - kPGfreeMax / 2);
    return;
  }
  std::lock_guard<Lock> lk(s->lock);
  gfput_global(s, gp);
}

// ---- running a G ----

// gogo resumes gp on m (g0 side); returns what gp's mcall fn chose to run next.
G* gogo(M* m, G* gp) {
  gp->m = m;
  m->curg = gp;
  if (m->trace) [[unlikely]] {
    trace_event(m->trace, TraceEv::run_begin, gp->id, 0, gp->spawn_file, gp->spawn_line);
  }
  eh_switch(m, nullptr, gp);
  to_user(m);
  san::leave(&m->g0_asan_fake, gp->stack.lo, gp->stack.size, gp->tsan_fiber, gp);
  Transfer t = ctx_jump(gp->ctx, m);  // in_runtime is true again: mcall's p_enter set it
  m->curg = nullptr;
  return static_cast<G*>(t.data);
}

// canary_check reports an overflow of gp's unguarded stack at switch-out (sp: its saved ctx).
inline void canary_check(G* gp, Ctx sp) {
  if (!gp->stack.guarded &&
      (!StackPool::canary_ok(gp->stack) || static_cast<char*>(sp) < gp->stack.lo)) {
    fatal("stack overflow (stack size %zu; unguarded stack, caught by its canary)", gp->stack.size);
  }
}

Transfer mcall_switch(Transfer t) {  // runs on g0's stack
  MCallReq* r = static_cast<MCallReq*>(t.data);
  G* gp = r->gp;
  san::arrive(gp->m->g0_asan_fake);
  MCallFn fn = r->fn;
  void* arg = r->arg;
  set_ctx(gp, t.ctx);
  canary_check(gp, t.ctx);
  gp->lastm = gp->m;
  if (gp->m->trace) [[unlikely]]
    trace_event(gp->m->trace, TraceEv::run_end, gp->id);
  eh_switch(gp->m, gp, nullptr);
  return {nullptr, fn(gp, arg)};
}

G* goexit0(G* gp, void*) {
  M* m = gp->m;
  Sched* s = gp->sched;
  setgstatus(gp, GStatus::running, GStatus::dead);
  gp->fn = {};
  gp->m = nullptr;
  gp->unwinding = false;
  gp->started = false;
  gp->eh = {};
  gp->lastm = nullptr;
  if (gp->lockedm) {
    // Go terminates a thread whose locked goroutine exits; weft unwires it and keeps the M.
    dump_store(gp->lockedm, static_cast<M*>(nullptr));
    gp->locked = 0;
    m->lockedg = nullptr;
  }
  count_exit(s, m->p);
  gfput(s, m->p, gp);
  return nullptr;
}

// run_fiber runs the G's function; every C++ object it creates is gone when it returns.
__attribute__((noinline)) void run_fiber(G* gp) {
  gp->started = true;
  try {
    gp->fn.invoke(gp->fn.obj);
  } catch (const ForcedUnwind&) {
    // shutdown unwound it: a normal end
  } catch (const std::exception& e) {
    fatal("uncaught exception: %s", e.what());
  } catch (...) {
    fatal("uncaught exception (not derived from std::exception)");
  }
}

void fiber_entry(Transfer t) {
  san::arrive(nullptr);  // a fresh G is always started by gogo
  M* m = static_cast<M*>(t.data);
  m->g0ctx = t.ctx;
  G* gp = m->curg;
  run_fiber(gp);
  mcall(gp, goexit0, nullptr);
  fatal("goexit returned");
}

Transfer unwind_ontop(Transfer t) {  // runs on the G's stack, on top of its suspension point
  M* m = static_cast<M*>(t.data);
  san::arrive(m->curg->asan_fake);  // the throw skips the suspension point's own arrive
  m->g0ctx = t.ctx;
  throw ForcedUnwind{};
}

G* park_m(G* gp, void* arg) {
  ParkReq r = *static_cast<ParkReq*>(arg);  // copy: arg lives on gp's stack (see UnlockFn)
  dump_store(gp->wait_reason, r.reason);
  dump_store(gp->wait_since, gp->sched->coarse_now.load(std::memory_order_relaxed));
  TraceBuf* tb = gp->m->trace;  // before unlockf: after it, gp may run elsewhere
  if (tb) [[unlikely]]
    trace_event(tb, TraceEv::park, gp->id, std::uint64_t(r.reason));
  setgstatus(gp, GStatus::running, GStatus::waiting);
  if (r.unlockf && !r.unlockf(gp, r.arg)) {
    setgstatus(gp, GStatus::waiting, GStatus::runnable);  // never published: still ours
    if (tb) [[unlikely]]
      trace_event(tb, TraceEv::park_cancel, gp->id);
    return gp;  // P2: the condition already holds; run it again at once
  }
  return nullptr;
}

// gosched_m puts a yielding G behind everything runnable. Go always uses the global queue; we
// use the P's ring while the global queue is empty (no lock on the common path) and the global
// queue otherwise, so a yielder cannot overtake a backlog that overflowed there.
G* gosched_m(G* gp, void*) {
  Sched* s = gp->sched;
  setgstatus(gp, GStatus::running, GStatus::runnable);
  if (!gp->m->p) {  // sysmon took the P while gp ran: S4
    injectg(s, gp);
    return nullptr;
  }
  if (s->runqsize.load(std::memory_order_relaxed) == 0) {
    runqput(gp->m->p, gp, false);
    return nullptr;
  }
  std::lock_guard<Lock> lk(s->lock);
  globrunqput(s, gp);  // this M holds a P and will look at the global queue itself
  return nullptr;
}

// HandoffReq: a switch straight from gp to next (yield, or a park: park.reason != none).
struct HandoffReq {
  G* gp;    // the yielding or parking G
  G* next;  // the G it hands its M to
  M* m;
  ParkReq park;  // for a park: what park_m would get
};

// handoff_commit runs on next's stack, on top of its suspension point, right after the switch:
// it is mcall_switch + gosched_m (yield) or + park_m (park) for gp, then gogo's bookkeeping for
// next. It reads the request (on gp's stack) before publishing gp, and publishes gp last.
Transfer handoff_commit(Transfer t) {
  auto* r = static_cast<HandoffReq*>(t.data);
  G* gp = r->gp;
  G* next = r->next;
  M* m = r->m;
  ParkReq park = r->park;
  san::arrive(next->asan_fake);
  m->arrived = true;
  set_ctx(gp, t.ctx);
  canary_check(gp, t.ctx);
  gp->lastm = m;
  if (m->trace) [[unlikely]] {
    trace_event(m->trace, TraceEv::run_end, gp->id);
  }
  eh_switch(m, gp, next);
  if (park.reason == WaitReason::none) {
    setgstatus(gp, GStatus::running, GStatus::runnable);
    runqput(m->p, gp, false);      // publishes gp
  } else if (park_m(gp, &park)) {  // P1, P2 as on g0 (m->curg is still gp, as there)
    runqput(m->p, gp, true);       // H2: the condition already held; gp runs after next
  }
  if (m->trace) [[unlikely]] {
    trace_event(m->trace, TraceEv::run_begin, next->id, 0, next->spawn_file, next->spawn_line);
  }
  next->m = m;
  m->curg = next;
  tick(m->p->handoffs);
  to_user(m);
  return {m->g0ctx, m};  // next resumes as if g0 had resumed it
}

// yield_to_m / park_to_m: the handoff through g0, for a next G that has never run (it cannot
// take an ontop call). schedule() runs next.
G* yield_to_m(G* gp, void* next) {
  setgstatus(gp, GStatus::running, GStatus::runnable);
  runqput(gp->m->p, gp, false);
  return static_cast<G*>(next);
}

G* park_to_m(G* gp, void* arg) {
  auto* r = static_cast<HandoffReq*>(arg);
  G* next = r->next;  // read before park_m publishes gp (r lives on its stack)
  ParkReq park = r->park;
  if (park_m(gp, &park)) runqput(gp->m->p, gp, true);  // H2
  return next;
}

// handoff_next: the G that gp (running on m, in_runtime set) may switch straight to, dequeued
// from m's P, or null when schedule() must choose: no P, a time slice used up, timers on this P,
// a global backlog (schedule() looks there first, every 61st tick), shutdown, a locked G,
// or WEFT_DEBUG=migrate (which wants every switch through g0): *eligible says which.
// *inherit: as runqget's.
G* handoff_next(G* gp, M* m, bool* eligible, bool* inherit) {
  P* pp = m->p;
  Sched* s = gp->sched;
  if (!pp || pp->preempt.load(std::memory_order_relaxed) ||
      pp->timer0_when.load(std::memory_order_relaxed) != 0 ||
      s->runqsize.load(std::memory_order_relaxed) != 0 ||
      s->stopping.load(std::memory_order_relaxed) || gp->lockedm || s->debug.migrate) {
    *eligible = false;
    return nullptr;
  }
  *eligible = true;
  return runqget(pp, inherit);
}

// exitsyscall0 runs on g0 when a G leaves weft::blocking() and no P could be had: the G is
// queued globally (S4: no P is idle, so every P's M will look there) and this M stops.
G* exitsyscall0(G* gp, void*) {
  M* m = gp->m;
  Sched* s = gp->sched;
  setgstatus(gp, GStatus::syscall, GStatus::runnable);
  P* pp;
  {
    std::lock_guard<Lock> lk(s->lock);
    pp = pidleget(s);
    if (!pp) globrunqput(s, gp);
  }
  if (pp) {
    acquirep(m, pp);
    return gp;
  }
  return nullptr;  // schedule(): no P, so stopm (or stoplockedm for a locked G's M)
}

// stoplockedm parks an M wired to a G (lock_os_thread) while that G is not runnable: the P goes
// to other Ms. Returns the G once startlockedm has handed over a P with it; null on shutdown.
G* stoplockedm(M* m) {
  Sched* s = m->sched;
  if (m->p) handoffp(s, releasep(m));
  {
    std::lock_guard<Lock> lk(s->lock);
    if (s->stopping.load()) return nullptr;
    ++s->nmidlelocked;
    m->parked_locked = true;
    checkdead(s);
  }
  notesleep(&m->park);
  noteclear(&m->park);
  {
    std::lock_guard<Lock> lk(s->lock);
    --s->nmidlelocked;
    m->parked_locked = false;
  }
  if (!m->nextp) return nullptr;
  acquirep(m, m->nextp);
  m->nextp = nullptr;
  return m->lockedg;
}

// startlockedm gives gp (runnable, dequeued by m) to the M it is wired to, with m's P; m stops.
void startlockedm(M* m, G* gp) {
  M* lm = gp->lockedm;
  lm->nextp = releasep(m);
  notewakeup(&lm->park);
  stopm(m);
}

// migrate_away (WEFT_DEBUG=migrate=1) hands gp and m's P to another M, so that gp resumes on a
// different thread than it last ran on. False when no other M can be had.
bool migrate_away(M* m, G* gp) {
  Sched* s = m->sched;
  M* m2;
  {
    std::lock_guard<Lock> lk(s->lock);
    if (s->stopping.load()) return false;
    m2 = mget(s);
    if (!m2) {
      if (s->mcount + 1 >= s->max_threads) return false;  // each hand-off leaves an idle M
      newm(s, releasep(m), false, gp);
      m2 = nullptr;
    }
  }
  if (m2) {
    m2->nextp = releasep(m);
    m2->nextg = gp;
    notewakeup(&m2->park);
  }
  stopm(m);
  return true;
}

// ---- the schedule loop ----

// findrunnable finds a G to run, stealing from other Ps, else parks the M. Null: shutdown.
G* findrunnable(M* m, bool* inherit) {
  Sched* s = m->sched;
top:
  *inherit = false;
  if (s->stopping.load()) {
    if (m->spinning) {
      m->spinning = false;
      s->nmspinning.fetch_sub(1);
    }
    if (m->p) {
      std::lock_guard<Lock> lk(s->lock);
      P* pp = releasep(m);
      pp->status.store(PStatus::dead);
    }
    return nullptr;
  }
  if (!m->p) {
    stopm(m);
    goto top;
  }
  if (m->nextg) {  // handed over with the P (migrate_away)
    *inherit = true;
    return std::exchange(m->nextg, nullptr);
  }
  P* pp = m->p;
  if (pp->timer0_when.load(std::memory_order_relaxed) != 0) checktimers(pp, nanotime());
  if (G* gp = runqget(pp, inherit)) return gp;
  if (s->runqsize.load(std::memory_order_relaxed) != 0) {
    std::lock_guard<Lock> lk(s->lock);
    if (G* gp = globrunqget(s, pp, 0)) return gp;
  }
  // Fibers waiting on I/O and nobody blocked in the poller: a non-blocking poll.
  if (s->netpoll.waiters.load() > 0 && s->netpoll.lastpoll.load() != 0) {
    m->ready.clear();
    netpoll(s, 0, m->ready);
    if (!m->ready.empty()) {
      if (m->trace) [[unlikely]]
        trace_event(m->trace, TraceEv::netpoll, 0, m->ready.size());
      for (G* gp : m->ready) goready(gp);  // onto this P
      m->ready.clear();
      goto top;
    }
  }
  // Steal (S3 bounds the spinners).
  int nprocs = s->nprocs;
  if (nprocs > 1 && (m->spinning || 2 * s->nmspinning.load() < nprocs - s->npidle.load())) {
    if (!m->spinning) {
      m->spinning = true;
      s->nmspinning.fetch_add(1);
    }
    for (int round = 0; round < 4; ++round) {
      std::uint32_t start = fastrand(m);
      for (int k = 0; k < nprocs; ++k) {
        P* p2 = s->allp[(start + std::uint32_t(k)) % std::uint32_t(nprocs)];
        if (p2 == pp) continue;
        if (round == 3 && p2->timer0_when.load(std::memory_order_relaxed) != 0) {
          // Run the victim's due timers here (Go's stealWork): what they ready lands on our P.
          checktimers(p2, nanotime());
          if (G* gp = runqget(pp, inherit)) return gp;
        }
        if (G* gp = runqsteal(pp, p2, round == 3)) {
          if (m->trace) [[unlikely]]
            trace_event(m->trace, TraceEv::steal, gp->id, p2->id);
          return gp;
        }
      }
    }
  }
  // Nothing: give up the P (S4), stop spinning and look once more (S5), then sleep.
  {
    std::lock_guard<Lock> lk(s->lock);
    if (!s->runq.empty()) return globrunqget(s, pp, 0);
    pidleput(s, releasep(m));
  }
  bool was_spinning = m->spinning;
  if (m->spinning) {
    m->spinning = false;
    if (s->nmspinning.fetch_sub(1) - 1 < 0) fatal("findrunnable: negative nmspinning");
  }
  for (P* p2 : s->allp) {
    if (p2->status.load() != PStatus::idle && !runqempty(p2)) {
      P* got;
      {
        std::lock_guard<Lock> lk(s->lock);
        got = pidleget(s);
      }
      if (got) {
        acquirep(m, got);
        if (was_spinning) {
          m->spinning = true;
          s->nmspinning.fetch_add(1);
        }
        goto top;
      }
      break;
    }
  }
  stopm(m);
  goto top;
}

void schedule(M* m) {
  Sched* s = m->sched;
  G* next = nullptr;
  for (;;) {
    G* gp = std::exchange(next, nullptr);
    bool inherit = true;
    if (gp && !m->p) {
      // The mcall fn chose gp to run at once (park_m: its unlockf found the condition already
      // true), but sysmon took this M's P while gp hogged it (p_enter dropped it). An M runs Gs
      // only while it holds a P: gp is queued like any G readied without one (S4).
      injectg(s, gp);
      gp = nullptr;
    }
    if (!gp && m->lockedg) {
      gp = stoplockedm(m);  // this M runs only its locked G
      if (!gp) return;
      inherit = false;
    }
    if (!gp) {
      if (s->stopping.load(std::memory_order_relaxed) || !m->p || m->nextg) {
        gp = findrunnable(m, &inherit);
      } else {
        P* pp = m->p;
        if (pp->timer0_when.load(std::memory_order_relaxed) != 0) checktimers(pp, nanotime());
        if (pp->schedtick.load(std::memory_order_relaxed) % 61 == 0 &&
            s->runqsize.load(std::memory_order_relaxed) != 0) {
          std::lock_guard<Lock> lk(s->lock);
          gp = globrunqget(s, pp, 1);
          inherit = false;
        }
        if (!gp) gp = runqget(pp, &inherit);
        if (!gp) gp = findrunnable(m, &inherit);
      }
      if (!gp) return;
      if (m->spinning) resetspinning(m);
    }
    if (gp->lockedm && gp->lockedm != m) {
      startlockedm(m, gp);
      continue;
    }
    if (s->debug.migrate && gp->lastm == m && !gp->lockedm && !m->lockedg && migrate_away(m, gp)) {
      continue;
    }
    setgstatus(gp, GStatus::runnable, GStatus::running);
    if (!inherit) {  // a new time slice
      tick(m->p->schedtick);
      m->p->preempt.store(false, std::memory_order_relaxed);
    }
    next = gogo(m, gp);
  }
}

void mstart(M* m) {
  tls_m = m;
  m->eh = thread_eh();
  g0_init(m);
  // An M sleeps with a timeout only for a timer's deadline: wake on time, not up to the
  // kernel's default 50 µs of slack later.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  m->sigaltstack = signal_stack_install();
  if (m->nextp) {
    acquirep(m, m->nextp);
    m->nextp = nullptr;
  }
  schedule(m);
  tls_m = nullptr;
  signal_stack_release(m->sigaltstack);
  m->sigaltstack = nullptr;
}

}  // namespace

// ---- exported to the rest of the runtime ----

const char* gstatus_name(GStatus s) {
  switch (s) {
    case GStatus::idle:
      return "idle";
    case GStatus::runnable:
      return "runnable";
    case GStatus::running:
      return "running";
    case GStatus::waiting:
      return "waiting";
    case GStatus::syscall:
      return "syscall";
    case GStatus::dead:
      return "dead";
  }
  return "?";
}

const char* wait_reason_name(WaitReason r) {
  switch (r) {
    case WaitReason::none:
      return "";
    case WaitReason::park:
      return "park";
    case WaitReason::io_wait:
      return "IO wait";
    case WaitReason::chan_receive:
      return "chan receive";
    case WaitReason::chan_send:
      return "chan send";
    case WaitReason::select:
      return "select";
    case WaitReason::sleep:
      return "sleep";
    case WaitReason::mutex_lock:
      return "sync.Mutex.Lock";
    case WaitReason::blocking:
      return "blocking call";
    case WaitReason::chan_send_nil:
      return "chan send (nil chan)";
    case WaitReason::chan_receive_nil:
      return "chan receive (nil chan)";
    case WaitReason::select_no_cases:
      return "select (no cases)";
    case WaitReason::rwmutex_rlock:
      return "sync.RWMutex.RLock";
    case WaitReason::rwmutex_lock:
      return "sync.RWMutex.Lock";
    case WaitReason::waitgroup_wait:
      return "sync.WaitGroup.Wait";
    case WaitReason::cond_wait:
      return "sync.Cond.Wait";
    case WaitReason::semacquire:
      return "semacquire";
  }
  return "?";
}

std::uint64_t current_goid() {
  G* gp = current_g();
  return gp ? gp->id : 0;
}

void casgstatus(G* gp, GStatus from, GStatus to) {
  GStatus old = from;
  if (!gp->status.compare_exchange_strong(old, to)) {
    fatal("casgstatus: fiber %llu is %s, expected %s (moving to %s)",
          static_cast<unsigned long long>(gp->id), gstatus_name(old), gstatus_name(from),
          gstatus_name(to));
  }
}

void handoffp(Sched* s, P* pp) { handoffp_impl(s, pp); }

std::size_t scavenge_stacks(Sched* s) {
  // The Gs below the list's low-water mark were not touched since the last pass: cold. Keep
  // kGlobalDirtyMax of the list resident regardless; release the cold rest outside the lock.
  // scavlock: sysmon's pass and a caller's (a test, say) run one after the other, never both
  // releasing at once — otherwise a pass could return while an earlier one's batch is still
  // being released and not yet counted in nscavenged.
  std::lock_guard<std::mutex> pass(s->scavlock);
  GStack cold;
  {
    std::lock_guard<Lock> lk(s->lock);
    std::size_t keep =
        std::max(kGlobalDirtyMax, s->gfree.size() - std::min(s->gfree.size(), s->gfree_low));
    // The bottom of the stack is where the Gs untouched since the last pass are.
    if (s->gfree.size() > keep) cold.take_bottom(s->gfree, s->gfree.size() - keep);
    s->gfree_low = s->gfree.size();
  }
  std::size_t n = cold.size();
  if (n == 0) return 0;
  for (G* gp : cold) StackPool::release(gp->stack);
  s->nscavenged.fetch_add(n, std::memory_order_relaxed);
  std::lock_guard<Lock> lk(s->lock);
  s->gfree_clean.take_top(cold, n);
  return n;
}

void dump_fibers_to(Sched* s, std::FILE* out) {
  std::int64_t now = nanotime();
  std::lock_guard<std::mutex> lk(s->allglock);
  for (G* gp : s->allgs) {
    GStatus st = gp->status.load();
    if (st == GStatus::idle || st == GStatus::dead) continue;
    // The fields shown are written before the G is published (id, spawn site: newproc) or by
    // the G before it parks (wait reason and start, lockedm), so this acquire load of its status
    // orders them after those writes (park_m's and gosched's release stores). Nothing stops the
    // G from running, exiting or being reused while the dump looks: all are read with dump_load,
    // relaxed atomics that the G's own dump_store writes race with harmlessly. Such a fiber may
    // show stale values, the risk of any dump of a running program.
    bool stopped = st == GStatus::waiting || st == GStatus::runnable;
    const char* what = st == GStatus::waiting   ? wait_reason_name(dump_load(gp->wait_reason))
                       : st == GStatus::syscall ? "blocking call"
                                                : gstatus_name(st);
    std::fprintf(out, "fiber %llu [%s", static_cast<unsigned long long>(dump_load(gp->id)), what);
    std::int64_t since = dump_load(gp->wait_since);
    if (st == GStatus::waiting && since != 0) {  // 0: never parked (Go: waitsince != 0)
      long minutes = long((now - since) / 60000000000LL);
      if (minutes > 0) std::fprintf(out, ", %ld minutes", minutes);
    }
    if (M* lm = stopped ? dump_load(gp->lockedm) : nullptr) {
      std::fprintf(out, ", locked to thread M%d", lm->id);
    }
    std::fprintf(out, "]:\n\tspawned at %s:%u\n\n", dump_load(gp->spawn_file),
                 dump_load(gp->spawn_line));
  }
}

// resumed is the code at a G's suspension points (mcall, yield) once it runs again, perhaps on
// another M: the switch delivered that M and its g0 context.
inline void resumed(G* gp, Transfer t) {
  M* m = static_cast<M*>(t.data);
  if (!std::exchange(m->arrived, false)) san::arrive(gp->asan_fake);
  m->g0ctx = t.ctx;
}

void mcall(G* gp, MCallFn fn, void* arg) {
  M* m = gp->m;
  p_enter(m);  // stays "in runtime" until gogo resumes a G
  MCallReq req{gp, fn, arg};
  // A G that is exiting will never run again: ASan is told so by a null fake-stack slot.
  san::leave(fn == goexit0 ? nullptr : &gp->asan_fake, m->g0_lo, m->g0_size, m->g0_tsan, m);
  resumed(gp, ctx_ontop(m->g0ctx, &req, mcall_switch));
}

// handoff switches from gp to next (dequeued by handoff_next) and returns when gp runs again.
void handoff(G* gp, M* m, G* next, bool inherit, const ParkReq& park) {
  HandoffReq req{gp, next, m, park};
  if (!next->started || next->lockedm) {
    mcall(gp, park.reason == WaitReason::none ? yield_to_m : park_to_m,
          park.reason == WaitReason::none ? static_cast<void*>(next) : &req);
    return;
  }
  setgstatus(next, GStatus::runnable, GStatus::running);
  if (!inherit) tick(m->p->schedtick);
  san::leave(&gp->asan_fake, next->stack.lo, next->stack.size, next->tsan_fiber, next);
  // Resumed later by g0's gogo or by another handoff, perhaps on another M.
  resumed(gp, ctx_ontop(next->ctx, &req, handoff_commit));
}

void gopark(UnlockFn unlockf, void* arg, WaitReason reason) {
  G* gp = current_g();
  if (!gp) fatal("%s: cannot park outside a fiber", wait_reason_name(reason));
  if (gp->blocking_depth)
    fatal("%s: cannot park inside weft::blocking()", wait_reason_name(reason));
  ParkReq req{unlockf, arg, reason};
  M* m = gp->m;
  p_enter(m);  // mcall (or the handoff's commit, to_user) ends it
  bool eligible, inherit;
  if (G* next = handoff_next(gp, m, &eligible, &inherit)) {
    handoff(gp, m, next, inherit, req);
    return;
  }
  mcall(gp, park_m, &req);
}

void goready(G* gp) {
  Sched* s = gp->sched;
  gp->readied_by = __builtin_return_address(0);
  setgstatus(gp, GStatus::waiting, GStatus::runnable);  // P1: the waker owns the G
  if (s->trace) [[unlikely]]
    trace_at(s, TraceEv::ready, gp->id);
  M* m = tls_m;
  if (m && m->sched == s) {
    bool entered = p_enter(m);
    if (P* pp = m->p) {
      runqput(pp, gp, !pp->preempt.load(std::memory_order_relaxed));
      wakep(s);
      p_exit(m, entered);
      return;
    }
    p_exit(m, entered);
  }
  injectg(s, gp);
}

NewG newg(Sched* s, std::size_t stack_size, std::size_t size, std::size_t align) {
  if (s->stopping.load()) return {nullptr, nullptr};
  std::size_t cls = stack_size == 0 ? s->stack_size : StackPool::round_size(stack_size);
  M* m = tls_m;
  bool entered = m && m->sched == s && p_enter(m);
  G* gp = gfget(s, cls);
  if (!gp) {
    gp = new G;
    gp->sched = s;
    gp->tsan_fiber = san::fiber_create();
    gp->stack = s->stacks.alloc(cls);
    std::lock_guard<std::mutex> lk(s->allglock);
    s->allgs.push_back(gp);
  }
  dump_store(gp->id, newgoid(s));
  if (entered) p_exit(m, true);
  void* storage = nullptr;
  if (align < 16) align = 16;
  if (size <= gp->stack.size / 4 && align <= 4096) {
    std::uintptr_t top = reinterpret_cast<std::uintptr_t>(gp->stack.hi());
    storage = reinterpret_cast<void*>((top - size) & ~(std::uintptr_t(align) - 1));
  }
  return {gp, storage};
}

void newproc(Sched* s, G* gp, void (*invoke)(void*), void (*destroy)(void*), void* obj,
             const std::source_location& loc) {
  gp->fn = {invoke, destroy, obj};
  dump_store(gp->spawn_file, loc.file_name());
  dump_store(gp->spawn_line, loc.line());
  dump_store(gp->wait_reason, WaitReason::none);
  char* top = gp->stack.hi();
  char* objc = static_cast<char*>(obj);
  if (objc >= gp->stack.lo && objc < top) top = objc;  // the callable sits at the stack's top
  top = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t(15));
  san::unpoison(gp->stack.lo, std::size_t(top - gp->stack.lo));  // the last user's frames
  set_ctx(gp, ctx_make(top, std::size_t(top - gp->stack.lo), fiber_entry));
  StackPool::canary_arm(gp->stack);
  M* m = tls_m;
  if (m && m->sched != s) m = nullptr;
  bool entered = m && p_enter(m);
  P* mp = m ? m->p : nullptr;
  count_spawn(s, mp);
  if (s->trace) [[unlikely]]
    trace_at(s, TraceEv::spawn, gp->id, 0, gp->spawn_file, gp->spawn_line);
  setgstatus(gp, GStatus::idle, GStatus::runnable);
  if (mp) {
    runqput(mp, gp, !mp->preempt.load(std::memory_order_relaxed));
    wakep(s);
    p_exit(m, entered);
    return;
  }
  if (m) p_exit(m, entered);
  injectg(s, gp);
}

void freeg_unstarted(Sched* s, G* gp) {
  std::lock_guard<Lock> lk(s->lock);
  gfput_global(s, gp);
}

// checkdead is Go's checkdead, called with Sched::lock held whenever an M goes to sleep: if
// every M sleeps, no fiber is in a blocking call, and fibers are still waiting, nothing can ever
// wake them (weft::run has no foreign wakers; timers and the poller will be counted here when
// they exist). Then the program is deadlocked: report it like Go and exit with status 2.
void checkdead(Sched* s) {
  if (!s->detect_deadlock || s->stopping.load()) return;
  int run = s->mcount - s->nmidle - s->nmidlelocked;
  if (run > 0) return;
  if (run < 0) {
    fatal("checkdead: inconsistent thread counts (threads=%d idle=%d idlelocked=%d)", s->mcount,
          s->nmidle, s->nmidlelocked);
  }
  if (timer_next(s) != 0) return;             // a pending timer will wake someone
  if (s->netpoll.waiters.load() > 0) return;  // I/O may still arrive for them
  int waiting = 0;
  {
    std::lock_guard<std::mutex> lk(s->allglock);
    for (G* gp : s->allgs) {
      GStatus st = gp->status.load();
      // A runnable G is on its way to an M being started (a foreign spawn or goready between
      // its queueing and its startm): not dead.
      if (st == GStatus::runnable || st == GStatus::running || st == GStatus::syscall) return;
      if (st == GStatus::waiting) ++waiting;
    }
  }
  if (waiting == 0) return;
  std::fflush(stdout);
  std::fprintf(stderr, "fatal error: all fibers are asleep - deadlock!\n\n");
  dump_fibers_to(s, stderr);
  std::fflush(stderr);
  std::_Exit(2);
}

void set_deadlock_detection(Sched* s, bool on) {
  std::lock_guard<Lock> lk(s->lock);
  s->detect_deadlock = on;
}

// entersyscall: the calling G enters weft::blocking(). Its M gives up the P (status syscall,
// so sysmon may retake it) but keeps a claim on it in M::oldp. Go's entersyscall.
void entersyscall(G* gp) {
  M* m = gp->m;
  Sched* s = gp->sched;
  bool entered = p_enter(m);
  P* pp = m->p;
  if (!pp) {  // sysmon retook it while this G hogged it: nothing to give up
    setgstatus(gp, GStatus::running, GStatus::syscall);
    dump_store(gp->wait_reason, WaitReason::blocking);
    m->oldp = nullptr;
    p_exit(m, entered);
    return;
  }
  tick(pp->syscalltick);
  setgstatus(gp, GStatus::running, GStatus::syscall);
  dump_store(gp->wait_reason, WaitReason::blocking);
  m->oldp = pp;
  m->p = nullptr;
  pp->m.store(nullptr, std::memory_order_release);
  pp->status.store(PStatus::syscall);  // from here sysmon may CAS it away
  if (s->sysmon_idle.load(std::memory_order_relaxed) && s->sysmon_idle.exchange(false)) {
    s->sysmon_wake.fetch_add(1);
    futex_wake(&s->sysmon_wake);  // sysmon was in a long sleep: let it watch this call
  }
  p_exit(m, entered);
}

// exitsyscall: back from weft::blocking(). Take the old P back if sysmon has not retaken it,
// else any idle P, else queue the G and let this M sleep. Go's exitsyscall.
void exitsyscall(G* gp) {
  M* m = gp->m;  // the same thread: blocking() never switches
  Sched* s = gp->sched;
  bool entered = p_enter(m);
  P* oldp = std::exchange(m->oldp, nullptr);
  PStatus st = PStatus::syscall;
  if (oldp && oldp->status.compare_exchange_strong(st, PStatus::running)) {
    m->p = oldp;
    oldp->m.store(m, std::memory_order_release);
    setgstatus(gp, GStatus::syscall, GStatus::running);
    p_exit(m, entered);
    return;
  }
  P* pp;
  {
    std::lock_guard<Lock> lk(s->lock);
    pp = pidleget(s);
  }
  if (pp) {
    acquirep(m, pp);
    setgstatus(gp, GStatus::syscall, GStatus::running);
    p_exit(m, entered);
    return;
  }
  mcall(gp, exitsyscall0, nullptr);  // resumes in user code via gogo
}

BlockingScope::BlockingScope() : g_(current_g()) {
  if (g_ && g_->blocking_depth++ == 0) entersyscall(g_);
}

BlockingScope::~BlockingScope() {
  if (g_ && --g_->blocking_depth == 0) exitsyscall(g_);
}

void wake_timer_sleeper(Sched* s, std::int64_t when) {
  if (s->netpoll.lastpoll.load() == 0) {  // an M blocks in the poller: it is the timer sleeper
    std::int64_t pu = s->netpoll.poll_until.load();
    if (pu == 0 || pu > when) netpollbreak(s);
    return;
  }
  std::int64_t until = s->sleeper_until.load(std::memory_order_relaxed);
  if (until != 0 && until <= when) return;  // the sleeper wakes in time anyway
  if (s->npidle.load() == 0) return;        // every P has an M, which runs timers when it schedules
  M* m;
  {
    std::lock_guard<Lock> lk(s->lock);
    if (s->stopping.load()) return;
    if (s->timer_sleeper && s->sleeper_until.load(std::memory_order_relaxed) <= when) {
      return;
    }
    m = s->timer_sleeper ? s->timer_sleeper : s->midle;
    if (!m) return;  // every M is awake: whichever goes idle next sleeps until the timer
    mremove(s, m);
  }
  notewakeup(&m->park);  // it returns from stopm without a P and re-evaluates
}

namespace {

void sleep_ready(void* arg, std::uintptr_t) { goready(static_cast<G*>(arg)); }

// sleep_commit arms the G's timer once it is parked (Go's resetForSleep): the timer can only
// fire for a G that is already waiting.
bool sleep_commit(G* gp, void*) {
  timer_add(gp->sched, &gp->timer, gp->sleep_when);
  return true;
}

}  // namespace

void sleep_until_ns(std::int64_t when) {
  G* gp = current_g();
  if (!gp) fatal("sleep called outside a fiber");
  if (when <= nanotime()) return;  // Go's Sleep(d <= 0): returns at once, without yielding
  gp->timer.fn = sleep_ready;
  gp->timer.arg = gp;
  gp->timer.period = 0;
  gp->sleep_when = when;
  gopark(sleep_commit, nullptr, WaitReason::sleep);
}

std::int64_t steady_now_ns() { return nanotime(); }

std::uint32_t cheaprand() {
  if (M* m = tls_m) return fastrand(m);
  thread_local std::uint32_t x = 0;
  if (x == 0) x = std::uint32_t(nanotime()) | 1u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

bool sync_can_spin(int iter) {
  // Spinning is worth it only while another P runs the holder and nothing here waits to run.
  constexpr int kActiveSpin = 4;
  M* m = tls_m;
  if (iter >= kActiveSpin || !m || !m->p) return false;
  Sched* s = m->sched;
  static const unsigned ncpu = cpus_allowed();
  if (s->nprocs <= 1 || ncpu <= 1) return false;
  if (s->nprocs <=
      s->npidle.load(std::memory_order_relaxed) + s->nmspinning.load(std::memory_order_relaxed) + 1)
    return false;
  return runqempty(m->p);
}

Sched* current_sched(const char* op) {
  M* m = tls_m;
  if (!m || !m->curg)
    fatal("%s called outside a fiber (use Runtime::spawn from other threads)", op);
  return m->sched;
}

void check_not_fiber(const char* op) {
  if (current_g()) fatal("%s called from a fiber: it would block the fiber's thread", op);
}

void throw_runtime_gone() {
  throw std::runtime_error("weft: the runtime shut down before the fiber finished");
}

// Go's getproccount; std::thread::hardware_concurrency counts every online CPU, affinity or not.
unsigned cpus_allowed() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return unsigned(n);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

Sched::Sched(const Config& c) : cfg(c) {
  long procs = c.procs;
  if (procs == 0) procs = env_int("WEFT_PROCS", 0);
  if (procs <= 0) procs = long(cpus_allowed());
  if (procs <= 0) procs = 1;
  if (procs > 1024) procs = 1024;
  nprocs = int(procs);
  stack_size = StackPool::round_size(c.stack_size ? c.stack_size : WEFT_DEFAULT_STACK_SIZE);
  debug = read_debug_settings();
  max_threads = c.max_threads > 0 ? int(std::min<std::size_t>(c.max_threads, 1000000)) : 10000;
  coarse_now.store(nanotime());
  start_ns = nanotime();
  stacks.init(c.guard_pages);
  install_overflow_handler();
  netpollinit(this);
  timerpool = new TimerPool;
  for (int i = 0; i < nprocs; ++i) {
    P* pp = new P;
    pp->id = i;
    pp->sched = this;
    pp->solo = nprocs == 1;  // runq.hpp R7
    allp.push_back(pp);
  }
  // All Ps start idle; Ms are started on demand (startm) when the first G arrives.
  for (int i = nprocs - 1; i >= 0; --i) pidleput(this, allp[std::size_t(i)]);
  trace = trace_open();
  sched_register(this);
  if (c.dump_on_sigquit || debug.sigquit) {
    sigquit = true;
    sigquit_enable();
  }
  sysmon_start(this);
}

Sched::~Sched() {
  sched_unregister(this);  // first: a SIGQUIT dump or a debugger must not find it half gone
  if (sigquit) sigquit_disable();
  stopping.store(true);
  sysmon_stop(this);  // joined already after a shutdown(); a bare Sched (tests) stops it here
  trace_close(this);  // every M and sysmon has stopped: flush their buffers and end the file
  netpollfini(this);
  timerpool_destroy(timerpool);
  for (G* gp : allgs) {
    san::fiber_destroy(gp->tsan_fiber);
    delete gp;
  }
  for (P* pp : allp) delete pp;
  for (M* m : allm) delete m;
}

// unwind_all runs on the shutting-down thread as a temporary P-less M: every fiber still queued
// or parked is unwound (see "Lifecycle" above). Fibers that park again while unwinding (in a
// destructor) cannot be finished and are left; their stacks are unmapped with the runtime.
void unwind_all(Sched* s) {
  M um;
  um.id = -1;
  um.sched = s;
  um.eh = thread_eh();
  g0_init(&um);
  EhState saved = *um.eh;  // the shutting-down thread's own exception state
  tls_m = &um;
  for (bool progress = true; progress;) {
    progress = false;
    std::vector<G*> gs;
    {
      std::lock_guard<std::mutex> lk(s->allglock);
      gs = s->allgs;
    }
    for (G* gp : gs) {
      GStatus st = gp->status.load();
      if (st != GStatus::runnable && st != GStatus::waiting) continue;
      if (!gp->started) {
        casgstatus(gp, st, GStatus::dead);
        if (gp->fn.destroy) gp->fn.destroy(gp->fn.obj);
        gp->fn = {};
        count_exit(s, nullptr);
        setgstatus(gp, GStatus::dead, GStatus::idle);
        progress = true;
        continue;
      }
      if (gp->unwinding) continue;  // parked again inside its own unwinding
      gp->unwinding = true;
      casgstatus(gp, st, GStatus::running);
      gp->m = &um;
      um.curg = gp;
      eh_switch(&um, nullptr, gp);
      san::leave(&um.g0_asan_fake, gp->stack.lo, gp->stack.size, gp->tsan_fiber, gp);
      Transfer t = ctx_ontop(gp->ctx, &um, unwind_ontop);
      um.curg = nullptr;
      if (t.data)
        fatal("unwind: fiber %llu asked to run another fiber",
              static_cast<unsigned long long>(gp->id));
      progress = true;
    }
  }
  tls_m = nullptr;
  *um.eh = saved;
}

}  // namespace weft::detail

// ---- public API ----

namespace weft {

using namespace detail;

void yield() {
  G* gp = current_g();
  if (!gp) fatal("yield called outside a fiber");
  M* m = gp->m;
  if (gp->blocking_depth) fatal("yield called inside weft::blocking()");
  bool entered = p_enter(m);
  // The handoff applies when schedule() would simply take the next G from this P's ring.
  bool eligible, inherit;
  if (G* next = handoff_next(gp, m, &eligible, &inherit)) {
    handoff(gp, m, next, inherit, ParkReq{nullptr, nullptr, WaitReason::none});
    return;
  }
  if (eligible) {  // nothing else runnable here: schedule() would pick gp again
    canary_check(gp, __builtin_frame_address(0));  // a switch-out in all but name
    p_exit(m, entered);
    return;
  }
  mcall(gp, gosched_m, nullptr);
}

std::uint64_t fiber_id() { return current_goid(); }

bool in_fiber() { return current_g() != nullptr; }

void lock_os_thread() {
  G* gp = current_g();
  if (!gp) fatal("lock_os_thread called outside a fiber");
  if (gp->locked++ == 0) {
    dump_store(gp->lockedm, gp->m);
    gp->m->lockedg = gp;
  }
}

void unlock_os_thread() {
  G* gp = current_g();
  if (!gp) fatal("unlock_os_thread called outside a fiber");
  if (gp->locked == 0) return;  // as Go: unlocking an unlocked fiber does nothing
  if (--gp->locked == 0) {
    gp->m->lockedg = nullptr;
    dump_store(gp->lockedm, static_cast<M*>(nullptr));
  }
}

void dump_fibers(std::ostream& os) {
  G* gp = current_g();
  if (!gp) fatal("dump_fibers(std::ostream&) called outside a fiber: use Runtime::dump_fibers");
  Runtime::dump(gp->sched, os);
}

void Runtime::dump_fibers(std::ostream& os) const {
  if (s_) dump(s_, os);
}

void Runtime::dump(detail::Sched* s, std::ostream& os) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  if (!f) return;
  dump_fibers_to(s, f);
  std::fclose(f);
  os.write(buf, std::streamsize(len));
  std::free(buf);
}

Runtime::Runtime(Config cfg) : s_(new Sched(cfg)) {}

Runtime::~Runtime() { shutdown(); }

std::int64_t Runtime::live_fibers() const { return s_ ? live_count(s_) : 0; }

void Runtime::shutdown() {
  Sched* s = s_;
  if (!s) return;
  if (tls_m && tls_m->sched == s) fatal("Runtime::shutdown called from one of its own fibers");
  std::vector<M*> ms;
  {
    std::lock_guard<Lock> lk(s->lock);
    s->stopping.store(true);
    while (M* m = mget(s)) {
      m->nextp = nullptr;
      notewakeup(&m->park);
    }
    for (M* m : s->allm) {
      if (m->parked_locked) {
        m->parked_locked = false;
        m->nextp = nullptr;
        notewakeup(&m->park);
      }
    }
    ms = s->allm;  // complete: newm runs under the lock and refuses once stopping is set
  }
  netpollbreak(s);  // an M blocked in the poller
  sysmon_stop(s);
  for (M* m : ms) {
    if (m->thread.joinable()) m->thread.join();
  }
  unwind_all(s);
  delete s;
  s_ = nullptr;
}

}  // namespace weft
