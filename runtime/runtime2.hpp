// runtime2: the scheduler's data structures — G (fiber), M (OS thread), P (processor), Sched.
// Follows Go's src/runtime/runtime2.go.
//
// Lock order (the only place it is written down): Sched::lock, then Sched::allglock; the
// process-wide allsched_lock (debug.hpp), then Sched::allglock. Nothing else is held while
// taking Sched::lock. Trace (trace.cpp): Sched::lock, then Trace::buf_lock, then
// Trace::file_lock; nothing is taken while holding either of the trace's locks. Run-queue rings and
// runnext are lock-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <weft/weft.hpp>

#include "context.hpp"
#include "debug.hpp"
#include "lock_futex.hpp"
#include "netpoll.hpp"
#include "os_linux.hpp"
#include "stack.hpp"
#include "timer.hpp"
#include "trace.hpp"

namespace weft::detail {

struct M;
struct P;
struct Sched;
struct TimerPool;

// GStatus: the life of a fiber. Each state names who owns the G (and so may change it) and which
// queue, if any, holds it. Every change goes through casgstatus() (a CAS) or, where only the
// owner can make it, setgstatus() (a checked load and a release store); both check the old state.
enum class GStatus : std::uint32_t {
  idle,  // on a free list (P::gfree or Sched::gfree); no code runs on its stack. Owner: the list.
  runnable,  // on a run queue (a P's ring, its runnext, or Sched::runq) or being handed to an M by
             // whoever just dequeued it; ctx holds its saved registers. Owner: the queue/dequeuer.
  running,   // executing on M `m`, which holds a P. Owner: the G itself (and its M).
  waiting,   // parked by gopark; ctx is valid; the wait structure that unlockf published it to
             // owns it and is the only one allowed to goready() it.
  syscall,   // in weft::blocking(): running on its M's thread, which has given up its P (the P
             // may be retaken by sysmon). Owner: the G and its M. On no queue.
  dead,      // returned from its function; g0 of its last M is recycling it (gfput).
};

const char* gstatus_name(GStatus s);

// WaitReason: why a G is parked, for dumps. Go's waitReason strings.
enum class WaitReason : std::uint8_t {
  none,
  park,              // "park": a bare gopark (tests, low-level primitives)
  io_wait,           // "IO wait"
  chan_receive,      // "chan receive"
  chan_send,         // "chan send"
  select,            // "select"
  sleep,             // "sleep"
  mutex_lock,        // "sync.Mutex.Lock"
  blocking,          // "blocking call"
  chan_send_nil,     // "chan send (nil chan)"
  chan_receive_nil,  // "chan receive (nil chan)"
  select_no_cases,   // "select (no cases)"
  rwmutex_rlock,     // "sync.RWMutex.RLock"
  rwmutex_lock,      // "sync.RWMutex.Lock"
  waitgroup_wait,    // "sync.WaitGroup.Wait"
  cond_wait,         // "sync.Cond.Wait"
  semacquire,        // "semacquire" (weft::Semaphore, sync.Once)
};

const char* wait_reason_name(WaitReason r);

// EhState: the C++ runtime's per-thread exception-handling globals (libstdc++'s
// __cxa_eh_globals: the caught-exceptions stack and the uncaught count). A fiber that switches
// out inside a catch block, or while an exception is in flight, and resumes on another thread
// must take them along, or __cxa_end_catch pops another thread's list. Saved and restored at
// every switch; a thread's own (g0's) state is empty while a fiber runs on it.
struct EhState {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

// FiberFn: the type-erased callable a G runs; it lives on the G's stack (or the heap, if large).
struct FiberFn {
  void (*invoke)(void*) = nullptr;   // runs the callable and destroys it
  void (*destroy)(void*) = nullptr;  // destroys it unrun (shutdown before the G ever ran)
  void* obj = nullptr;
};

// dump_load / dump_store: the fields a fiber dump reads from another thread (id, spawn site,
// wait_reason, wait_since, lockedm) are written by their G and read racily by the dump, which
// cannot stop the G from running again while it looks. Relaxed atomic accesses through
// std::atomic_ref keep that race defined (the dump may show a stale value, never a torn one); they
// compile to plain moves. G::ctx uses them too (set_ctx), for runq_prefetch's hint (runq.hpp R8).
// These are hints only: no such access publishes data, so none has a pair.
template <class T>
inline T dump_load(const T& field) {
  return std::atomic_ref<T>(const_cast<T&>(field)).load(std::memory_order_relaxed);
}
template <class T>
inline void dump_store(T& field, T v) {
  std::atomic_ref<T>(field).store(v, std::memory_order_relaxed);
}

// G: a fiber. Fields are owned by whoever owns the G per GStatus unless marked otherwise.
// G objects are type-stable: allocated in Sched::allgs and never freed while the runtime lives,
// so a stale G* never points at unmapped memory (Go keeps its allgs forever for the same reason).
struct G {
  // ctx: its saved registers while not running. Written with set_ctx (a relaxed atomic store,
  // a plain move): runq_prefetch reads it from a G it does not own (runq.hpp R8).
  Ctx ctx = nullptr;
  std::atomic<GStatus> status{GStatus::idle};  // atomic: casgstatus; read racily by dumps
  WaitReason wait_reason = WaitReason::none;   // written with dump_store, read by dumps
  bool started = false;    // its function has begun running (false: fresh context)
  bool unwinding = false;  // shutdown is unwinding it with ForcedUnwind
  std::uint64_t id = 0;    // goid; new for every spawn
  Stack stack;             // the stack it runs on (kept across reuse when default-sized)
  M* m = nullptr;          // the M running it (valid while running)
  Sched* sched = nullptr;  // its runtime; fixed for the G's life
  FiberFn fn;
  std::int64_t wait_since = 0;  // nanotime() at park, for dumps (dump_store)
  const char* spawn_file = "";  // std::source_location of the go()/spawn() call
  unsigned spawn_line = 0;
  M* lockedm =
      nullptr;  // lock_os_thread: the only M allowed to run it; owned by the G (dump_store)
  std::uint32_t locked = 0;          // lock_os_thread nesting depth; owned by the G
  std::uint32_t blocking_depth = 0;  // nested weft::blocking() calls; owned by the G
  M* lastm = nullptr;  // the M it last switched out from (WEFT_DEBUG=migrate); owned by the G
  EhState eh;          // its C++ exception-handling state while switched out; owned by the G
  void* asan_fake = nullptr;    // ASan: its fake stack while switched out (sanitizer.hpp)
  void* tsan_fiber = nullptr;   // TSan: its fiber context; created with the G, never changes
  Timer timer;                  // sleep_for/sleep_until; type-stable with the G (timer.hpp T4)
  std::int64_t sleep_when = 0;  // deadline for the park in sleep_until; owned by the G
  // select_state: (select sequence << 1) | done. The G bumps the sequence with done = 0 before
  // enqueueing a select's sudogs; the first waker to CAS done 0 -> 1 (a channel operation that
  // dequeued one of its sudogs, or its on_after timer for that sequence) owns the wakeup
  // (Go's g.selectDone). seq_cst.
  std::atomic<std::uint64_t> select_state{0};
  // param: the sudog that completed this G's wait (Go's g.param), null for a timeout. Written by
  // the waker before goready, read by the G after it runs again (goready orders them).
  void* param = nullptr;
  // readied_by: the return address of the last goready of this G (its caller), for the
  // diagnostics of a wakeup that should not have happened. Written by the waker before its
  // status CAS; read by the G after it runs again.
  void* readied_by = nullptr;
};

inline void set_ctx(G* gp, Ctx c) { dump_store(gp->ctx, c); }

// GQueue: the global run queue (FIFO), a growable ring of G pointers. An array rather than a
// list linked through the Gs (Go's gQueue): taking a batch then reads consecutive pointers
// instead of chasing a link through each G, whose lines are cold when many fibers are queued
// (skynet spent a tenth of its time in that chase). It doubles when full and never shrinks:
// 8 bytes per G of the longest queue the runtime has had. Not thread-safe: Sched::lock guards
// it, and growing (the only allocation) happens under that lock; out of memory is fatal.
class GQueue {
 public:
  GQueue() = default;
  GQueue(const GQueue&) = delete;
  GQueue& operator=(const GQueue&) = delete;
  ~GQueue() { delete[] buf_; }
  bool empty() const { return n_ == 0; }
  std::size_t size() const { return n_; }
  void push_back(G* gp) {
    if (n_ == cap_) grow();
    buf_[(head_ + n_) & (cap_ - 1)] = gp;
    ++n_;
  }
  G* pop_front() {
    if (n_ == 0) return nullptr;
    G* gp = buf_[head_];
    head_ = (head_ + 1) & (cap_ - 1);
    --n_;
    return gp;
  }

