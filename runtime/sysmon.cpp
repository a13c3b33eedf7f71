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
// Sleep: 20 µs between ticks while it finds work, doubling after 50 idle ticks up to 10 ms.
// During a long sleep (>= 1 ms) Sched::sysmon_idle is set, and entersyscall wakes it (futex on
// Sched::sysmon_wake), so a blocking call after a quiet spell is still handed off promptly.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "proc.hpp"
#include "runq.hpp"

namespace weft::detail {

namespace {

constexpr std::int64_t kRetakeIdleNs = 10'000'000;  // leave a work-less P alone this long

struct PWatch {  // sysmon's own record of a P; owned by sysmon
  std::uint32_t syscalltick = 0;
  std::int64_t syscallwhen = 0;
};

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
      handoffp(s, pp);
    }
  }
  return n;
}

void sysmon_main(Sched* s) {
  std::vector<PWatch> watch(s->allp.size());
  int idle = 0;
  std::int64_t delay = 20;  // µs
  while (!s->stopping.load()) {
    if (idle == 0) {
      delay = 20;
    } else if (idle > 50) {
      delay = std::min<std::int64_t>(delay * 2, 10000);
    }
    std::uint32_t seen = s->sysmon_wake.load();
    if (delay >= 1000) s->sysmon_idle.store(true);
    sleep_us(s, seen, delay);
    bool kicked = s->sysmon_wake.load() != seen;
    s->sysmon_idle.store(false);
    if (s->stopping.load()) break;
    std::int64_t now = nanotime();
    s->coarse_now.store(now, std::memory_order_relaxed);
    if (retake(s, now, watch) > 0 || kicked) {
      idle = 0;
    } else {
      ++idle;
    }
  }
}

}  // namespace

void sysmon_start(Sched* s) { s->sysmon = std::thread(sysmon_main, s); }

void sysmon_stop(Sched* s) {
  // stopping is already set; wake it from any sleep and wait for it.
  s->sysmon_wake.fetch_add(1);
  futex_wake(&s->sysmon_wake);
  if (s->sysmon.joinable()) s->sysmon.join();
}

}  // namespace weft::detail
