// parkslot: a binary semaphore one fiber waits on and anyone signals — the pattern of Go's
// pollDesc rg/wg (src/runtime/netpoll.go), kept separate so tests and tools can use it directly.
//
// state is one atomic word:
//   kEmpty (0)   nobody waits, no signal pending
//   kReady (1)   a signal is pending; the next wait consumes it without parking
//   G*           that G is parked waiting
// Transitions (every one by CAS; seq_cst, so the G* store in the park commit and the waker's
// load of it are ordered as P1/P2 in proc.cpp require):
//   wait:   kReady -> kEmpty (consume, no park) | kEmpty -> G* (commit, in unlockf, on g0, after
//           the G's context is saved) | on commit, kReady -> kEmpty (signal raced in: don't park)
//   signal: kEmpty -> kReady | kReady stays | G* -> kEmpty, then goready(G)
// Invariants: at most one waiter (a second wait while a G is parked is a fatal error); a signal
// is never lost (it is either consumed by the waiter or wakes it); a G is readied at most once
// per park (only the CAS that removes G* from the word may goready it).
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

struct G;

struct ParkSlot {
  std::atomic<std::uintptr_t> state{0};
};

// parkslot_wait returns once a signal is (or was already) pending, consuming it.
void parkslot_wait(ParkSlot* ps);
// parkslot_signal makes a signal pending or wakes the waiter. Any thread.
void parkslot_signal(ParkSlot* ps);

}  // namespace weft::detail