 private:
  void grow();  // runq.cpp
  G** buf_ = nullptr;
  std::size_t cap_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;
  std::size_t n_ = 0;
};

constexpr std::size_t kPGfreeMax = 64;  // a P's free-G cache spills half beyond this

// GStack: free Gs, LIFO (the most recently used stacks, still in cache, are reused first), as
// a growable array of G pointers rather than a list linked through the Gs: moving a batch
// between a P and the global lists, or the cold bottom to the scavenger, copies pointers
// instead of chasing a link through each (cold) G, and the next G to reuse is known without
// touching the one taken, so gfget can prefetch it. It doubles when full and never shrinks.
// Not thread-safe: its owner guards it; out of memory is fatal.
class GStack {
 public:
  GStack() = default;
  GStack(const GStack&) = delete;
  GStack& operator=(const GStack&) = delete;
  ~GStack() { delete[] buf_; }
  bool empty() const { return n_ == 0; }
  std::size_t size() const { return n_; }
  void push(G* gp) {
    if (n_ == cap_) grow(n_ + 1);
    buf_[n_++] = gp;
  }
  G* pop() { return n_ == 0 ? nullptr : buf_[--n_]; }
  G* top() const { return n_ == 0 ? nullptr : buf_[n_ - 1]; }  // the next pop's, or null
  // take_top moves the n topmost Gs of from (n <= from.size()) onto this one, in order.
  void take_top(GStack& from, std::size_t n);
  // take_bottom moves the n oldest Gs of from (n <= from.size()) onto this one, in order, and
  // shifts the rest of from down: a memmove of 8 bytes per G left (the scavenger's pass does
  // it under Sched::lock; the list walk it replaces touched a cold G per element).
  void take_bottom(GStack& from, std::size_t n);
  G* const* begin() const { return buf_; }
  G* const* end() const { return buf_ + n_; }

