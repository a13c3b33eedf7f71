// netpoll: pollDesc, the rg/wg semaphores, deadlines and close — the generic half of the
// network poller. Follows Go's src/runtime/netpoll.go; the state table and invariants N1-N5
// are in netpoll.hpp.
#include "netpoll.hpp"

#include <mutex>

#include "debug.hpp"
#include <weft/detail/spawn.hpp>

#include "proc.hpp"

namespace weft::detail {

namespace {

constexpr std::uint32_t kBlock = Netpoll::kPollBlock;  // pollDescs per cache block

constexpr std::uint32_t kInfoClosing = 1, kInfoEvErr = 2, kInfoRdExpired = 4, kInfoWdExpired = 8,
                        kInfoNoDrain = 16;

// publish_info stores pd's error state into pd->info; pd->lock held.
void publish_info(PollDesc* pd) {
  std::uint32_t v = 0;
  if (pd->closing) v |= kInfoClosing;
  if (pd->everr) v |= kInfoEvErr;
  if (pd->rd < 0) v |= kInfoRdExpired;
  if (pd->wd < 0) v |= kInfoWdExpired;
  if (pd->nodrain) v |= kInfoNoDrain;
  pd->info.store(v);
}

std::atomic<std::uintptr_t>& sema(PollDesc* pd, int mode) { return mode == 'r' ? pd->rg : pd->wg; }

PollErr checkerr(std::uint32_t info, int mode) {
  if (info & kInfoClosing) return PollErr::closing;
  if ((mode == 'r' && (info & kInfoRdExpired)) || (mode == 'w' && (info & kInfoWdExpired))) {
    return PollErr::timeout;
  }
  // Only reads report EPOLLERR: a write would see the error from the system call itself.
  if (mode == 'r' && (info & kInfoEvErr)) return PollErr::not_pollable;
  return PollErr::none;
}

PollErr netpollcheckerr(PollDesc* pd, int mode) { return checkerr(pd->info.load(), mode); }

// netpollblockcommit is the unlockf: pdWait -> G*, unless the word moved meanwhile (P2).
bool netpollblockcommit(G* gp, void* arg) {
  auto* gpp = static_cast<std::atomic<std::uintptr_t>*>(arg);
  std::uintptr_t want = pdWait;
  if (gpp->compare_exchange_strong(want, reinterpret_cast<std::uintptr_t>(gp))) {
    gp->sched->netpoll.waiters.fetch_add(1);
    return true;
  }
  return false;
}

// netpollblock parks until I/O readiness (true) or until something else woke the waiter
// (false: the caller re-checks errors). waitio: park even if an error is pending.
bool netpollblock(PollDesc* pd, int mode, bool waitio) {
  std::atomic<std::uintptr_t>& gpp = sema(pd, mode);
  for (;;) {
    std::uintptr_t v = pdReady;
    if (gpp.compare_exchange_strong(v, 0)) return true;  // consume readiness
    v = 0;
    if (gpp.compare_exchange_strong(v, pdWait)) break;
    if (v != pdReady && v != 0) fatal("netpollblock: double wait on fd %d (N1)", pd->fd);
  }
  // Re-check errors after publishing pdWait (N4: pairs with publish_info + netpollunblock).
  if (waitio || netpollcheckerr(pd, mode) == PollErr::none) {
    try {
      gopark(netpollblockcommit, &gpp, WaitReason::io_wait);
    } catch (const ForcedUnwind&) {
      // Shutdown unwinds us while parked: take our G* out of the word, so that a close run by
      // a destructor during the unwinding does not ready a fiber that no longer waits.
      std::uintptr_t me = reinterpret_cast<std::uintptr_t>(current_g());
      if (gpp.compare_exchange_strong(me, 0)) current_g()->sched->netpoll.waiters.fetch_sub(1);
      throw;
    }
  }
  std::uintptr_t old = gpp.exchange(0);  // do not lose a concurrent pdReady
  if (old > pdWait) fatal("netpollblock: corrupted pollDesc for fd %d", pd->fd);
  return old == pdReady;
}

// netpollunblock moves the word for a wakeup: to pdReady for I/O, to 0 otherwise. Returns the
// G to ready (N2), if one was parked.
G* netpollunblock(PollDesc* pd, int mode, bool ioready) {
  std::atomic<std::uintptr_t>& gpp = sema(pd, mode);
  for (;;) {
    std::uintptr_t old = gpp.load();
    if (old == pdReady) return nullptr;
    if (old == 0 && !ioready) return nullptr;  // poll_wait checks errors before waiting
    std::uintptr_t nw = ioready ? pdReady : 0;
    if (gpp.compare_exchange_strong(old, nw)) {
      if (old == pdWait) return nullptr;  // not parked yet: its commit will fail
      G* gp = reinterpret_cast<G*>(old);
      if (gp) gp->sched->netpoll.waiters.fetch_sub(1);
      return gp;
    }
  }
}

// The deadline timers' function (Go's netpolldeadlineimpl).
void deadline_fired(PollDesc* pd, std::uintptr_t seq, bool read) {
  G* gp = nullptr;
  {
    std::lock_guard<Lock> lk(pd->lock);
    if (seq != (read ? pd->rseq : pd->wseq)) return;  // stale: reset or reused (N5)
    if (read) {
      pd->rd = -1;
    } else {
      pd->wd = -1;
    }
    publish_info(pd);
    gp = netpollunblock(pd, read ? 'r' : 'w', false);
  }
  if (gp) goready(gp);
}

void read_deadline(void* arg, std::uintptr_t seq) {
  deadline_fired(static_cast<PollDesc*>(arg), seq, true);
}
void write_deadline(void* arg, std::uintptr_t seq) {
  deadline_fired(static_cast<PollDesc*>(arg), seq, false);
}

PollDesc* pd_alloc(Netpoll& np) {
  std::lock_guard<Lock> lk(np.cache_lock);
  if (np.free.empty()) {
    std::uint32_t base = np.count.load(std::memory_order_relaxed);  // only written here
    if (base / kBlock >= Netpoll::kMaxBlocks) fatal("pollDesc cache: too many descriptors");
    PollDesc* block = new PollDesc[kBlock];
    for (std::uint32_t i = kBlock; i-- > 0;) {
      PollDesc& pd = block[i];
      pd.index = base + i;
      pd.rt.fn = read_deadline;
      pd.rt.arg = &pd;
      pd.wt.fn = write_deadline;
      pd.wt.arg = &pd;
      np.free.push_front(pd);
    }
    np.blocks[base / kBlock].store(block, std::memory_order_release);  // pairs with at()
    np.count.store(base + kBlock, std::memory_order_release);          // pairs with at()
  }
  PollDesc* pd = &np.free.front();
  np.free.pop_front();
  return pd;
}

void pd_free(Netpoll& np, PollDesc* pd) {
  std::lock_guard<Lock> lk(np.cache_lock);
  np.free.push_front(*pd);
}

}  // namespace

PollDesc* Netpoll::at(std::uint32_t index) const {
  if (index >= count.load(std::memory_order_acquire)) return nullptr;
  return &blocks[index / kBlock].load(std::memory_order_acquire)[index % kBlock];
}

Netpoll::~Netpoll() {
  free.clear();  // its nodes live in the blocks (safe-link hooks are walked on destruction)
  std::uint32_t n = count.load() / kPollBlock;
  for (std::uint32_t b = 0; b < n; ++b) delete[] blocks[b].load();
}

void netpollready(std::vector<G*>& ready, PollDesc* pd, int mode, std::uint32_t fdseq, bool everr,
                  bool nodrain) {
  G* rg = nullptr;
  G* wg = nullptr;
  {
    // Under the lock, so that checking fdseq and delivering cannot straddle a close and
    // reopen (poll_open bumps fdseq under it): a stale event never reaches a new fd (N5).
    std::lock_guard<Lock> lk(pd->lock);
    if (pd->fdseq.load(std::memory_order_relaxed) != fdseq || pd->closing) return;
    if (everr != pd->everr || (nodrain && !pd->nodrain)) {
      pd->everr = everr;  // each event sets or clears it (Go's setEventErr)
      pd->nodrain = pd->nodrain || nodrain;
      publish_info(pd);  // N6: before rg moves below
    }
    if (mode == 'r' || mode == 'r' + 'w') rg = netpollunblock(pd, 'r', true);
    if (mode == 'w' || mode == 'r' + 'w') wg = netpollunblock(pd, 'w', true);
  }
  if (rg) ready.push_back(rg);
  if (wg) ready.push_back(wg);
}

PollDesc* poll_open(Sched* s, int fd, std::error_code& err) {
  Netpoll& np = s->netpoll;
  PollDesc* pd = pd_alloc(np);
  {
    std::lock_guard<Lock> lk(pd->lock);
    if (pd->rg.load() > pdWait || pd->wg.load() > pdWait) {
      fatal("poll_open: pollDesc of a closed fd still has a waiter");
    }
    pd->fd = fd;
    pd->closing = false;
    pd->everr = false;
    pd->nodrain = false;
    pd->fdseq.fetch_add(1, std::memory_order_relaxed);  // N5: older events are stale now
    ++pd->rseq;
    ++pd->wseq;
    pd->rd = pd->wd = 0;
    pd->rg.store(0);
    pd->wg.store(0);
    publish_info(pd);
  }
  int e = netpollopen(s, fd, pd);
  if (e != 0) {
    pd_free(np, pd);
    err = std::error_code(e, std::system_category());
    return nullptr;
  }
  return pd;
}

void poll_close(Sched* s, PollDesc* pd) {
  if (!pd->closing) fatal("poll_close: fd %d closed without poll_unblock", pd->fd);
  if (pd->rg.load() > pdWait || pd->wg.load() > pdWait) {
    fatal("poll_close: fd %d still has a waiter", pd->fd);
  }
  netpollclose(s, pd->fd);
  pd_free(s->netpoll, pd);
}

PollErr poll_reset(PollDesc* pd, int mode) {
  PollErr e = netpollcheckerr(pd, mode);
  if (e != PollErr::none) return e;
  if (mode == 'r') {
    pd->rg.store(0);
  } else if (mode == 'w') {
    pd->wg.store(0);
  }
  return PollErr::none;
}

PollErr poll_prepare_read(PollDesc* pd, bool drained) {
  std::uint32_t info = pd->info.load();  // seq_cst: N6's pairing with publish_info
  if (PollErr e = checkerr(info, 'r'); e != PollErr::none) return e;
  if (!drained || (info & kInfoNoDrain)) {
    pd->rg.store(0);  // poll_reset: the system call comes first, stale readiness is noise
    return PollErr::none;
  }
  // D1: only an edge after the short read can make the fd readable; pdReady may be that edge.
  while (!netpollblock(pd, 'r', false)) {
    if (PollErr e = netpollcheckerr(pd, 'r'); e != PollErr::none) return e;
  }
  return PollErr::none;
}

PollErr poll_wait(PollDesc* pd, int mode) {
  PollErr e = netpollcheckerr(pd, mode);
  if (e != PollErr::none) return e;
  while (!netpollblock(pd, mode, false)) {
    e = netpollcheckerr(pd, mode);
    if (e != PollErr::none) return e;
    // Woken without readiness or error (a deadline was extended meanwhile): wait again.
  }
  return PollErr::none;
}

void poll_set_deadline(Sched* s, PollDesc* pd, std::int64_t d, int mode) {
  G* rg = nullptr;
  G* wg = nullptr;
  {
    std::lock_guard<Lock> lk(pd->lock);
    if (pd->closing) return;
    std::int64_t now = nanotime();
    std::int64_t v = d == 0 ? 0 : (d <= now ? -1 : d);  // past or present: expired at once
    bool r = mode == 'r' || mode == 'r' + 'w';
    bool w = mode == 'w' || mode == 'r' + 'w';
    if (r) {
      pd->rd = v;
      ++pd->rseq;  // N5: a pending timer for the old deadline is stale now
      if (v > 0) {
        timer_mod(s, &pd->rt, v, pd->rseq);
      } else {
        timer_del(&pd->rt);
      }
    }
    if (w) {
      pd->wd = v;
      ++pd->wseq;
      if (v > 0) {
        timer_mod(s, &pd->wt, v, pd->wseq);
      } else {
        timer_del(&pd->wt);
      }
    }
    publish_info(pd);
    if (r && pd->rd < 0) rg = netpollunblock(pd, 'r', false);
    if (w && pd->wd < 0) wg = netpollunblock(pd, 'w', false);
  }
  if (rg) goready(rg);
  if (wg) goready(wg);
}

void poll_unblock(PollDesc* pd) {
  G* rg;
  G* wg;
  {
    std::lock_guard<Lock> lk(pd->lock);
    if (pd->closing) fatal("poll_unblock: fd %d already closing", pd->fd);
    pd->closing = true;
    ++pd->rseq;
    ++pd->wseq;
    publish_info(pd);
    rg = netpollunblock(pd, 'r', false);
    wg = netpollunblock(pd, 'w', false);
    timer_del(&pd->rt);
    timer_del(&pd->wt);
  }
  if (rg) goready(rg);
  if (wg) goready(wg);
}

}  // namespace weft::detail
