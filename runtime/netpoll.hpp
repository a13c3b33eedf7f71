// netpoll: the network poller — pollDesc, its rg/wg semaphores, deadlines and close — and the
// contract of its OS backend. Follows Go's src/runtime/netpoll.go; net/ reaches it only through
// the poll_* functions at the bottom (Go's internal/poll <-> runtime_poll* seam).
//
// # The rg / wg semaphores
//
// Each pollDesc has two binary semaphores, rg (read) and wg (write), each one atomic word:
//
//   state     meaning                                    who moves it there
//   0         nothing pending, nobody waiting            a waiter consuming pdReady; a waiter
//                                                        giving up; netpollunblock without I/O
//   pdReady   I/O readiness arrived, not yet consumed    netpollready (the poller, ioready)
//   pdWait    a G is about to park (between netpollblock netpollblock
//             and its commit on g0)
//   G*        that G is parked waiting                   netpollblockcommit (unlockf, on g0)
//
// Transitions: netpollblock: pdReady -> 0 (consume, return at once) or 0 -> pdWait, then park;
// the commit CASes pdWait -> G* (if anything moved it meanwhile — readiness, close, a deadline
// — the CAS fails and the G does not park: P2 in proc.cpp). netpollunblock: G*|pdWait -> pdReady
// (I/O) or 0 (close/deadline), readying the G if it was parked; pdReady stays. After waking,
// the G swaps the word back to 0 and learns from the old value whether I/O is ready.
// Invariants:
//  N1. At most one G waits on rg and one on wg (a second waiter is a fatal "double wait";
//      net/'s fdMutex serializes readers and writers).
//  N2. A G is readied at most once per park: only the CAS that removes G* from the word may.
//  N3. Readiness is never lost: edge-triggered epoll reports each edge once and netpollready
//      turns it into pdReady if nobody waits; the next netpollblock consumes it.
//  N4. A woken waiter re-checks netpollcheckerr (closing > deadline > I/O) before retrying, so
//      close and expired deadlines win over readiness (Go's "a deadline in the past beats ready
//      data").
//  N5. Stale events: epoll data carries the pollDesc's index and fdseq; fdseq changes on every
//      open (under pd->lock), and netpollready checks it under the same lock, so an event for a
//      closed fd whose number (and pollDesc) was reused is dropped, even one fetched by a
//      poller before the close and delivered after the reopen (Go #59545).
//      Stale deadline timers carry rseq/wseq, bumped by every deadline change and close.
//  N6. nodrain (net/fd.hpp D1-D5): once a harvest for the fd reports EPOLLPRI, EPOLLRDHUP,
//      EPOLLHUP or EPOLLERR, netpollready sets pd->nodrain and publishes it in info (under
//      lock, seq_cst) before it touches rg; it stays set until the fd is closed and the pollDesc
//      reopened. A reader that finds it set reads as Go does (poll_reset, then the system call).
//
// pollDescs are type-stable: allocated from a per-runtime cache in blocks, never returned to
// the OS while the runtime lives (a late event or timer may still look at a closed one).
//
// # The backend contract (netpoll_epoll.cpp)
//
//   netpollinit(s)            create the poller and its break channel; once per runtime
//   netpollopen(s, fd, pd)    start edge-triggered watching of fd for read and write; errno
//   netpollclose(s, fd)       stop watching fd
//   netpoll(s, delay, list)   wait up to delay ns (< 0: forever, 0: don't block) and append
//                             the Gs made ready by what arrived (via netpollready)
//   netpollbreak(s)           make a blocked netpoll return soon; coalesced: one pending
//                             wakeup at a time
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include <boost/intrusive/slist.hpp>

#include "lock_futex.hpp"
#include "timer.hpp"

