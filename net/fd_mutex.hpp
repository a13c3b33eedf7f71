// fd_mutex: the lock that serializes access to one network descriptor and defers its close(2)
// until the last operation finished. Go's src/internal/poll/fd_mutex.go, bit for bit.
//
// # The state word (one uint64, changed only by CAS)
//
//   bit 0        closed     set once by increfAndClose; never cleared
//   bit 1        read lock  held by the one reader allowed at a time (rwlock(true))
//   bit 2        write lock held by the one writer allowed at a time (rwlock(false))
//   bits 3..22   refs       20-bit count of operations in progress (incref, and each lock)
//   bits 23..42  rwaiters   20-bit count of fibers parked on rsema for the read lock
//   bits 43..62  wwaiters   20-bit count of fibers parked on wsema for the write lock
//
// Rules:
//  F1. Every operation holds a reference; a closed mutex hands out none (incref/rwlock return
//      false), so nothing new starts after close.
//  F2. Readers serialize with readers and writers with writers; a read and a write proceed
//      together (Go's model: one reader and one writer at a time per descriptor).
//  F3. A waiter counts itself in the state and parks on the semaphore; an unlock clears the
//      lock bit, drops its reference, takes one waiter out of the count and releases it, which
//      then competes for the bit again. increfAndClose takes every waiter out of the counts and
//      releases them all: they wake, see closed, and fail.
//  F4. The operation that drops the last reference of a closed mutex learns it (decref and
//      rwunlock return true) and is the one to call close(2): never while another runs.
//  F5. More than 2^20 - 1 references or waiters, and an unlock of an unlocked mutex, are
//      fatal errors (Go panics: "too many concurrent operations", "inconsistent poll.fdMutex").
#pragma once

#include <atomic>
#include <cstdint>

#include "sema.hpp"

namespace weft::net::detail {

class FdMutex {
 public:
  // incref adds a reference; false if closed.
  bool incref();
  // increfAndClose marks the mutex closed, adds a reference and wakes every waiter; false if
  // it was already closed.
  bool increfAndClose();
  // decref drops a reference; true if that was the last one of a closed mutex (F4).
  bool decref();
  // rwlock takes the read (read = true) or write lock and a reference, parking while another
  // holds it; false if the mutex is or becomes closed.
  bool rwlock(bool read);
  // rwunlock releases the lock and its reference; true as decref.
  bool rwunlock(bool read);

  std::uint64_t state() const { return state_.load(); }

 private:
  std::atomic<std::uint64_t> state_{0};
  // rsema_ / wsema_: the counts the read / write waiters park on (semacquire1 / semrelease1,
  // Go's runtime_Semacquire on fdMutex.rsema / wsema).
  std::atomic<std::uint32_t> rsema_{0}, wsema_{0};
};

}  // namespace weft::net::detail
