// fd_mutex: the descriptor lock and close-deferral of one network fd. Go's
// src/internal/poll/fd_mutex.go; the state word and rules F1-F5 are in fd_mutex.hpp.
#include "fd_mutex.hpp"

#include "debug.hpp"

namespace weft::net::detail {

namespace {

constexpr std::uint64_t kClosed = 1ull << 0;
constexpr std::uint64_t kRLock = 1ull << 1;
constexpr std::uint64_t kWLock = 1ull << 2;
constexpr std::uint64_t kRef = 1ull << 3;
constexpr std::uint64_t kRefMask = ((1ull << 20) - 1) << 3;
constexpr std::uint64_t kRWait = 1ull << 23;
constexpr std::uint64_t kRMask = ((1ull << 20) - 1) << 23;
constexpr std::uint64_t kWWait = 1ull << 43;
constexpr std::uint64_t kWMask = ((1ull << 20) - 1) << 43;

[[noreturn]] void overflow() {
  weft::detail::fatal(
      "fdMutex: too many concurrent operations on a single file or socket (max 1048575)");
}

}  // namespace

bool FdMutex::incref() {
  for (;;) {
    std::uint64_t old = state_.load();
    if (old & kClosed) return false;
    std::uint64_t nw = old + kRef;
    if ((nw & kRefMask) == 0) overflow();
    if (state_.compare_exchange_weak(old, nw)) return true;
  }
}

bool FdMutex::increfAndClose() {
  for (;;) {
    std::uint64_t old = state_.load();
    if (old & kClosed) return false;
    std::uint64_t nw = (old | kClosed) + kRef;
    if ((nw & kRefMask) == 0) overflow();
    nw &= ~(kRMask | kWMask);  // F3: every waiter is taken out of the counts ...
    if (state_.compare_exchange_weak(old, nw)) {
      for (; old & kRMask; old -= kRWait)
        weft::detail::semrelease1(&rsema_, false);  // ... and woken
      for (; old & kWMask; old -= kWWait) weft::detail::semrelease1(&wsema_, false);
      return true;
    }
  }
}

bool FdMutex::decref() {
  for (;;) {
    std::uint64_t old = state_.load();
    if ((old & kRefMask) == 0) weft::detail::fatal("fdMutex: inconsistent poll.fdMutex (decref)");
    std::uint64_t nw = old - kRef;
    if (state_.compare_exchange_weak(old, nw)) return (nw & (kClosed | kRefMask)) == kClosed;
  }
}

bool FdMutex::rwlock(bool read) {
  const std::uint64_t bit = read ? kRLock : kWLock;
  const std::uint64_t wait = read ? kRWait : kWWait;
  const std::uint64_t mask = read ? kRMask : kWMask;
  std::atomic<std::uint32_t>* sema = read ? &rsema_ : &wsema_;
  for (;;) {
    std::uint64_t old = state_.load();
    if (old & kClosed) return false;
    std::uint64_t nw;
    if ((old & bit) == 0) {  // free: take it
      nw = (old | bit) + kRef;
      if ((nw & kRefMask) == 0) overflow();
    } else {  // held: count ourselves as a waiter (F3)
      nw = old + wait;
      if ((nw & mask) == 0) overflow();
    }
    if (state_.compare_exchange_weak(old, nw)) {
      if ((old & bit) == 0) return true;
      weft::detail::semacquire1(sema, false, weft::detail::WaitReason::io_wait);
      // The releaser took us out of the waiter count; compete for the bit again.
    }
  }
}

bool FdMutex::rwunlock(bool read) {
  const std::uint64_t bit = read ? kRLock : kWLock;
  const std::uint64_t wait = read ? kRWait : kWWait;
  const std::uint64_t mask = read ? kRMask : kWMask;
  std::atomic<std::uint32_t>* sema = read ? &rsema_ : &wsema_;
  for (;;) {
    std::uint64_t old = state_.load();
    if ((old & bit) == 0 || (old & kRefMask) == 0) {
      weft::detail::fatal("fdMutex: inconsistent poll.fdMutex (unlock of an unlocked %s lock)",
                          read ? "read" : "write");
    }
    std::uint64_t nw = (old & ~bit) - kRef;
    if (old & mask) nw -= wait;
    if (state_.compare_exchange_weak(old, nw)) {
      if (old & mask) weft::detail::semrelease1(sema, false);
      return (nw & (kClosed | kRefMask)) == kClosed;
    }
  }
}

}  // namespace weft::net::detail
