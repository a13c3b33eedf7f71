// sync: Go's sync package for fibers — Mutex, RWMutex, WaitGroup, Cond, Once, Semaphore.
// Implemented in runtime/sync.cpp on the runtime's semaphores (Go's sync/*.go, runtime/sema.go).
//
// Waiting parks the calling fiber, never its thread; a wait outside a fiber is a fatal error
// (the uncontended paths — try_lock, a free Mutex, WaitGroup::add/done, release — work from any
// thread). Misuse Go panics on (unlocking an unlocked Mutex, a negative WaitGroup counter) prints
// a `weft: ...` message naming the fiber and aborts. None of these types may be copied or moved
// while in use; like Go's, their zero state is ready to use.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <utility>

namespace weft {

// Mutex: mutual exclusion (Go's sync.Mutex), std Lockable (std::lock_guard, std::unique_lock,
// std::scoped_lock). Contenders spin briefly while the holder runs on another processor, then
// park in FIFO order; a woken waiter competes with newcomers, and once one has waited more than
// 1 ms the mutex turns to starvation mode, handing ownership directly from unlock to the oldest
// waiter until the queue drains (Go's normal and starvation modes).
class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // lock parks the calling fiber until the mutex is free. try_lock takes it only if it is free
  // now (false also while it is in starvation mode). unlock releases it; any fiber or thread may
  // unlock (there is no owner, as in Go), but unlocking an unlocked Mutex is a fatal error.
  void lock() {
    std::int32_t z = 0;
    if (state_.compare_exchange_strong(z, kLocked, std::memory_order_acquire)) return;
    lock_slow();
  }
  bool try_lock() noexcept {
    std::int32_t old = state_.load(std::memory_order_relaxed);
    if (old & (kLocked | kStarving)) return false;
    return state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire);
  }
  void unlock() {
    std::int32_t now = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
    if (now != 0) unlock_slow(now);
  }

 private:
  friend class RWMutex;
  // state_: bit 0 locked, bit 1 woken (a waiter is awake: unlock need not wake another), bit 2
  // starving, bits 3.. the number of parked waiters (Go's mutexLocked/Woken/Starving). The fast
  // paths' acquire CAS pairs with unlock's release fetch_sub; the slow paths are seq_cst.
  // sema_: the semaphore waiters park on (semacquire1 / semrelease1).
  static constexpr std::int32_t kLocked = 1;
  static constexpr std::int32_t kWoken = 2;
  static constexpr std::int32_t kStarving = 4;
  static constexpr int kWaiterShift = 3;

  void lock_slow();
  void unlock_slow(std::int32_t now);

  std::atomic<std::int32_t> state_{0};
  std::atomic<std::uint32_t> sema_{0};
};

// RWMutex: a reader/writer mutex (Go's sync.RWMutex), std SharedLockable (std::shared_lock).
// A writer waiting in lock() keeps new readers out, so writers are not starved.
class RWMutex {
 public:
  constexpr RWMutex() noexcept = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // lock / try_lock / unlock: the writer's side (Go's Lock, TryLock, Unlock); lock waits for
  // the readers inside to leave. lock_shared / try_lock_shared / unlock_shared: a reader's side
  // (RLock, TryRLock, RUnlock). Unlocking what is not locked is a fatal error.
  void lock();
  bool try_lock();
  void unlock();
  void lock_shared() {
    if (reader_count_.fetch_add(1) + 1 < 0) rlock_slow();
  }
  bool try_lock_shared() noexcept;
  void unlock_shared() {
    std::int32_t r = reader_count_.fetch_sub(1) - 1;
    if (r < 0) runlock_slow(r);
  }

 private:
  static constexpr std::int32_t kMaxReaders = 1 << 30;
  void rlock_slow();
  void runlock_slow(std::int32_t r);

  Mutex w_;                                    // held by a writer (or one waiting for readers)
  std::atomic<std::uint32_t> writer_sem_{0};   // a writer waits here for readers to leave
  std::atomic<std::uint32_t> reader_sem_{0};   // readers wait here for the writer to leave
  std::atomic<std::int32_t> reader_count_{0};  // readers; minus kMaxReaders while a writer holds
  std::atomic<std::int32_t> reader_wait_{0};   // readers the waiting writer still waits for
};