 private:
  void grow(std::size_t need);  // runq.cpp
  G** buf_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t n_ = 0;
};

enum class PStatus : std::uint32_t {
  idle,      // on Sched::pidle (or being handed to an M by startm/handoffp). Owner: Sched::lock.
  running,   // owned by an M (P::m), which runs Gs from it.
  syscall,   // its M is in weft::blocking() (M::oldp); P::m is null. Whoever CASes it away from
             // syscall owns it: the M on return (-> running) or sysmon's retake (-> idle).
  retaking,  // sysmon is taking it from an M whose G hogs it (sysmon.cpp); the owner M may CAS it
             // back to running at its next runtime entry (p_enter), sysmon may CAS it to idle.
  dead,      // runtime shut down.
};

constexpr std::uint32_t kRunqSize = 256;

// P: a processor. Holds what an M needs to run Gs. Owned by the M in P::m while running.
struct P {
  int id = 0;
  std::atomic<PStatus> status{PStatus::idle};  // written by its owner or under Sched::lock
  // owner M; written by acquirep/releasep and by sysmon's retake (release), read by the owner's
  // p_enter after the status (acquire).
  std::atomic<M*> m{nullptr};
  // preempt: the G chain running here has used up its time slice (set by sysmon after 10 ms
  // without a new schedtick); a G readied now goes to the tail, not runnext. Cleared when a new
  // time slice starts. Relaxed: a hint.
  std::atomic<bool> preempt{false};
  P* link = nullptr;  // Sched::pidle list; guarded by Sched::lock
  // Ticks: incremented by the M holding this P at each schedule / each blocking call; read by
  // sysmon (relaxed: it only compares them with its own earlier reading).
  std::atomic<std::uint32_t> schedtick{0};
  std::atomic<std::uint32_t> syscalltick{0};
  // handoffs: switches made straight from a G to the next one (yield or park, proc.cpp H1) by
  // the M holding this P; read by tests (relaxed, like the ticks).
  std::atomic<std::uint64_t> handoffs{0};

