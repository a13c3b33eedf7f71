// sysmon: the runtime's monitor thread. It never holds a P. It retakes Ps from Ms stuck in
// blocking calls and keeps a coarse clock for wait times. Follows Go's sysmon and retake in
// src/runtime/proc.go.
//
// Protocol with entersyscall/exitsyscall (proc.cpp): a P whose M is in weft::blocking() has
// status syscall. Whoever moves it away from syscall by CAS owns it: the M on return (-> running)
// or sysmon (-> idle, then handoffp). sysmon retakes only a P it has seen in the *same* blocking
// call (P::syscalltick unchanged) on an earlier tick, so a call is retaken after one to two
// sysmon periods (20 µs while busy); and it leaves a P alone for up to 10 ms when the P has no
// local work and other Ps are idle or spinning (nobody would gain from the handoff).
//
// Time slices. A P whose schedtick has not moved for 10 ms is running one G, or one chain of Gs
// handing the slice on through runnext, too long. sysmon first sets P::preempt: at the next
// goready the readied G goes to the tail instead of runnext, so the chain yields to the rest of
// the queue (this is what keeps Go's TestPingPongHog fair). If 10 ms later the slice has still
// not ended, the G is a CPU hog that never reaches a scheduling point, and sysmon takes its P
// away (retake_hog) so the other Gs on it run on another M; the hog runs on without a P. At
// its next runtime entry it finds the P gone: a yield or park queues the hog itself (global
// queue) and its M stops; a spawn or goready only queues the new G globally, and the hog keeps
// its P-less M until it next yields or parks.
//
// Taking a P from an M that is running user code is an asymmetric Dekker protocol:
//   M (fast side, p_enter in proc.cpp)      sysmon (slow side, retake_hog)
//   in_runtime = true   (plain store)       CAS P.status running -> retaking
//   compiler fence                          membarrier(PRIVATE_EXPEDITED): a full fence on
//   read P.status / P.m                       every CPU running one of our threads
//                                           read M.in_runtime
// Either sysmon sees in_runtime (and backs off, CASing retaking -> running), or the M's later
// read sees retaking. An M that sees retaking CASes it back to running; sysmon then CASes
// retaking -> idle; exactly one CAS wins, and the winner owns the P. The M pays two plain
// stores per runtime entry; sysmon pays one membarrier per retake.
//
// Polling: if fibers wait on I/O and no M has polled for 10 ms (every M busy), sysmon polls
// without blocking and queues what became ready.
//
// Tracing: with WEFT_DEBUG=schedtrace=MS, sysmon prints Go's scheduler line every MS ms. With
// the SIGQUIT dump enabled it also notices the signal's flag and prints the dump (debug.hpp).
//
// Scavenging: about once a second sysmon returns the pages of free fiber stacks that stayed
// unused since its previous pass (scavenge_stacks in proc.cpp), like Go's background scavenger.
//
// Sleep: 20 µs between ticks while it finds work, doubling after 50 idle ticks up to 10 ms.
// During a long sleep (>= 1 ms) Sched::sysmon_idle is set, and entersyscall wakes it (futex on
// Sched::sysmon_wake), so a blocking call after a quiet spell is still handed off promptly.
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

#include "proc.hpp"
#include "runq.hpp"

