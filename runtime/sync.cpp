// sync: Mutex, RWMutex, WaitGroup, Cond and Semaphore on the runtime's address semaphores.
// Follows Go's src/sync/mutex.go, rwmutex.go, waitgroup.go, cond.go and runtime/sema.go's
// notifyList.
//
// Mutex (Go's two modes, state bits in sync.hpp):
//  M1. Normal mode: a woken waiter does not own the mutex, it competes with arriving fibers
//      (which have the advantage of running already); the woken bit tells unlock that a waiter
//      is awake, so it need not wake another. A waiter that lost queues at the front (LIFO).
//  M2. A waiter that has waited more than 1 ms sets starving. In starvation mode unlock hands
//      the mutex straight to the front waiter (semrelease1 with handoff) without clearing the
//      locked bit's meaning: the waiter owns it on waking; newcomers neither spin nor take it,
//      they queue at the tail. The last waiter, or one that waited < 1 ms, ends starvation.
//  M3. The waiter count changes only by CAS of the whole word, so the locked, woken and
//      starving bits are never out of step with it.
// Cond (Go's notifyList):
//  N1. wait_ hands out tickets; notify_ is the next ticket to wake. A fiber takes its ticket
//      before unlocking the user's mutex, so a signal after that unlock is aimed at it or at an
//      earlier waiter, never lost and never taken by a later waiter.
//  N2. Parked waiters are listed under lock_ with their ticket; signal wakes the ticket notify_
//      pointed at (if that fiber has not parked yet, it sees notify_ past its ticket and does
//      not park).
#include <weft/sync.hpp>
#include <weft/weft.hpp>

#include <cstdint>

#include "chan.hpp"
#include "debug.hpp"
#include "lock_futex.hpp"
#include "proc.hpp"
#include "sema.hpp"

