// chan: channel send, receive and close on a type-erased hchan (invariants in chan.hpp).
// Follows Go's src/runtime/chan.go.
#include "chan.hpp"

#include <cstdlib>
#include <mutex>
#include <new>
#include <stdexcept>

#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t kMaxAlign = 4096;

bool chan_park_commit(G*, void* arg) {  // the fiber's sudog is queued; wakers may see it now
  static_cast<Hchan*>(arg)->lock.unlock();
  return true;
}

[[noreturn]] void block_forever(WaitReason reason) {
  // A nil channel: nobody can ever wake this fiber (deadlock detection reports it if it is the
  // last one). Parking without a waker still unwinds cleanly at shutdown.
  gopark(nullptr, nullptr, reason);
  fatal("%s: a fiber blocked on a nil channel was woken", wait_reason_name(reason));
}

// unlink_after_unwind takes a parked fiber's sudog out of its queue when shutdown unwinds the
// fiber (every parking primitive does this; see proc.cpp "Lifecycle").
void unlink_after_unwind(Hchan* c, Sudog* sg, WaitQ& q) {
  std::lock_guard<Lock> lk(c->lock);
  if (sg->wait_hook.is_linked()) q.erase(q.iterator_to(*sg));
}

void check_fiber(WaitReason reason) {
  if (!current_g()) fatal("%s: cannot park outside a fiber", wait_reason_name(reason));
}

// chan_park queues the calling fiber on q (c locked) and parks until a peer or close dequeues
// it; the park commit unlocks c. Returns the sudog's success (false: woken by close).
bool chan_park(Hchan* c, WaitQ& q, void* elem, WaitReason reason) {
  G* gp = current_g();
  if (!gp) {
    c->lock.unlock();
    check_fiber(reason);
  }
  Sudog sg;
  sg.g = gp;
  sg.elem = elem;
  sg.c = c;
  gp->param = nullptr;
  q.push_back(sg);
  try {
    gopark(chan_park_commit, c, reason);
  } catch (const ForcedUnwind&) {
    unlink_after_unwind(c, &sg, q);
    throw;
  }
  // C3: whoever readied this fiber dequeued its sudog first (under c's lock, ordered before
  // the goready). Still queued means a stray goready woke it: its frame, which the queue
  // points into, is about to die.
  if (sg.wait_hook.is_linked()) [[unlikely]]
    fatal("%s: fiber woken while its sudog is still queued (readied by %p)",
          wait_reason_name(reason), gp->readied_by);
  return sg.success;
}

}  // namespace

Hchan* makechan(const ElemOps* ops, std::size_t size, std::size_t align, std::size_t cap) {
  if (align > kMaxAlign) fatal("makechan: element alignment %zu is too large", align);
  if (align < alignof(std::max_align_t)) align = alignof(std::max_align_t);
  std::size_t elemsize = (size + align - 1) / align * align;
  std::size_t head = (sizeof(Hchan) + align - 1) / align * align;
  if (cap > 0 && elemsize > (std::size_t(1) << 40) / cap)
    throw std::length_error("makechan: size out of range");
  std::size_t total = head + elemsize * cap;
  void* mem = ::operator new(total, std::align_val_t(align));
  Hchan* c = ::new (mem) Hchan;
  c->ops = ops;
  c->alloc_align = align;
  c->elemsize = elemsize;
  c->dataqsiz = cap;
  c->buf = static_cast<unsigned char*>(mem) + head;
  return c;
}

