// parkslot: a binary semaphore for one waiting fiber (Go's pollDesc rg/wg pattern).
// Follows Go's src/runtime/netpoll.go (netpollblock, netpollblockcommit, netpollunblock).
#include "parkslot.hpp"

#include <weft/detail/spawn.hpp>

#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

constexpr std::uintptr_t kEmpty = 0;
constexpr std::uintptr_t kReady = 1;

// parkslot_commit is the unlockf: it publishes gp, unless a signal arrived since wait looked.
bool parkslot_commit(G* gp, void* arg) {
  auto* ps = static_cast<ParkSlot*>(arg);
  std::uintptr_t want = kEmpty;
  if (ps->state.compare_exchange_strong(want, reinterpret_cast<std::uintptr_t>(gp))) return true;
  if (want != kReady) fatal("parkslot: another fiber is already waiting (double wait)");
  if (!ps->state.compare_exchange_strong(want, kEmpty)) fatal("parkslot: state changed under us");
  return false;  // consumed the signal: do not park
}

}  // namespace

void parkslot_wait(ParkSlot* ps) {
  std::uintptr_t want = kReady;
  if (ps->state.compare_exchange_strong(want, kEmpty)) return;
  if (want != kEmpty) fatal("parkslot: another fiber is already waiting (double wait)");
  try {
    gopark(parkslot_commit, ps, WaitReason::park);
  } catch (const ForcedUnwind&) {  // unwound while parked (shutdown): leave no stale G* behind
    std::uintptr_t me = reinterpret_cast<std::uintptr_t>(current_g());
    ps->state.compare_exchange_strong(me, kEmpty);
    throw;
  }
}

void parkslot_signal(ParkSlot* ps) {
  std::uintptr_t s = ps->state.load();
  for (;;) {
    if (s == kReady) return;
    if (s == kEmpty) {
      if (ps->state.compare_exchange_weak(s, kReady)) return;
      continue;
    }
    if (ps->state.compare_exchange_weak(s, kEmpty)) {
      goready(reinterpret_cast<G*>(s));
      return;
    }
  }
}

}  // namespace weft::detail