namespace weft {

using namespace detail;

namespace {

constexpr std::int64_t kStarvationThresholdNs = 1'000'000;  // Go's starvationThresholdNs
constexpr int kActiveSpinCnt = 30;                          // Go's active_spin_cnt

}  // namespace

// ---- Mutex ----

void Mutex::lock_slow() {
  std::int64_t wait_start = 0;
  bool starving = false;
  bool awoke = false;
  int iter = 0;
  std::int32_t old = state_.load();
  for (;;) {
    // Spin while the holder runs and the mutex is not starving (M2: no spinning then).
    if ((old & (kLocked | kStarving)) == kLocked && sync_can_spin(iter)) {
      // Set woken so that unlock does not wake another waiter while we spin.
      if (!awoke && (old & kWoken) == 0 && (old >> kWaiterShift) != 0 &&
          state_.compare_exchange_strong(old, old | kWoken)) {
        awoke = true;
      }
      procyield(kActiveSpinCnt);
      ++iter;
      old = state_.load();
      continue;
    }
    std::int32_t next = old;
    if ((old & kStarving) == 0) next |= kLocked;  // don't grab a starving mutex (M2)
    if (old & (kLocked | kStarving)) next += 1 << kWaiterShift;
    if (starving && (old & kLocked)) next |= kStarving;
    if (awoke) {
      if ((next & kWoken) == 0) fatal("sync: inconsistent mutex state");
      next &= ~kWoken;
    }
    if (!state_.compare_exchange_strong(old, next)) continue;  // old reloaded by the CAS
    if ((old & (kLocked | kStarving)) == 0) return;            // taken by the CAS
    bool queue_lifo = wait_start != 0;                         // M1: a waiter that lost
    if (wait_start == 0) wait_start = nanotime();
    semacquire1(&sema_, queue_lifo, WaitReason::mutex_lock);
    starving = starving || nanotime() - wait_start > kStarvationThresholdNs;
    old = state_.load();
    if (old & kStarving) {
      // Handed to us (M2): the locked bit is still clear and our waiter unit still counted.
      if ((old & (kLocked | kWoken)) || (old >> kWaiterShift) == 0)
        fatal("sync: inconsistent mutex state");
      std::int32_t delta = kLocked - (1 << kWaiterShift);
      if (!starving || (old >> kWaiterShift) == 1) delta -= kStarving;  // leave starvation
      state_.fetch_add(delta);
      return;
    }
    awoke = true;
    iter = 0;
  }
}

void Mutex::unlock_slow(std::int32_t now) {
  if (((now + kLocked) & kLocked) == 0) fatal("sync: unlock of unlocked mutex");
  if ((now & kStarving) == 0) {
    std::int32_t old = now;
    for (;;) {
      // Nobody to wake, or a waiter is already awake / someone took the lock (M1).
      if ((old >> kWaiterShift) == 0 || (old & (kLocked | kWoken | kStarving))) return;
      std::int32_t next = (old - (1 << kWaiterShift)) | kWoken;
      if (state_.compare_exchange_strong(old, next)) {
        semrelease1(&sema_, false);
        return;
      }
    }
  }
  semrelease1(&sema_, true);  // M2: hand off to the front waiter
}

// ---- RWMutex ----

void RWMutex::rlock_slow() { semacquire1(&reader_sem_, false, WaitReason::rwmutex_rlock); }

bool RWMutex::try_lock_shared() noexcept {
  std::int32_t c = reader_count_.load();
  while (c >= 0) {
    if (reader_count_.compare_exchange_weak(c, c + 1)) return true;
  }
  return false;
}

void RWMutex::runlock_slow(std::int32_t r) {
  if (r + 1 == 0 || r + 1 == -kMaxReaders) fatal("sync: RUnlock of unlocked RWMutex");
  // A writer is waiting: the last reader it waits for wakes it.
  if (reader_wait_.fetch_sub(1) - 1 == 0) semrelease1(&writer_sem_, false);
}

void RWMutex::lock() {
  w_.lock();  // first, exclude other writers
  // Announce the writer to readers; r readers are still inside.
  std::int32_t r = reader_count_.fetch_sub(kMaxReaders);
  if (r != 0 && reader_wait_.fetch_add(r) + r != 0)
    semacquire1(&writer_sem_, false, WaitReason::rwmutex_lock);
}

bool RWMutex::try_lock() {
  if (!w_.try_lock()) return false;
  std::int32_t z = 0;
  if (!reader_count_.compare_exchange_strong(z, -kMaxReaders)) {
    w_.unlock();
    return false;
  }
  return true;
}

void RWMutex::unlock() {
  std::int32_t r = reader_count_.fetch_add(kMaxReaders) + kMaxReaders;
  if (r >= kMaxReaders) fatal("sync: Unlock of unlocked RWMutex");
  for (std::int32_t i = 0; i < r; ++i) semrelease1(&reader_sem_, false);  // blocked readers
  w_.unlock();
}

// ---- WaitGroup ----

void WaitGroup::add(std::int64_t delta) {
  if (delta < INT32_MIN || delta > INT32_MAX) fatal("sync: WaitGroup delta out of range");
  std::uint64_t state = state_.fetch_add(std::uint64_t(delta) << 32) + (std::uint64_t(delta) << 32);
  std::int32_t v = std::int32_t(state >> 32);
  std::uint32_t w = std::uint32_t(state);
  if (v < 0) fatal("sync: negative WaitGroup counter");
  if (w != 0 && delta > 0 && v == std::int32_t(delta))
    fatal("sync: WaitGroup misuse: Add called concurrently with Wait");
  if (v > 0 || w == 0) return;
  // The counter reached zero with waiters: nobody may change the state now but us.
  if (state_.load() != state) fatal("sync: WaitGroup misuse: Add called concurrently with Wait");
  state_.store(0);
  for (; w != 0; --w) semrelease1(&sema_, false);
}

void WaitGroup::wait() {
  std::uint64_t state = state_.load();
  for (;;) {
    if ((state >> 32) == 0) return;
    if (state_.compare_exchange_weak(state, state + 1)) {
      semacquire1(&sema_, false, WaitReason::waitgroup_wait);
      if (state_.load() != 0) fatal("sync: WaitGroup is reused before previous Wait has returned");
      return;
    }
  }
}

// ---- Cond (N1, N2) ----

namespace {

struct CondWaiter {
  G* g;
  std::uint32_t ticket;
  CondWaiter* next;
};

// less(a, b): ticket a comes before b, allowing for wraparound (Go's less).
bool ticket_less(std::uint32_t a, std::uint32_t b) { return std::int32_t(a - b) < 0; }

bool cond_unlock(G*, void* arg) {
  key_unlock(static_cast<std::atomic<std::uint32_t>*>(arg));
  return true;
}

}  // namespace

void Cond::wait(std::unique_lock<Mutex>& lk) {
  if (!lk.owns_lock()) fatal("sync: Cond.Wait without holding the lock");
  G* gp = current_g();
  if (!gp) fatal("%s: cannot park outside a fiber", wait_reason_name(WaitReason::cond_wait));
  std::uint32_t t = wait_.fetch_add(1);  // N1: before unlocking
  lk.unlock();
  key_lock(&lock_);
  if (ticket_less(t, notify_.load())) {  // already notified
    key_unlock(&lock_);
    lk.lock();
    return;
  }
  CondWaiter me{gp, t, nullptr};
  if (tail_) {
    static_cast<CondWaiter*>(tail_)->next = &me;
  } else {
    head_ = &me;
  }
  tail_ = &me;
  try {
    gopark(cond_unlock, &lock_, WaitReason::cond_wait);
  } catch (const ForcedUnwind&) {
    key_lock(&lock_);
    CondWaiter* prev = nullptr;
    for (auto* w = static_cast<CondWaiter*>(head_); w; prev = w, w = w->next) {
      if (w != &me) continue;
      if (prev) {
        prev->next = w->next;
      } else {
        head_ = w->next;
      }
      if (tail_ == w) tail_ = prev;
      break;
    }
    key_unlock(&lock_);
    throw;
  }
  lk.lock();
}

void Cond::signal() {
  // Fast path: no waiter since the last notification (Go's notifyListNotifyOne).
  if (wait_.load() == notify_.load()) return;
  key_lock(&lock_);
  std::uint32_t t = notify_.load();
  if (t == wait_.load()) {
    key_unlock(&lock_);
    return;
  }
  notify_.store(t + 1);
  CondWaiter* prev = nullptr;
  for (auto* w = static_cast<CondWaiter*>(head_); w; prev = w, w = w->next) {
    if (w->ticket != t) continue;
    if (prev) {
      prev->next = w->next;
    } else {
      head_ = w->next;
    }
    if (tail_ == w) tail_ = prev;
    G* gp = w->g;  // w dies once its fiber runs
    key_unlock(&lock_);
    goready(gp);
    return;
  }
  key_unlock(&lock_);  // N2: ticket t has not parked yet; it will see notify_ > t
}

void Cond::broadcast() {
  if (wait_.load() == notify_.load()) return;
  key_lock(&lock_);
  auto* w = static_cast<CondWaiter*>(head_);
  head_ = tail_ = nullptr;
  notify_.store(wait_.load());
  key_unlock(&lock_);
  while (w) {
    CondWaiter* next = w->next;  // read before goready: w dies once its fiber runs
    goready(w->g);
    w = next;
  }
}

// ---- Semaphore ----

void Semaphore::acquire() { semacquire1(&count_, false, WaitReason::semacquire); }

bool Semaphore::try_acquire() noexcept {
  std::uint32_t v = count_.load();
  while (v != 0) {
    if (count_.compare_exchange_weak(v, v - 1)) return true;
  }
  return false;
}

void Semaphore::release(std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) semrelease1(&count_, false);
}

}  // namespace weft