// WaitGroup waits for a collection of fibers to finish (Go's sync.WaitGroup): add(n) before
// starting them, done() in each, wait() until the counter is zero. A negative counter, and add
// racing with wait on a zero counter, are fatal errors with Go's messages. Reusable once wait
// has returned.
class WaitGroup {
 public:
  constexpr WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // add adds delta (which may be negative) to the counter, waking the waiters when it reaches
  // zero; done is add(-1); wait parks the calling fiber until the counter is zero.
  void add(std::int64_t delta);
  void done() { add(-1); }
  void wait();

 private:
  std::atomic<std::uint64_t> state_{0};  // counter << 32 | waiters
  std::atomic<std::uint32_t> sema_{0};
};

// Cond: a condition variable for weft::Mutex (Go's sync.Cond). wait atomically unlocks the lock
// and parks; it returns with the lock held. Wakeups are FIFO by ticket: signal wakes the fiber
// that has waited longest, and a fiber that starts waiting after a signal cannot take it.
class Cond {
 public:
  constexpr Cond() noexcept = default;
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // wait(lk) unlocks lk's Mutex, parks until signalled, and locks it again before returning
  // (lk must own its lock: a fatal error otherwise). Like Go's, a wakeup does not mean the
  // condition holds: wait in a loop, or use wait(lk, pred), which loops until pred() is true.
  // signal wakes the longest waiter, broadcast every waiter; both work from any thread and
  // need not hold the lock.
  void wait(std::unique_lock<Mutex>& lk);
  template <class Pred>
  void wait(std::unique_lock<Mutex>& lk, Pred pred) {
    while (!pred()) wait(lk);
  }
  void signal();
  void broadcast();

 private:
  // Go's notifyList: tickets handed out by wait_ (atomic), the next to notify in notify_
  // (atomic, written under lock_), the parked waiters in ticket order (under lock_).
  std::atomic<std::uint32_t> wait_{0};
  std::atomic<std::uint32_t> notify_{0};
  std::atomic<std::uint32_t> lock_{0};
  void* head_ = nullptr;
  void* tail_ = nullptr;
};

// Once runs a function once (Go's sync.Once): the first call(f) runs f, concurrent callers wait
// until it has returned, later calls return at once. If f throws, the exception reaches its
// caller and the Once still counts as done (as Go's does when f panics).
class Once {
 public:
  constexpr Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // call runs f if no call has run it yet (Go's Do); done says whether one has finished.
  template <class F>
  void call(F&& f) {
    if (done_.load(std::memory_order_acquire) == 0) call_slow(std::forward<F>(f));
  }
  bool done() const noexcept { return done_.load(std::memory_order_acquire) != 0; }

 private:
  template <class F>
  void call_slow(F&& f) {
    std::lock_guard<Mutex> lk(m_);
    if (done_.load(std::memory_order_relaxed) != 0) return;
    struct Done {
      std::atomic<std::uint32_t>& d;
      ~Done() { d.store(1, std::memory_order_release); }
    } mark{done_};
    std::invoke(std::forward<F>(f));
  }

  std::atomic<std::uint32_t> done_{0};  // release store after f pairs with call's acquire load
  Mutex m_;                             // serializes the first callers
};

// Semaphore: a counting semaphore of fibers. acquire waits for a unit (FIFO), release returns
// units. The count starts at `initial`.
class Semaphore {
 public:
  explicit constexpr Semaphore(std::uint32_t initial = 0) noexcept : count_(initial) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // acquire parks the calling fiber until a unit is free and takes it; try_acquire takes one
  // only if one is free now; release returns n units, waking as many waiters (any thread);
  // available is the count now (racy).
  void acquire();
  bool try_acquire() noexcept;
  void release(std::uint32_t n = 1);
  std::uint32_t available() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint32_t> count_;
};

}  // namespace weft
