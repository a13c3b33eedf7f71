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
// yield() takes a shorter road when it can (handoff): the yielding G dequeues the next G from
// its own P itself and switches straight to it with ctx_ontop, and the commit that mcall would
// run on g0 — record the yielder's context, make it runnable, put it on the ring — runs on the
// next G's stack before that G resumes. One switch instead of two; the ownership rules are the
// same, since the yielder is published only by the commit, after its registers are saved. A G
// that has never run cannot take an ontop call (its context has no frame to return into), so
// for it the handoff goes through g0 with the next G already chosen (yield_to_m).
//
// # Parking: gopark / goready (the "check, then sleep" protocol)
//
// gopark(unlockf, arg, reason) is mcall(park_m): on g0, with the G's context already saved,
// park_m sets the G waiting and calls unlockf. unlockf is where the G becomes findable by its
// waker (it releases a lock, or CASes the G into a wait slot). If unlockf returns false (the
// condition it re-checked is already true), park_m makes the G runnable and it runs again at
// once. Therefore:
//  P1. A waker can only see a G that is `waiting` with a saved context: goready's
//      CAS waiting->runnable never races with the G still running on its own stack.
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
// suspension point, so its destructors run.
#include "proc.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "context.hpp"
#include "debug.hpp"
#include "runq.hpp"

#ifndef WEFT_DEFAULT_STACK_SIZE
#define WEFT_DEFAULT_STACK_SIZE (128 * 1024)
#endif