  // The local run queue: a single-producer (the owner), multi-consumer (owner and thieves) ring.
  // runqtail: written only by the owner with release; read by thieves with acquire.
  // runqhead: CAS by any consumer; CAS-release commits a consume, load-acquire pairs with it.
  // runq slots: written by the owner before its tail release; read by thieves after their tail
  // acquire. A thief may read a slot the owner is overwriting, but then its head CAS fails and the
  // value is discarded, so slots are relaxed atomics (the race is benign and TSan-visible as such).
  std::atomic<std::uint32_t> runqhead{0};
  std::atomic<std::uint32_t> runqtail{0};
  // solo: the only P of its runtime, so no thief can exist (runq.hpp R7). Set at creation.
  bool solo = false;
  std::atomic<G*> runq[kRunqSize];
  // runnext: a G readied by the running G; it runs next and inherits the time slice.
  // atomic: put by the owner (runqput: store or exchange, runq.hpp R5), cleared by CAS by the
  // owner (runqget) and by thieves (runqgrab, last round only). nextgen: the owner's puts into
  // runnext (R6), relaxed. Their own cache line: the owner writes them on every ready-then-park,
  // spinning Ms read them.
  alignas(64) std::atomic<G*> runnext{nullptr};
  std::atomic<std::uint32_t> nextgen{0};

  // Dead Gs with default-size stacks, ready for reuse. Owned by the M holding this P.
  alignas(64) GStack gfree;

  // goid batch (Go's goidcache): ids [goidcache, goidcacheend) are this P's to hand out.
  std::uint64_t goidcache = 0, goidcacheend = 0;  // owned by the M holding this P
  // Fibers spawned on / exited on this P. Single writer (the owner), release stores; read by
  // Runtime::live_fibers with acquire (exits first: see live_count in proc.cpp).
  std::atomic<std::int64_t> nspawned{0}, nexited{0};

  // Timers (timer.hpp): a 4-ary min-heap guarded by timers_lock; timer0_when is its earliest
  // `when` (0: empty), stored under the lock, read without it as a hint (T3).
  Lock timers_lock;
  std::vector<Timer*> timers;
  std::atomic<std::int64_t> timer0_when{0};

  Sched* sched = nullptr;
};

// M: an OS thread that runs Gs while it holds a P. Its own stack is g0, the scheduler stack.
struct M {
  int id = 0;
  Sched* sched = nullptr;
  Ctx g0ctx = nullptr;  // g0's saved context while a G runs; written by the G on each resume
  G* curg = nullptr;    // the G running on this M; owned by this M
  TraceBuf* trace =
      nullptr;         // WEFT_TRACE: its event buffer (trace.hpp), null when off; owned by this M
  P* p = nullptr;      // the P held; owned by this M
  P* nextp = nullptr;  // P handed over by startm before notewakeup; read after notesleep
  bool spinning = false;  // this M is looking for work; counted in Sched::nmspinning
  M* link = nullptr;      // Sched::midle list; guarded by Sched::lock
  P* oldp = nullptr;      // the P it had before entering a blocking call; owned by this M
  G* lockedg = nullptr;   // lock_os_thread: the G this M is wired to; written by that G
  G* nextg = nullptr;     // a G handed over with nextp (migrate); read after notesleep
  EhState* eh = nullptr;  // this thread's __cxa_eh_globals
  // in_runtime: false only while user code of a G runs here holding a P. Written by this M with
  // plain (relaxed) stores and compiler fences; read by sysmon after membarrier(), which supplies
  // the CPU fence for both sides (the asymmetric Dekker protocol in sysmon.cpp).
  std::atomic<bool> in_runtime{true};
  // Sanitizers (sanitizer.hpp): g0's stack, its ASan fake stack and TSan fiber; `arrived`: a
  // commit running on the resumed G's stack has already announced the arrival.
  const void* g0_lo = nullptr;
  std::size_t g0_size = 0;
  void* g0_asan_fake = nullptr;
  void* g0_tsan = nullptr;
  bool arrived = false;
  bool parked_locked = false;  // asleep in stoplockedm; guarded by Sched::lock
  bool on_midle = false;       // on Sched::midle; guarded by Sched::lock
  std::vector<G*> ready;       // scratch for netpoll results; owned by this M
  Note park;                   // stopm sleeps here; startm wakes it
  std::uint32_t fastrand = 0;
  std::thread thread;  // started by newm; joined by shutdown
  void* sigaltstack = nullptr;
};

// Sched: one runtime instance (Go's schedt plus its globals). No process-wide mutable state.
struct Sched {
  Config cfg;
  DebugSettings debug;         // WEFT_DEBUG, read at construction
  std::size_t stack_size = 0;  // resolved default stack size
  int nprocs = 0;              // GOMAXPROCS
  Trace* trace = nullptr;      // WEFT_TRACE (trace.hpp), null when off; fixed until ~Sched

