// sema: counting semaphores whose waiters are parked fibers. Follows Go's src/runtime/sema.go.
//
// semacquire1/semrelease1 work on any std::atomic<uint32_t> (the count), Go's design: waiters
// are Sudogs (on their fibers' stacks) in a process-wide table of 251 roots, each a lock, a
// waiter count and a binary search tree of the distinct addresses waited on, each tree node
// heading a FIFO list of the other waiters for that address. The sync package and fdMutex
// build on it.
//
// Invariants (guarded by the root's lock unless said otherwise):
//  A1. Each address with waiters has exactly one Sudog in its root's tree (the head, tree_hook
//      linked, key == address); the others are chained from it through waitlink, head->waittail
//      is the last of them (null when the head is alone).
//  A2. root.nwait counts the waiters queued in the root, plus those about to queue. It is raised
//      before a waiter's final check of the count, and a releaser adds to the count before it
//      reads nwait; both seq_cst, so a release either sees the waiter or the waiter sees the
//      release (the Dekker pair Go's comments call "to avoid a missed wakeup").
//  A3. A waiter parks with the root lock held across the switch (released by the park commit),
//      so a releaser only ever dequeues fully parked waiters (proc.cpp P1).
//  A4. A woken waiter retries the count (it may have been taken meanwhile: barging), unless the
//      releaser handed its unit over directly (handoff: ticket = 1), which starvation-mode
//      mutexes use so that the waiter, not a newcomer, gets the lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime2.hpp"

namespace weft::detail {

// semacquire1 waits until *addr > 0 and decrements it (Go's semacquire1). lifo: queue at the
// head of the address's waiters (a mutex waiter that already waited once). Outside a fiber it
// is a fatal error once it would have to wait.
void semacquire1(std::atomic<std::uint32_t>* addr, bool lifo, WaitReason reason);
// semrelease1 increments *addr and wakes the oldest waiter, if any (Go's semrelease1). handoff:
// give the unit directly to that waiter and yield to it. Any thread (no yield off fibers).
void semrelease1(std::atomic<std::uint32_t>* addr, bool handoff);

}  // namespace weft::detail
