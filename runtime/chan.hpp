// chan: the channel object (Go's hchan) and the waiter node shared by channels, select and
// semaphores (Go's sudog). Follows src/runtime/chan.go and runtime2.go's sudog.
//
// A Sudog lives on the stack of the fiber it stands for, for exactly as long as that fiber is
// parked on it: the fiber builds it, enqueues it under the lock of the structure it waits on,
// parks, and after it runs again takes it out of every queue before returning. A fiber's stack
// does not move, so the waker may read and write through the sudog (sudog.elem points into the
// parked fiber's frame) until it has dequeued it and called goready.
//
// Channel invariants (guarded by Hchan::lock unless said otherwise):
//  C1. At least one of recvq and sendq is empty, except transiently for a select whose sudogs
//      sit in both queues of one channel (Go allows it; its own cases never match each other,
//      because pass 1 runs before pass 2 with the channel locked).
//  C2. Buffered: recvq non-empty implies qcount == 0; sendq non-empty implies qcount ==
//      dataqsiz. Unbuffered: every transfer is a direct move between the two fibers' frames.
//  C3. A sudog is dequeued (unlinked) by exactly one party, under the channel lock: a waker, a
//      close, or its own fiber after it ran again. For a select sudog, a waker must also win the
//      fiber's select_state CAS (done 0 -> 1); a loser just drops the sudog from the queue.
//  C4. The waker writes the result (value moved into/out of sudog.elem, sudog.success, G::param)
//      before goready; the fiber reads them after it runs again (goready orders them, proc.cpp P1).
//  C5. closed changes false -> true once, under the lock; qcount and closed are also atomics so
//      the non-blocking fast paths and len() may read them without the lock (Go's "full" and
//      "empty" checks): a try_send/try_recv that fails there was right at the instant of its
//      loads, which is all a non-blocking operation promises (chan.cpp argues each case).
//      Orders: qcount is stored with release (chan_buf_put/take) and closed with release
//      (closechan); they pair with the acquire loads of the receive fast path, which must see a
//      value counted before the close. Every other load of them is relaxed: under the lock (the
//      lock orders it), or a hint (len(), try_send's "full" check, where a stale value only
//      answers "not ready"). refs: increments are relaxed (the caller already holds a
//      reference); decrements are acq_rel, pairing with each other, so the last one sees every
//      holder's writes before it destroys the channel.
#pragma once

#include <weft/detail/chan.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>

#include "runtime2.hpp"

namespace weft::detail {

namespace bi = boost::intrusive;

struct Sudog {
  G* g = nullptr;
  void* elem = nullptr;  // the value slot in the parked fiber's frame (channels)
  Hchan* c = nullptr;    // the channel it waits on (select's pass 3)
  bool is_select = false;
  bool success = false;       // a value was transferred (false: woken by close)
  std::uint32_t ticket = 0;   // semaphores: 1 when the releaser handed its unit over
  std::uintptr_t key = 0;     // semaphores: the address waited on
  Sudog* waitlink = nullptr;  // semaphores: next waiter on the same address (head's list)
  Sudog* waittail = nullptr;  // semaphores: the last of that list (head only)
  bi::list_member_hook<bi::link_mode<bi::safe_link>> wait_hook;  // Hchan recvq/sendq
  bi::set_member_hook<bi::link_mode<bi::safe_link>> tree_hook;   // semaphore root tree (heads)
};

using WaitQ = bi::list<Sudog, bi::member_hook<Sudog, decltype(Sudog::wait_hook), &Sudog::wait_hook>,
                       bi::constant_time_size<false>>;

struct Hchan {
  std::atomic<std::uint32_t> refs{1};  // Chan<T> copies; the channel is freed at zero
  Lock lock;
  const ElemOps* ops = nullptr;  // immutable
  std::size_t elemsize = 0;      // immutable: sizeof(T) rounded up to alignof(T)
  std::size_t alloc_align = 0;   // immutable: the alignment the Hchan was allocated with
  std::size_t dataqsiz = 0;      // immutable: capacity
  unsigned char* buf = nullptr;  // immutable: dataqsiz slots of elemsize bytes, after the Hchan
  std::atomic<std::size_t> qcount{0};  // C5: values in buf; written under lock
  std::size_t sendx = 0;               // next slot to fill
  std::size_t recvx = 0;               // next slot to take
  std::atomic<bool> closed{false};     // C5
  WaitQ recvq;                         // parked receivers (FIFO)
  WaitQ sendq;                         // parked senders (FIFO)

  unsigned char* slot(std::size_t i) const { return buf + i * elemsize; }
};

// dequeue pops the first sudog of q whose fiber this call may wake (C3), or null.
Sudog* waitq_dequeue(WaitQ& q);

// chan_send_to / chan_recv_from complete a transfer, with c locked, between elem and the sudog
// of a receiver / sender just dequeued from c (C4); they return its fiber, which the caller
// readies after unlocking. Shared with select.
G* chan_send_to(Hchan* c, Sudog* sg, void* elem);
G* chan_recv_from(Hchan* c, Sudog* sg, void* elem);

// chan_buf_put / chan_buf_take move elem into the buffer's tail / the buffer's head into elem;
// c locked, room / a value present.
void chan_buf_put(Hchan* c, void* elem);
void chan_buf_take(Hchan* c, void* elem);

}  // namespace weft::detail