namespace weft::detail {

namespace bi = boost::intrusive;

struct G;
struct Sched;

constexpr std::uintptr_t pdReady = 1;
constexpr std::uintptr_t pdWait = 2;

// Errors of netpollcheckerr, as Go's pollNoError / pollErrClosing / pollErrTimeout /
// pollErrNotPollable.
enum class PollErr : int { none = 0, closing = 1, timeout = 2, not_pollable = 3 };

struct PollDesc {
  // Guarded by lock: fd, closing, everr, rd/wd, rseq/wseq, the timers' arming.
  Lock lock;
  int fd = -1;
  std::uint32_t index = 0;              // in the cache; fixed
  std::atomic<std::uint32_t> fdseq{0};  // bumped at each open (N5); read by the poller
  bool closing = false;
  bool everr = false;                        // the last event was EPOLLERR alone
  bool nodrain = false;                      // N6: the poller saw EPOLLPRI / RDHUP / HUP / ERR
  std::int64_t rd = 0, wd = 0;               // deadlines: 0 none, < 0 expired, else nanotime
  std::uintptr_t rseq = 0, wseq = 0;         // N5 for deadline timers
  Timer rt, wt;                              // the deadline timers
  std::atomic<std::uintptr_t> rg{0}, wg{0};  // the semaphores (table above)
  // info: closing / everr / rd expired / wd expired / nodrain, published (seq_cst) under lock after
  // every change, read without it by netpollcheckerr. seq_cst on both sides is the Dekker pairing
  // of "blocker: rg = pdWait, then read info" with "unblocker: publish info, then read rg" (N4).
  std::atomic<std::uint32_t> info{0};
  bi::slist_member_hook<> free_hook;  // the cache's free list; guarded by Netpoll::cache_lock
};

using PollDescFreeList =
    bi::slist<PollDesc, bi::member_hook<PollDesc, bi::slist_member_hook<>, &PollDesc::free_hook>,
              bi::constant_time_size<false>>;

// The per-runtime poller state (one per Sched).
struct Netpoll {
  int epfd = -1;
  int breakfd = -1;                       // eventfd registered in epfd
  std::atomic<std::uint32_t> wakesig{0};  // a netpollbreak is pending (coalescing)
  std::atomic<std::int32_t> waiters{0};   // Gs parked in netpollblock
  // lastpoll: nanotime of the last completed poll; 0 while some M blocks in netpoll(delay).
  std::atomic<std::int64_t> lastpoll{1};
  std::atomic<std::int64_t> poll_until{0};  // that M's wake-up deadline (0: none)

  Lock cache_lock;  // guards the cache
  // The cache's blocks, indexed by pollDesc index / kPollBlock. The table never moves: a block
  // pointer is published (release) before `count` covers it (release), and the poller, which
  // looks pollDescs up by index without cache_lock, reads count and then the block (acquire).
  static constexpr std::uint32_t kPollBlock = 256;
  static constexpr std::uint32_t kMaxBlocks = 8192;  // 2M pollDescs: beyond any fd limit here
  std::unique_ptr<std::atomic<PollDesc*>[]> blocks { new std::atomic<PollDesc*>[kMaxBlocks] {} };
  std::atomic<std::uint32_t> count{0};  // written under cache_lock
  PollDescFreeList free;  // LIFO: a closed pollDesc is the next one opened; cache_lock

  PollDesc* at(std::uint32_t index) const;
  ~Netpoll();
};

// ---- backend (netpoll_epoll.cpp) ----
void netpollinit(Sched* s);
void netpollfini(Sched* s);
int netpollopen(Sched* s, int fd, PollDesc* pd);
void netpollclose(Sched* s, int fd);
void netpoll(Sched* s, std::int64_t delay, std::vector<G*>& ready);
void netpollbreak(Sched* s);

// ---- generic (netpoll.cpp) ----
// netpollready records readiness for mode 'r', 'w' or 'r'+'w' (everr: the event was EPOLLERR
// alone, set or cleared by each event as in Go; nodrain: any of EPOLLPRI / RDHUP / HUP / ERR,
// N6) and collects the woken Gs — unless the event is stale: its fdseq is not pd's any more
// (N5).
void netpollready(std::vector<G*>& ready, PollDesc* pd, int mode, std::uint32_t fdseq, bool everr,
                  bool nodrain);

// ---- the seam net/ uses (Go's runtime_poll*) ----
// poll_open registers fd; on failure returns null and sets err.
PollDesc* poll_open(Sched* s, int fd, std::error_code& err);
// poll_close unregisters and frees; poll_unblock must have run and no G may wait any more.
void poll_close(Sched* s, PollDesc* pd);
// poll_reset prepares a read ('r') or write ('w'): clears stale readiness' error state.
PollErr poll_reset(PollDesc* pd, int mode);
// poll_prepare_read prepares a read: poll_reset(pd, 'r') if !drained; if drained (the last
// read on this stream came back short, net/fd.hpp D1-D5) it keeps any pdReady and waits for
// readiness as poll_wait does — unless the poller has seen nodrain (N6), when it falls back to
// poll_reset. Errors as poll_reset / poll_wait.
PollErr poll_prepare_read(PollDesc* pd, bool drained);
// poll_wait parks the calling fiber until fd is ready for mode, or the deadline passes, or the
// descriptor is closed.
PollErr poll_wait(PollDesc* pd, int mode);
// poll_set_deadline sets the read ('r'), write ('w') or both ('r'+'w') deadline: nanotime, 0
// to clear, <= now to expire at once (waking a waiter).
void poll_set_deadline(Sched* s, PollDesc* pd, std::int64_t d, int mode);
// poll_unblock marks pd closing and wakes both waiters (they see PollErr::closing).
void poll_unblock(PollDesc* pd);

}  // namespace weft::detail
