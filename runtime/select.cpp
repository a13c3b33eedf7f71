// select: Go's select statement over channel cases plus an optional timeout. Follows Go's
// src/runtime/select.go (selectgo), with the timeout built in instead of a time.After channel.
//
// selectgo runs in three passes with every channel of the select locked in address order
// (duplicates locked once):
//   1. in a random permutation of the cases, take the first that can proceed now;
//   2. otherwise enqueue one sudog per case (is_select) and park; the park commit arms the
//      timeout and then unlocks the channels;
//   3. when woken, lock again, dequeue every sudog but the winner, unlock.
// Invariants (beyond chan.hpp's C1-C5):
//  SEL1. One wakeup per select: a channel waker must CAS G::select_state's done bit 0 -> 1
//        (waitq_dequeue), and the timeout timer CASes (seq << 1) -> (seq << 1 | 1) for the
//        sequence it was armed for, so a stale timer from an earlier select never wins.
//  SEL2. The timeout is armed in the park commit, after the G is `waiting` and before the
//        first channel unlock, so its goready can only meet a parked G (proc.cpp P1).
//  SEL3. The park commit reads the case and lock-order arrays (in the select's frames on the
//        G's stack) after unlocking channels: safe because it unlocks in reverse lock order and
//        a woken G first re-locks in lock order, blocking on the first channel (released last),
//        and writes nothing into those arrays before that.
//  SEL4. After pass 3 no sudog of this select is in any queue; G::param names the winner (null:
//        the timeout fired).
#include <algorithm>
#include <memory>
#include <new>

#include "chan.hpp"
#include "debug.hpp"
#include "proc.hpp"
#include "timer.hpp"

namespace weft::detail {

namespace {

constexpr int kInlineSudogs = 8;

void sellock(SelectCase* cases, const std::uint16_t* lockorder, int n) {
  Hchan* prev = nullptr;
  for (int i = 0; i < n; ++i) {
    Hchan* c = cases[lockorder[i]].c;
    if (c != prev) c->lock.lock();
    prev = c;
  }
}

void selunlock(SelectCase* cases, const std::uint16_t* lockorder, int n) {
  // Reverse order: see SEL3.
  for (int i = n - 1; i >= 0; --i) {
    Hchan* c = cases[lockorder[i]].c;
    if (i > 0 && c == cases[lockorder[i - 1]].c) continue;
    c->lock.unlock();
  }
}

struct SelCommit {
  SelectCase* cases;
  const std::uint16_t* lockorder;
  int n;
  std::int64_t when;
  std::uint64_t seq;
};

void select_timeout(void* arg, std::uintptr_t seq) {
  G* gp = static_cast<G*>(arg);  // type-stable (runtime2.hpp): safe even if long gone
  std::uint64_t expect = std::uint64_t(seq) << 1;
  if (gp->select_state.compare_exchange_strong(expect, expect | 1)) goready(gp);  // SEL1
}

bool selparkcommit(G* gp, void* arg) {
  SelCommit* sc = static_cast<SelCommit*>(arg);
  if (sc->when > 0) {  // SEL2
    gp->timer.fn = select_timeout;
    gp->timer.arg = gp;
    gp->timer.period = 0;
    timer_add(gp->sched, &gp->timer, sc->when, std::uintptr_t(sc->seq));
  }
  selunlock(sc->cases, sc->lockorder, sc->n);  // SEL3
  return true;
}

// SudogArray constructs n sudogs in raw room and destroys them when it goes (after pass 3 or
// the unwinding, when none is linked any more).
class SudogArray {
 public:
  SudogArray(void* room, int n) : p_(static_cast<Sudog*>(room)), n_(n) {
    for (int k = 0; k < n_; ++k) ::new (&p_[k]) Sudog;
  }
  ~SudogArray() {
    for (int k = 0; k < n_; ++k) p_[k].~Sudog();
  }
  SudogArray(const SudogArray&) = delete;
  SudogArray& operator=(const SudogArray&) = delete;
  Sudog& operator[](int k) { return p_[k]; }

