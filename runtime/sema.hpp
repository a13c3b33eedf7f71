// sema: a counting semaphore whose waiters are parked fibers, woken in FIFO order — Go's
// semacquire/semrelease (src/runtime/sema.go) for one address. Go keys its semaphores by address
// in a global table; weft's users (fdMutex first; the sync package later) own theirs.
//
// Invariants (guarded by Sema::lock):
//  S1. count > 0 only while no fiber waits: a release hands its unit to the oldest waiter
//      instead of counting it.
//  S2. A waiter is queued and parks with the lock held across the switch; the lock is released
//      by the park's unlockf on g0. So a releaser, which dequeues under the lock, only ever
//      sees fully parked waiters (proc.cpp P1) — goready never races a running fiber.
#pragma once

#include <cstdint>

#include "runtime2.hpp"

namespace weft::detail {

using GSemaList = bi::slist<G, bi::member_hook<G, SchedHook, &G::sema_hook>, bi::cache_last<true>,
                            bi::constant_time_size<false>>;

struct Sema {
  Lock lock;
  std::uint32_t count = 0;  // guarded by lock
  GSemaList waiters;        // guarded by lock; FIFO
};

// semacquire takes a unit, parking the calling fiber until one is released.
void semacquire(Sema* s, WaitReason reason);
// semrelease gives a unit: to the oldest waiter, or to the count. Any thread.
void semrelease(Sema* s);

}  // namespace weft::detail