namespace weft::detail {

thread_local M* tls_m __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

constexpr int kMaxMCount = 10000;              // Go's default sched.maxmcount
constexpr std::size_t kPGfreeMax = 64;         // a P's free-G cache spills half beyond this
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

std::uint32_t fastrand(M* m) {
  // xorshift32; owned by the M.
  std::uint32_t x = m->fastrand;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  m->fastrand = x;
  return x;
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
  ++s->nmidle;
}

M* mget(Sched* s) {
  M* m = s->midle;
  if (m) {
    s->midle = m->link;
    m->link = nullptr;
    --s->nmidle;
  }
  return m;
}

void acquirep(M* m, P* pp) {
  if (m->p || pp->m) fatal("acquirep: P %d already owned", pp->id);
  m->p = pp;
  pp->m = m;
  pp->status.store(PStatus::running);
}

P* releasep(M* m) {
  P* pp = m->p;
  if (!pp || pp->m != m) fatal("releasep: M %d does not own its P", m->id);
  pp->m = nullptr;
  m->p = nullptr;
  return pp;
}

// newm creates an M that starts with pp. Sched::lock must be held (so shutdown, which sets
// stopping under the lock, sees every M it must join).
void newm(Sched* s, P* pp, bool spinning) {
  if (s->mcount >= kMaxMCount) {
    fatal("thread limit: %d Ms exist (Go's maxmcount); too many fibers in blocking calls?",
          s->mcount);
  }
  M* m = new M;
  m->id = s->mcount++;
  m->sched = s;
  m->nextp = pp;
  m->spinning = spinning;
  m->fastrand = 0x9e3779b9u * std::uint32_t(m->id + 1);
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

// stopm parks the M until startm hands it a P, or shutdown wakes it without one.
void stopm(M* m) {
  Sched* s = m->sched;
  if (m->p) fatal("stopm: M %d holds a P", m->id);
  if (m->spinning) fatal("stopm: M %d is spinning", m->id);
  {
    std::lock_guard<Lock> lk(s->lock);
    if (s->stopping.load()) return;
    mput(s, m);
  }
  notesleep(&m->park);
  noteclear(&m->park);
  if (m->nextp) {
    acquirep(m, m->nextp);
    m->nextp = nullptr;
  }
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

// gfget takes a free G whose stack is of class cls: from the caller's P when it has one in s,
// else from the global lists, preferring Gs whose stacks are still resident.
G* gfget(Sched* s, std::size_t cls) {
  M* m = tls_m;
  P* pp = (m && m->sched == s) ? m->p : nullptr;
  if (cls == s->stack_size && pp) {
    if (pp->gfree.empty()) {
      std::lock_guard<Lock> lk(s->lock);
      while (pp->gfree.size() < kPGfreeMax / 2) {
        G* gp = pop_front(s->gfree);
        if (!gp) gp = pop_front(s->gfree_clean);
        if (!gp) break;
        pp->gfree.push_front(*gp);
      }
    }
    return pop_front(pp->gfree);
  }
  std::lock_guard<Lock> lk(s->lock);
  if (cls == s->stack_size) {
    G* gp = pop_front(s->gfree);
    return gp ? gp : pop_front(s->gfree_clean);
  }
  auto it = s->gfree_sized.find(cls);
  return it == s->gfree_sized.end() ? nullptr : pop_front(it->second);
}

// gfput_global puts a free G on the global lists; Sched::lock must be held. At most
// kGlobalDirtyMax default-size Gs keep resident stacks there (the most recently freed, which are
// the next reused); beyond that their pages go back to the kernel, so memory does not ratchet
// after a burst of fibers.
void gfput_global(Sched* s, G* gp) {
  if (gp->stack.cls == s->stack_size) {
    if (s->gfree.size() < kGlobalDirtyMax) {
      s->gfree.push_front(*gp);
    } else {
      StackPool::release(gp->stack);
      s->gfree_clean.push_front(*gp);
    }
    return;
  }
  GFreeList& l = s->gfree_sized[gp->stack.cls];
  if (l.size() >= kGlobalDirtyMax / 64) StackPool::release(gp->stack);
  l.push_front(*gp);
}

// gfput returns a dead G (with its stack) to the caller's P, spilling half to the global lists
// when the P holds too many.
void gfput(Sched* s, P* pp, G* gp) {
  setgstatus(gp, GStatus::dead, GStatus::idle);
  if (gp->stack.cls == s->stack_size && pp) {
    pp->gfree.push_front(*gp);
    if (pp->gfree.size() < kPGfreeMax) return;
    std::lock_guard<Lock> lk(s->lock);
    while (pp->gfree.size() > kPGfreeMax / 2) gfput_global(s, pop_front(pp->gfree));
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
  Transfer t = ctx_jump(gp->ctx, m);
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
  MCallFn fn = r->fn;
  void* arg = r->arg;
  gp->ctx = t.ctx;
  canary_check(gp, t.ctx);
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
  M* m = static_cast<M*>(t.data);
  m->g0ctx = t.ctx;
  G* gp = m->curg;
  run_fiber(gp);
  mcall(gp, goexit0, nullptr);
  fatal("goexit returned");
}

Transfer unwind_ontop(Transfer t) {  // runs on the G's stack, on top of its suspension point
  M* m = static_cast<M*>(t.data);
  m->g0ctx = t.ctx;
  throw ForcedUnwind{};
}

G* park_m(G* gp, void* arg) {
  ParkReq r = *static_cast<ParkReq*>(arg);  // copy: arg lives on gp's stack (see UnlockFn)
  gp->wait_reason = r.reason;
  setgstatus(gp, GStatus::running, GStatus::waiting);
  if (r.unlockf && !r.unlockf(gp, r.arg)) {
    setgstatus(gp, GStatus::waiting, GStatus::runnable);  // never published: still ours
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
  if (s->runqsize.load(std::memory_order_relaxed) == 0) {
    runqput(gp->m->p, gp, false);
    return nullptr;
  }
  std::lock_guard<Lock> lk(s->lock);
  globrunqput(s, gp);
  return nullptr;
}

struct HandoffReq {
  G* gp;    // the yielding G
  G* next;  // the G it hands its M to
  M* m;
};

// yield_commit runs on next's stack, on top of its suspension point, right after the switch.
Transfer yield_commit(Transfer t) {
  auto* r = static_cast<HandoffReq*>(t.data);  // on gp's stack: read it all before publishing gp
  G* gp = r->gp;
  G* next = r->next;
  M* m = r->m;
  gp->ctx = t.ctx;
  canary_check(gp, t.ctx);
  next->m = m;
  m->curg = next;
  setgstatus(gp, GStatus::running, GStatus::runnable);
  runqput(m->p, gp, false);  // publishes gp
  return {m->g0ctx, m};      // next resumes as if g0 had resumed it
}

// yield_to_m: the handoff through g0, for a next G that has never run.
G* yield_to_m(G* gp, void* next) {
  setgstatus(gp, GStatus::running, GStatus::runnable);
  runqput(gp->m->p, gp, false);
  return static_cast<G*>(next);
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
  P* pp = m->p;
  if (G* gp = runqget(pp, inherit)) return gp;
  if (s->runqsize.load(std::memory_order_relaxed) != 0) {
    std::lock_guard<Lock> lk(s->lock);
    if (G* gp = globrunqget(s, pp, 0)) return gp;
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
        if (G* gp = runqsteal(pp, p2, round == 3)) return gp;
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
    G* gp = next;
    bool inherit = true;
    if (!gp) {
      if (s->stopping.load(std::memory_order_relaxed)) {
        findrunnable(m, &inherit);  // releases the P
        return;
      }
      P* pp = m->p;
      if (pp->schedtick % 61 == 0 && s->runqsize.load(std::memory_order_relaxed) != 0) {
        std::lock_guard<Lock> lk(s->lock);
        gp = globrunqget(s, pp, 1);
        inherit = false;
      }
      if (!gp) gp = runqget(pp, &inherit);
      if (!gp) gp = findrunnable(m, &inherit);
      if (!gp) return;
      if (m->spinning) resetspinning(m);
    }
    setgstatus(gp, GStatus::runnable, GStatus::running);
    if (!inherit) ++m->p->schedtick;
    next = gogo(m, gp);
  }
}

void mstart(M* m) {
  tls_m = m;
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

void mcall(G* gp, MCallFn fn, void* arg) {
  MCallReq req{gp, fn, arg};
  Transfer t = ctx_ontop(gp->m->g0ctx, &req, mcall_switch);
  // Resumed, perhaps on another M: gogo handed us that M and set gp->m.
  static_cast<M*>(t.data)->g0ctx = t.ctx;
}

void gopark(UnlockFn unlockf, void* arg, WaitReason reason) {
  G* gp = current_g();
  if (!gp) fatal("%s: cannot park outside a fiber", wait_reason_name(reason));
  ParkReq req{unlockf, arg, reason};
  mcall(gp, park_m, &req);
}

void goready(G* gp) {
  Sched* s = gp->sched;
  casgstatus(gp, GStatus::waiting, GStatus::runnable);
  M* m = tls_m;
  if (m && m->sched == s && m->p) {
    runqput(m->p, gp, true);
    wakep(s);
    return;
  }
  P* pp;
  {
    std::lock_guard<Lock> lk(s->lock);
    globrunqput(s, gp);
    pp = pidleget(s);
  }
  if (pp) startm(s, pp, false);  // S4
}

NewG newg(Sched* s, std::size_t stack_size, std::size_t size, std::size_t align) {
  if (s->stopping.load()) return {nullptr, nullptr};
  std::size_t cls = stack_size == 0 ? s->stack_size : StackPool::round_size(stack_size);
  G* gp = gfget(s, cls);
  if (!gp) {
    gp = new G;
    gp->sched = s;
    gp->stack = s->stacks.alloc(cls);
    std::lock_guard<std::mutex> lk(s->allglock);
    s->allgs.push_back(gp);
  }
  gp->id = newgoid(s);
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
  gp->spawn_file = loc.file_name();
  gp->spawn_line = loc.line();
  gp->wait_reason = WaitReason::none;
  char* top = gp->stack.hi();
  char* objc = static_cast<char*>(obj);
  if (objc >= gp->stack.lo && objc < top) top = objc;  // the callable sits at the stack's top
  top = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t(15));
  gp->ctx = ctx_make(top, std::size_t(top - gp->stack.lo), fiber_entry);
  StackPool::canary_arm(gp->stack);
  M* m = tls_m;
  count_spawn(s, (m && m->sched == s) ? m->p : nullptr);
  setgstatus(gp, GStatus::idle, GStatus::runnable);
  if (m && m->sched == s && m->p) {
    runqput(m->p, gp, true);
    wakep(s);
    return;
  }
  P* pp;
  {
    std::lock_guard<Lock> lk(s->lock);
    globrunqput(s, gp);
    pp = pidleget(s);
  }
  if (pp) startm(s, pp, false);  // S4
}

void freeg_unstarted(Sched* s, G* gp) {
  std::lock_guard<Lock> lk(s->lock);
  gfput_global(s, gp);
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

Sched::Sched(const Config& c) : cfg(c) {
  long procs = c.procs;
  if (procs == 0) procs = env_int("WEFT_PROCS", 0);
  if (procs <= 0) procs = long(std::thread::hardware_concurrency());
  if (procs <= 0) procs = 1;
  if (procs > 1024) procs = 1024;
  nprocs = int(procs);
  stack_size = StackPool::round_size(c.stack_size ? c.stack_size : WEFT_DEFAULT_STACK_SIZE);
  debug = read_debug_settings();
  stacks.init(c.guard_pages);
  install_overflow_handler();
  for (int i = 0; i < nprocs; ++i) {
    P* pp = new P;
    pp->id = i;
    pp->sched = this;
    allp.push_back(pp);
  }
  // All Ps start idle; Ms are started on demand (startm) when the first G arrives.
  for (int i = nprocs - 1; i >= 0; --i) pidleput(this, allp[std::size_t(i)]);
}

Sched::~Sched() {
  for (G* gp : allgs) delete gp;
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
      Transfer t = ctx_ontop(gp->ctx, &um, unwind_ontop);
      um.curg = nullptr;
      if (t.data)
        fatal("unwind: fiber %llu asked to run another fiber",
              static_cast<unsigned long long>(gp->id));
      progress = true;
    }
  }
  tls_m = nullptr;
}

}  // namespace weft::detail

// ---- public API ----

namespace weft {

using namespace detail;

void yield() {
  G* gp = current_g();
  if (!gp) fatal("yield called outside a fiber");
  M* m = gp->m;
  P* pp = m->p;
  Sched* s = gp->sched;
  // The handoff applies when schedule() would simply take the next G from this P's ring: no
  // global backlog (gosched_m queues behind it), no fairness tick due, no shutdown.
  if (s->runqsize.load(std::memory_order_relaxed) != 0 || pp->schedtick % 61 == 0 ||
      s->stopping.load(std::memory_order_relaxed)) {
    mcall(gp, gosched_m, nullptr);
    return;
  }
  bool inherit;
  G* next = runqget(pp, &inherit);
  if (!next) {  // nothing else runnable here: schedule() would pick gp again
    canary_check(gp, __builtin_frame_address(0));  // a switch-out in all but name
    return;
  }
  if (!next->started) {
    mcall(gp, yield_to_m, next);  // schedule() makes it running
    return;
  }
  setgstatus(next, GStatus::runnable, GStatus::running);
  if (!inherit) ++pp->schedtick;
  HandoffReq req{gp, next, m};
  Transfer t = ctx_ontop(next->ctx, &req, yield_commit);
  // Resumed, by g0's gogo or by another handoff, perhaps on another M.
  static_cast<M*>(t.data)->g0ctx = t.ctx;
}

std::uint64_t fiber_id() { return current_goid(); }

bool in_fiber() { return current_g() != nullptr; }

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
    ms = s->allm;  // complete: newm runs under the lock and refuses once stopping is set
  }
  for (M* m : ms) {
    if (m->thread.joinable()) m->thread.join();
  }
  unwind_all(s);
  delete s;
  s_ = nullptr;
}

}  // namespace weft
