// proc: the scheduler — G lifecycle, park/ready, the per-M schedule loop, Ms and Ps.
// Follows Go's src/runtime/proc.go. The protocol essay is at the top of proc.cpp.
#pragma once

#include <cstdio>

#include "runtime2.hpp"

namespace weft::detail {

// tls_m: the M running on this thread (null on threads that are not Ms). Initial-exec TLS, so
// every access re-reads %fs (a fiber may resume on another thread; see DESIGN.md "Fibers move
// between threads"). Code that switches contexts must not reuse a value read before the switch.
extern thread_local M* tls_m __attribute__((tls_model("initial-exec")));

inline G* current_g() {
  M* m = tls_m;
  return m ? m->curg : nullptr;
}
std::uint64_t current_goid();

// casgstatus moves gp from `from` to `to` by CAS; any other current state is a fatal error. For
// transitions another thread may race (shutdown's unwinding claims a parked G; the poller's
// readying without a P).
void casgstatus(G* gp, GStatus from, GStatus to);

// setgstatus is casgstatus for transitions only the G's owner (GStatus) can make: a checked
// load and a release store, no locked instruction. Release pairs with the acquire of whoever
// next takes ownership through a queue or wait structure.
inline void setgstatus(G* gp, GStatus from, GStatus to) {
  if (gp->status.load(std::memory_order_relaxed) != from) [[unlikely]] {
    casgstatus(gp, from, to);  // reports the bad state
  }
  gp->status.store(to, std::memory_order_release);
}

// UnlockFn runs on g0 after the parking G's registers are saved (Go's gopark unlockf). Returning
// false resumes the G at once. It must read everything it needs from `arg` before publishing gp
// (making it findable by a waker): `arg` may live on gp's stack, which another M may resume.
using UnlockFn = bool (*)(G* gp, void* arg);

// gopark parks the calling fiber with `reason` until someone goready()s it. Calling it outside a
// fiber is a fatal error naming the wait reason.
void gopark(UnlockFn unlockf, void* arg, WaitReason reason);

// goready makes a parked G runnable. Callable from fibers, g0 and foreign threads.
void goready(G* gp);

// cheaprand: a fast pseudo-random number (select's poll order, sema's treap-free tie breaks);
// per-M state on Ms, per-thread elsewhere. Not for anything that needs real randomness.
std::uint32_t cheaprand();

// sync_can_spin says whether a fiber contending for a sync.Mutex may spin (iteration `iter`)
// instead of parking: more than one P, another P running, this P's queue empty, fewer than 4
// rounds so far. Go's sync_runtime_canSpin.
bool sync_can_spin(int iter);

// cpus_allowed: the CPUs in this thread's affinity mask (what Config::procs = 0 uses), >= 1.
unsigned cpus_allowed();

// MCallFn runs on g0 after gp's registers are saved; it returns a G to run at once, or null to
// schedule. Go's mcall(fn).
using MCallFn = G* (*)(G* gp, void* arg);
void mcall(G* gp, MCallFn fn, void* arg);

// handoffp finds a home for a P nobody owns (status idle, on no list): an M if it has work,
// else the idle list. Go's handoffp.
void handoffp(Sched* s, P* pp);

// time_slices_off: while true, sysmon ends no time slice in any runtime (neither the soft
// preempt flag nor a hog retake). For tests that check an order of events which holds only
// while no slice ends, on machines too loaded to run them within one 10 ms slice. sysmon reads
// it relaxed: a flag that publishes no data has no pair; a change is seen within a tick.
extern std::atomic<bool> time_slices_off;

// scavenge_stacks returns to the kernel the stacks of free Gs that stayed unused since the last
// call, keeping the most recently freed resident. Called by sysmon about once a second; returns
// how many stacks it released. Passes are serialized (Sched::scavlock).
std::size_t scavenge_stacks(Sched* s);

// dump_fibers_to writes every live fiber to out: id, state or wait reason, minutes waited, the
// M it is locked to (while not running), spawn site.
void dump_fibers_to(Sched* s, std::FILE* out);

// wake_timer_sleeper makes sure some idle M will wake by `when` for a timer just added: it
// wakes the M sleeping until a later timer, or an idle M to take that role (stopm).
void wake_timer_sleeper(Sched* s, std::int64_t when);

// checkdead reports a deadlock and exits (status 2) when every M sleeps and fibers still wait;
// Sched::lock must be held. Go's checkdead.
void checkdead(Sched* s);

// sysmon_start/sysmon_stop run the runtime's monitor thread (sysmon.cpp).
void sysmon_start(Sched* s);
void sysmon_stop(Sched* s);

}  // namespace weft::detail