  Lock lock;                             // Sched::lock: guards everything below marked so
  GQueue runq;                           // global run queue; guarded by lock
  std::atomic<std::size_t> runqsize{0};  // mirrors runq.size; written under lock, read racily
  M* midle = nullptr;                    // idle Ms; guarded by lock
  int nmidle = 0;                        // guarded by lock
  int nmidlelocked = 0;                  // Ms parked in stoplockedm; guarded by lock
  bool detect_deadlock = false;          // weft::run's checkdead is on; guarded by lock
  // The idle M sleeping until the earliest timer (stopm), if any, and that deadline; guarded
  // by lock (sleeper_until also read racily by wake_timer_sleeper as a hint).
  M* timer_sleeper = nullptr;
  std::atomic<std::int64_t> sleeper_until{0};
  P* pidle = nullptr;              // idle Ps; guarded by lock
  std::atomic<int> npidle{0};      // written under lock; read racily by wakep
  std::atomic<int> nmspinning{0};  // seq_cst: see "spinning" in proc.cpp's top comment
  GStack gfree;                    // free Gs with default-size, resident stacks; guarded by lock
  GStack gfree_clean;              // the same whose stacks were released (StackPool::release); lock
  std::size_t gfree_low = 0;       // smallest gfree.size() since the last scavenge; guarded by lock
  std::atomic<std::size_t> nscavenged{0};  // stacks released by scavenge_stacks, ever
  // Held for a whole scavenge_stacks pass (taken before lock, never under it): passes do not
  // overlap, so a pass that returns has seen every earlier pass's releases counted.
  std::mutex scavlock;
  std::unordered_map<std::size_t, GStack> gfree_sized;  // other stack sizes; lock
  std::vector<M*> allm;                                 // guarded by lock
  int mcount = 0;                                       // guarded by lock
  std::atomic<bool> stopping{false};                    // set once by shutdown
  int max_threads = 10000;  // Config::max_threads (Go's maxmcount); fixed after construction

  // sysmon (sysmon.cpp): its thread, its wakeup word (futex), and the coarse clock it keeps.
  std::thread sysmon;
  std::atomic<std::uint32_t> sysmon_wake{0};  // bumped (and futex-woken) to wake sysmon early
  std::atomic<bool> sysmon_idle{false};       // sysmon is in a long sleep; entersyscall wakes it
  std::atomic<std::int64_t> coarse_now{0};    // nanotime() as of sysmon's last tick
  // npreempt: time slices sysmon has ended (P::preempt set, or a hogged P retaken), ever.
  // Written by sysmon only; read by tests that need a run free of preemption (relaxed).
  std::atomic<std::uint64_t> npreempt{0};
  std::int64_t start_ns = 0;  // nanotime() at construction (schedtrace); fixed

  TimerPool* timerpool = nullptr;  // weft::Timer & co. (time.hpp); created and destroyed with us
  Netpoll netpoll;  // the network poller (netpoll.hpp); its fields say what guards them

  std::vector<P*> allp;  // fixed after construction

  std::mutex allglock;    // guards allgs
  std::vector<G*> allgs;  // every G ever allocated; never shrinks while the runtime lives

  std::atomic<std::uint64_t> goidgen{0};  // hands out goid batches to Ps (and single ids)
  // Spawns and exits counted off any P (foreign threads, shutdown); see P::nspawned.
  std::atomic<std::int64_t> nspawned{0}, nexited{0};

  StackPool stacks;

  Sched* allsched_next =
      nullptr;           // the list of live runtimes (debug.hpp); guarded by allsched_lock
  bool sigquit = false;  // counted in the SIGQUIT dump's users; fixed after construction

  explicit Sched(const Config& c);
  ~Sched();  // frees Gs, Ps and Ms; the caller has joined every M
};

}  // namespace weft::detail