void chan_retain(Hchan* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chan_release(Hchan* c) noexcept {
  // acq_rel: the last release sees every other holder's writes before destroying.
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // No Chan copy is left, so no fiber can be parked on it (a parked fiber holds a copy).
  std::size_t n = c->qcount.load(std::memory_order_relaxed);
  for (std::size_t i = 0, x = c->recvx; i < n; ++i, x = x + 1 == c->dataqsiz ? 0 : x + 1) {
    c->ops->destroy(c->slot(x));
  }
  std::size_t align = c->alloc_align;
  c->~Hchan();
  ::operator delete(static_cast<void*>(c), std::align_val_t(align));
}

std::size_t chanlen(const Hchan* c) noexcept {
  return c ? c->qcount.load(std::memory_order_relaxed) : 0;
}
std::size_t chancap(const Hchan* c) noexcept { return c ? c->dataqsiz : 0; }

Sudog* waitq_dequeue(WaitQ& q) {
  while (!q.empty()) {
    Sudog* sg = &q.front();
    q.pop_front();
    if (sg->is_select) {
      // C3: the fiber is in a select; only the first of its cases to fire may wake it.
      G* gp = sg->g;
      std::uint64_t st = gp->select_state.load();
      if ((st & 1) || !gp->select_state.compare_exchange_strong(st, st | 1)) continue;
    }
    return sg;
  }
  return nullptr;
}

G* chan_send_to(Hchan* c, Sudog* sg, void* elem) {
  // sg is a receiver. Unbuffered: move straight into its frame. (A buffered channel with a
  // waiting receiver has an empty buffer, C2, so the value goes straight there too.)
  if (sg->elem) c->ops->move_construct(sg->elem, elem);
  sg->success = true;
  sg->g->param = sg;
  return sg->g;
}

G* chan_recv_from(Hchan* c, Sudog* sg, void* elem) {
  // sg is a sender.
  if (c->dataqsiz == 0) {
    c->ops->move_construct(elem, sg->elem);
  } else {
    // The buffer is full (C2): take its head, and put the sender's value in the freed slot,
    // which is also the tail (sendx == recvx when full).
    unsigned char* qp = c->slot(c->recvx);
    c->ops->move_construct(elem, qp);
    c->ops->destroy(qp);
    c->ops->move_construct(qp, sg->elem);
    if (++c->recvx == c->dataqsiz) c->recvx = 0;
    c->sendx = c->recvx;
  }
  sg->success = true;
  sg->g->param = sg;
  return sg->g;
}

void chan_buf_put(Hchan* c, void* elem) {
  c->ops->move_construct(c->slot(c->sendx), elem);
  if (++c->sendx == c->dataqsiz) c->sendx = 0;
  c->qcount.store(c->qcount.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void chan_buf_take(Hchan* c, void* elem) {
  unsigned char* qp = c->slot(c->recvx);
  c->ops->move_construct(elem, qp);
  c->ops->destroy(qp);
  if (++c->recvx == c->dataqsiz) c->recvx = 0;
  c->qcount.store(c->qcount.load(std::memory_order_relaxed) - 1, std::memory_order_release);
}

bool chansend(Hchan* c, void* elem, bool block) {
  if (!c) {
    if (!block) return false;
    check_fiber(WaitReason::chan_send_nil);
    block_forever(WaitReason::chan_send_nil);
  }
  // Fast path for a full buffered channel (Go's): if it was full and open at the instant of
  // these loads, failing is a correct answer even if it changed since.
  if (!block && c->dataqsiz > 0 && !c->closed.load(std::memory_order_relaxed) &&
      c->qcount.load(std::memory_order_relaxed) == c->dataqsiz)
    return false;

  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw closed_channel("send on closed channel");
  }
  if (Sudog* sg = waitq_dequeue(c->recvq)) {
    G* gp = chan_send_to(c, sg, elem);
    c->lock.unlock();
    goready(gp);
    return true;
  }
  if (c->qcount.load(std::memory_order_relaxed) < c->dataqsiz) {
    chan_buf_put(c, elem);
    c->lock.unlock();
    return true;
  }
  if (!block) {
    c->lock.unlock();
    return false;
  }
  bool success = chan_park(c, c->sendq, elem, WaitReason::chan_send);
  // Woken by a receiver (success: it took the value) or by close (the value stays here).
  if (!success) throw closed_channel("send on closed channel");
  return true;
}

RecvResult chanrecv(Hchan* c, void* elem, bool block) {
  if (!c) {
    if (!block) return {false, false};
    check_fiber(WaitReason::chan_receive_nil);
    block_forever(WaitReason::chan_receive_nil);
  }
  // Fast path (Go's): empty and open means "not ready". The second emptiness check after seeing
  // closed makes "closed and drained" exact: closed never reverts, and a value sent before the
  // close would have been counted in qcount before closed became true (both under the lock).
  if (!block && c->dataqsiz > 0 && c->qcount.load(std::memory_order_acquire) == 0) {
    if (!c->closed.load(std::memory_order_acquire)) return {false, false};
    if (c->qcount.load(std::memory_order_acquire) == 0) return {true, false};
  }

  c->lock.lock();
  std::size_t n = c->qcount.load(std::memory_order_relaxed);
  if (c->closed.load(std::memory_order_relaxed) && n == 0) {
    c->lock.unlock();
    return {true, false};
  }
  if (Sudog* sg = waitq_dequeue(c->sendq)) {
    G* gp = chan_recv_from(c, sg, elem);
    c->lock.unlock();
    goready(gp);
    return {true, true};
  }
  if (n > 0) {
    chan_buf_take(c, elem);
    c->lock.unlock();
    return {true, true};
  }
  if (!block) {
    c->lock.unlock();
    return {false, false};
  }
  return {true, chan_park(c, c->recvq, elem, WaitReason::chan_receive)};
}

void closechan(Hchan* c) {
  if (!c) throw closed_channel("close of nil channel");
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw closed_channel("close of closed channel");
  }
  c->closed.store(true, std::memory_order_release);
  // Collect every waiter under the lock, wake them after it (Go's glist).
  Sudog* wake = nullptr;  // chained through waitlink (unused by channels otherwise)
  for (WaitQ* q : {&c->recvq, &c->sendq}) {
    while (Sudog* sg = waitq_dequeue(*q)) {
      sg->success = false;  // receivers: nothing received; senders: they throw
      sg->g->param = sg;
      sg->waitlink = wake;
      wake = sg;
    }
  }
  c->lock.unlock();
  while (wake) {
    Sudog* next = wake->waitlink;  // read before goready: the sudog dies once its fiber runs
    G* gp = wake->g;
    wake->waitlink = nullptr;
    goready(gp);
    wake = next;
  }
}

}  // namespace weft::detail