namespace weft::detail {

namespace {

constexpr std::int64_t kRetakeIdleNs = 10'000'000;   // leave a work-less P alone this long
constexpr std::int64_t kTimeSliceNs = 10'000'000;    // Go's forcePreemptNS
constexpr std::int64_t kScavengeNs = 1'000'000'000;  // stacks unused this long go back
constexpr std::int64_t kPollNs = 10'000'000;  // poll for I/O waiters if nobody has for this long

struct PWatch {  // sysmon's own record of a P; owned by sysmon
  std::uint32_t syscalltick = 0;
  std::int64_t syscallwhen = 0;
  std::uint32_t schedtick = 0;
  std::int64_t schedwhen = 0;
  bool soft = false;  // P::preempt was set for the current slice
};

// membarrier_ready registers the process for MEMBARRIER_CMD_PRIVATE_EXPEDITED once; without it
// (kernels before 4.14) hogs are only flagged, never retaken.
bool membarrier_ready() {
  static const bool ok = [] {
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0;
  }();
  return ok;
}

// retake_hog takes pp from the M running a hog G (see the protocol above). True if it did.
bool retake_hog(Sched* s, P* pp) {
  M* hm = pp->m.load(std::memory_order_acquire);
  if (!hm || hm->in_runtime.load(std::memory_order_acquire) || !membarrier_ready()) return false;
  PStatus st = PStatus::running;
  if (!pp->status.compare_exchange_strong(st, PStatus::retaking)) return false;
  syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
  if (hm->in_runtime.load(std::memory_order_acquire)) {
    st = PStatus::retaking;
    pp->status.compare_exchange_strong(st, PStatus::running);  // fails if the M reclaimed it
    return false;
  }
  st = PStatus::retaking;
  if (!pp->status.compare_exchange_strong(st, PStatus::idle)) return false;  // the M won
  pp->m.store(nullptr, std::memory_order_release);
  if (s->trace) [[unlikely]]
    trace_event_other(s->trace, kTraceSysmonTid, TraceEv::handoff, 0, std::uint64_t(pp->id),
                      nullptr, 1);
  handoffp(s, pp);
  return true;
}

void sleep_us(Sched* s, std::uint32_t seen, std::int64_t us) {
  timespec ts{time_t(us / 1000000), long(us % 1000000) * 1000};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&s->sysmon_wake),
          FUTEX_WAIT | FUTEX_PRIVATE_FLAG, seen, &ts, nullptr, 0);
}

// retake hands off Ps stuck in blocking calls; returns how many.
int retake(Sched* s, std::int64_t now, std::vector<PWatch>& watch) {
  int n = 0;
  for (P* pp : s->allp) {
    PWatch& w = watch[std::size_t(pp->id)];
    PStatus st = pp->status.load();
    if (st == PStatus::running) {
      if (time_slices_off.load(std::memory_order_relaxed)) continue;
      std::uint32_t t = pp->schedtick.load(std::memory_order_relaxed);
      // A new slice since we last looked — or the first look at this P: its slice starts now,
      // not at time 0 (a P just acquired, before its first schedule, was preempted at once).
      if (w.schedtick != t || w.schedwhen == 0) {
        w.schedtick = t;
        w.schedwhen = now;
        w.soft = false;
        continue;
      }
      if (now - w.schedwhen < kTimeSliceNs) continue;
      if (!w.soft) {
        pp->preempt.store(true, std::memory_order_relaxed);
        s->npreempt.fetch_add(1, std::memory_order_relaxed);
        w.soft = true;
        w.schedwhen = now;
      } else if (retake_hog(s, pp)) {
        s->npreempt.fetch_add(1, std::memory_order_relaxed);
        ++n;
        w.soft = false;
        w.schedwhen = now;
      }
      continue;
    }
    if (st != PStatus::syscall) continue;
    std::uint32_t t = pp->syscalltick.load(std::memory_order_relaxed);
    if (w.syscalltick != t) {  // a new blocking call since we last looked: give it a tick
      w.syscalltick = t;
      w.syscallwhen = now;
      continue;
    }
    if (runqempty(pp) && s->nmspinning.load() + s->npidle.load() > 0 &&
        w.syscallwhen + kRetakeIdleNs > now) {
      continue;
    }
    if (pp->status.compare_exchange_strong(st, PStatus::idle)) {
      ++n;
      if (s->trace) [[unlikely]]
        trace_event_other(s->trace, kTraceSysmonTid, TraceEv::handoff, 0, std::uint64_t(pp->id),
                          nullptr, 0);
      handoffp(s, pp);
    }
  }
  return n;
}

