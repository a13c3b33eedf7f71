// runq: run queues — each P's lock-free 256-slot ring plus runnext, and the global queue.
// Follows Go's src/runtime/proc.go (runqput, runqget, runqgrab, runqsteal, globrunqput/get).
//
// Invariants:
//  R1. Only the M holding P puts into P's ring (runqput); any M may take from it (the owner with
//      runqget, thieves with runqgrab), by CAS on runqhead. So tail - head is in [0, 256].
//  R2. A slot [h, t) is published by the owner's release store of runqtail after writing the
//      slot; a consumer reads slots after an acquire load of runqtail and owns them only once its
//      CAS-release of runqhead from h succeeds (then nobody else got them).
//  R3. A G is on at most one queue: the ring, runnext, the global queue, or in a thief's batch
//      being moved into the thief's own ring (invisible to others until its tail release).
//  R4. The global queue and runqsize change only under Sched::lock; runqsize may be read racily
//      as a hint, never as a proof of emptiness.
//  R5. runnext: only the owner makes it non-null; thieves and the owner's runqget only clear it,
//      by CAS from the G they read. So an owner that reads null there reads the truth, and puts
//      with a plain release store (no locked instruction on the ready-then-park path); a
//      non-null runnext is replaced by exchange, which tells the owner whether a thief took the
//      old one first.
//  R6. nextgen counts the owner's puts into runnext. A thief backs off (3 µs) before taking the
//      runnext of a running P and takes it only if nextgen did not move meanwhile: a P whose Gs
//      keep readying each other and parking (a ping-pong pair) is making progress, and stealing
//      from it would split the pair across Ps and threads. This is a heuristic only: any steal
//      is correct, so nextgen is read and written relaxed.
//  R7. With one P (procs = 1) there are no thieves: findrunnable steals only when nprocs > 1,
//      always into the stealing M's own P, and a P changes owner only through acquirep/releasep
//      (release/acquire). So a solo P's owner takes from its ring and runnext with plain stores
//      instead of CAS: a yield or a channel hand-off at procs = 1 then needs no locked
//      instruction for its run queue at all.
//  R8. Prefetch hints: after the owner takes slot h from its ring, it peeks at slots h+1 and
//      h+2 (only if below the tail it read) without owning them, and prefetches what switching to
//      them touches first: the G of h+2, and for h+1 the stack lines around its saved context
//      (G::ctx, read with a relaxed load; its G was prefetched one take earlier) and, for an
//      unguarded stack, the line of its canary (checked when it switches out). A thief may
//      take and run those Gs meanwhile; Gs are type-stable (never freed while the runtime
//      lives) and a prefetch never faults, so a stale peek costs a wasted prefetch and nothing
//      else. Fresh and long-parked fibers have cold stacks: without this, the first load of a
//      switch to one (its saved MXCSR) missed in cache on every spawn.
#pragma once

#include "runtime2.hpp"

namespace weft::detail {

// runqput puts gp on P's queue; with next, into runnext (kicking the old runnext to the tail).
// When the ring is full, half of it moves to the global queue. Called by P's owner only.
void runqput(P* pp, G* gp, bool next);
// runqget takes a G from P's queue: runnext first (*inherit = true: it keeps the time slice).
// Called by P's owner only.
G* runqget(P* pp, bool* inherit);
// runqsteal moves half of p2's ring into pp's and returns one G of them; with steal_runnext it
// may take p2's runnext when the ring is empty. Called by pp's owner.
G* runqsteal(P* pp, P* p2, bool steal_runnext);
// runq_backoff: how a thief waits before taking a running P's runnext (R6): nanosleep 3 µs.
// Tests replace it to act as the victim's owner during the wait.
extern void (*runq_backoff)(P* victim);
bool runqempty(P* pp);
std::uint32_t runqlen(P* pp);

// globrunqput appends gp to the global queue. Sched::lock must be held.
void globrunqput(Sched* s, G* gp);
// globrunqget takes a batch (at most max if max > 0) from the global queue: one is returned, the
// rest go onto pp's ring. Sched::lock must be held.
G* globrunqget(Sched* s, P* pp, int max);

}  // namespace weft::detail