 private:
  Sudog* p_;
  int n_;
};

void unlink_case(SelectCase& cs, Sudog* sg) {
  if (!sg->wait_hook.is_linked()) return;
  WaitQ& q = cs.send ? cs.c->sendq : cs.c->recvq;
  q.erase(q.iterator_to(*sg));
}

}  // namespace

SelectResult selectgo(SelectCase* cases, int n, std::uint16_t* scratch, std::int64_t when,
                      bool block) {
  std::uint16_t* pollorder = scratch;
  std::uint16_t* lockorder = scratch + n;

  // Poll order: a uniform random permutation of the non-nil cases (Go's pollorder).
  int norder = 0;
  for (int i = 0; i < n; ++i) {
    if (!cases[i].c) continue;
    int j = int(cheaprand() % std::uint32_t(norder + 1));
    pollorder[norder] = pollorder[j];
    pollorder[j] = std::uint16_t(i);
    ++norder;
  }
  // The timeout takes a uniformly random place in that order (Go: another channel case).
  int afterpos = when > 0 ? int(cheaprand() % std::uint32_t(norder + 1)) : -1;

  if (norder == 0) {
    if (when > 0) {
      if (nanotime() >= when) return {n, false};
      if (!block) return {-1, false};
      sleep_until_ns(when);
      return {n, false};
    }
    if (!block) return {-1, false};
    if (!current_g()) fatal("select (no cases): cannot park outside a fiber");
    gopark(nullptr, nullptr, WaitReason::select_no_cases);
    fatal("select (no cases): a fiber blocked forever was woken");
  }

  // Lock order: by channel address, so that two selects never lock in opposite orders.
  std::copy(pollorder, pollorder + norder, lockorder);
  std::sort(lockorder, lockorder + norder, [cases](std::uint16_t a, std::uint16_t b) {
    return std::less<Hchan*>()(cases[a].c, cases[b].c);
  });

  // Room for pass 2's sudogs, taken before any lock; they are constructed only if pass 2 runs,
  // so a select that finds a ready case pays nothing for them.
  alignas(Sudog) unsigned char inline_room[kInlineSudogs * sizeof(Sudog)];
  std::unique_ptr<unsigned char[]> heap_room;
  void* room = inline_room;
  if (block && norder > kInlineSudogs) {
    heap_room.reset(new unsigned char[std::size_t(norder) * sizeof(Sudog)]);  // new[]: aligned
    room = heap_room.get();
  }

  sellock(cases, lockorder, norder);

  // Pass 1: the first case, in poll order, that can proceed now.
  for (int k = 0; k <= norder; ++k) {
    if (k == afterpos && nanotime() >= when) {
      selunlock(cases, lockorder, norder);
      return {n, false};
    }
    if (k == norder) break;
    int i = pollorder[k];
    SelectCase& cs = cases[i];
    Hchan* c = cs.c;
    if (cs.send) {
      if (c->closed.load(std::memory_order_relaxed)) {
        selunlock(cases, lockorder, norder);
        throw closed_channel("send on closed channel");
      }
      if (Sudog* sg = waitq_dequeue(c->recvq)) {
        G* gp = chan_send_to(c, sg, cs.elem);
        selunlock(cases, lockorder, norder);
        goready(gp);
        return {i, false};
      }
      if (c->qcount.load(std::memory_order_relaxed) < c->dataqsiz) {
        chan_buf_put(c, cs.elem);
        selunlock(cases, lockorder, norder);
        return {i, false};
      }
    } else {
      if (Sudog* sg = waitq_dequeue(c->sendq)) {
        G* gp = chan_recv_from(c, sg, cs.elem);
        selunlock(cases, lockorder, norder);
        goready(gp);
        return {i, true};
      }
      if (c->qcount.load(std::memory_order_relaxed) > 0) {
        chan_buf_take(c, cs.elem);
        selunlock(cases, lockorder, norder);
        return {i, true};
      }
      if (c->closed.load(std::memory_order_relaxed)) {
        selunlock(cases, lockorder, norder);
        return {i, false};
      }
    }
  }

  if (!block) {
    selunlock(cases, lockorder, norder);
    return {-1, false};
  }
  G* gp = current_g();
  if (!gp) {
    selunlock(cases, lockorder, norder);
    fatal("select: cannot park outside a fiber");
  }

  // Pass 2: a sudog on every channel, then park.
  std::uint64_t seq = (gp->select_state.load() >> 1) + 1;
  gp->select_state.store(seq << 1);  // done = 0: wakers may now compete (SEL1)
  gp->param = nullptr;
  SudogArray sudogs(room, norder);
  for (int k = 0; k < norder; ++k) {
    int i = lockorder[k];
    Sudog* sg = &sudogs[k];
    sg->g = gp;
    sg->is_select = true;
    sg->elem = cases[i].elem;
    sg->c = cases[i].c;
    sg->success = false;
    (cases[i].send ? cases[i].c->sendq : cases[i].c->recvq).push_back(*sg);
  }
  SelCommit commit{cases, lockorder, norder, when, seq};
  try {
    gopark(selparkcommit, &commit, WaitReason::select);
  } catch (const ForcedUnwind&) {
    if (when > 0) timer_del(&gp->timer);
    sellock(cases, lockorder, norder);
    for (int k = 0; k < norder; ++k) unlink_case(cases[lockorder[k]], &sudogs[k]);
    selunlock(cases, lockorder, norder);
    throw;
  }

  // Pass 3: leave every other queue. The winner was dequeued by its waker (C3).
  if (when > 0) timer_del(&gp->timer);  // harmless if it fired: its CAS lost (SEL1)
  Sudog* win = static_cast<Sudog*>(gp->param);
  sellock(cases, lockorder, norder);
  int casi = n;  // the timeout, unless a sudog won
  for (int k = 0; k < norder; ++k) {
    if (&sudogs[k] == win) {
      casi = lockorder[k];
    } else {
      unlink_case(cases[lockorder[k]], &sudogs[k]);
    }
  }
  selunlock(cases, lockorder, norder);
  if (!win) return {n, false};
  if (casi == n) fatal("select: woken by a sudog that is not its own");
  if (cases[casi].send) {
    if (!win->success) throw closed_channel("send on closed channel");
    return {casi, false};
  }
  return {casi, win->success};
}

}  // namespace weft::detail