// schedtrace prints Go's scheduler line (WEFT_DEBUG=schedtrace=MS): threads counts the Ms and
// sysmon; the bracket lists each P's local run queue length.
void schedtrace(Sched* s, std::int64_t now) {
  char buf[4096];
  int n;
  {
    std::lock_guard<Lock> lk(s->lock);
    n = std::snprintf(buf, sizeof buf,
                      "SCHED %lldms: procs=%d idleprocs=%d threads=%d spinningthreads=%d "
                      "idlethreads=%d runqueue=%zu [",
                      static_cast<long long>((now - s->start_ns) / 1000000), s->nprocs,
                      s->npidle.load(), s->mcount + 1, s->nmspinning.load(), s->nmidle,
                      s->runq.size());
  }
  for (P* pp : s->allp) {
    if (n > int(sizeof buf) - 16) break;
    n += std::snprintf(buf + n, sizeof buf - std::size_t(n), pp->id ? " %u" : "%u", runqlen(pp));
  }
  n += std::snprintf(buf + n, sizeof buf - std::size_t(n), "]\n");
  std::fputs(buf, stderr);
}

void sysmon_main(Sched* s) {
  std::vector<PWatch> watch(s->allp.size());
  std::vector<G*> ready;
  std::int64_t last_scavenge = nanotime();
  std::int64_t last_trace = nanotime();
  const std::int64_t trace_every = std::int64_t(s->debug.schedtrace) * 1000000;
  int idle = 0;
  std::int64_t delay = 20;  // µs
  while (!s->stopping.load()) {
    if (idle == 0) {
      delay = 20;
    } else if (idle > 50) {
      delay = std::min<std::int64_t>(delay * 2, 10000);
    }
    if (trace_every > 0) delay = std::min<std::int64_t>(delay, trace_every / 1000);
    std::uint32_t seen = s->sysmon_wake.load();
    if (delay >= 1000) s->sysmon_idle.store(true);
    sleep_us(s, seen, delay);
    bool kicked = s->sysmon_wake.load() != seen;
    s->sysmon_idle.store(false);
    if (s->stopping.load()) break;
    if (s->sigquit) sigquit_check();  // a SIGQUIT arrived: dump every fiber and exit (debug.hpp)
    std::int64_t now = nanotime();
    s->coarse_now.store(now, std::memory_order_relaxed);
    // Fibers wait on I/O but no M has polled for 10 ms (all busy): poll for them (Go's sysmon).
    Netpoll& np = s->netpoll;
    std::int64_t lp = np.lastpoll.load();
    bool stale = np.waiters.load() > 0 && lp != 0 && now - lp > kPollNs;
    if (stale && np.lastpoll.compare_exchange_strong(lp, now)) {
      ready.clear();
      netpoll(s, 0, ready);
      if (s->trace && !ready.empty()) [[unlikely]] {
        trace_event_other(s->trace, kTraceSysmonTid, TraceEv::netpoll, 0, ready.size());
      }
      for (G* gp : ready) goready(gp);  // sysmon holds no P: they go to the global queue
      if (!ready.empty()) idle = 0;
    }
    if (trace_every > 0 && now - last_trace >= trace_every) {
      schedtrace(s, now);
      last_trace = now;
    }
    if (now - last_scavenge >= kScavengeNs) {
      scavenge_stacks(s);
      last_scavenge = now;
    }
    if (retake(s, now, watch) > 0 || kicked) {
      idle = 0;
    } else {
      ++idle;
    }
  }
}

}  // namespace

std::atomic<bool> time_slices_off{false};

void sysmon_start(Sched* s) { s->sysmon = std::thread(sysmon_main, s); }

void sysmon_stop(Sched* s) {
  // stopping is already set; wake it from any sleep and wait for it.
  s->sysmon_wake.fetch_add(1);
  futex_wake(&s->sysmon_wake);
  if (s->sysmon.joinable()) s->sysmon.join();
}

}  // namespace weft::detail
