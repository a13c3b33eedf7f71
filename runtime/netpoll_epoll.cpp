// netpoll_epoll: the Linux backend of the network poller — edge-triggered epoll, an eventfd as
// the break channel. Follows Go's src/runtime/netpoll_epoll.go; the contract is in netpoll.hpp.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "debug.hpp"
#include "netpoll.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

constexpr std::uint64_t kBreakTag = ~std::uint64_t(0);

// Event data: the pollDesc's cache index and its fdseq at registration (N5).
std::uint64_t tag(PollDesc* pd) {
  return (std::uint64_t(pd->fdseq.load(std::memory_order_relaxed)) << 32) | pd->index;
}

}  // namespace

void netpollinit(Sched* s) {
  Netpoll& np = s->netpoll;
  np.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (np.epfd < 0) fatal("netpollinit: epoll_create1 failed: %s", std::strerror(errno));
  np.breakfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (np.breakfd < 0) fatal("netpollinit: eventfd failed: %s", std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kBreakTag;
  if (epoll_ctl(np.epfd, EPOLL_CTL_ADD, np.breakfd, &ev) != 0) {
    fatal("netpollinit: epoll_ctl(eventfd) failed: %s", std::strerror(errno));
  }
}

void netpollfini(Sched* s) {
  Netpoll& np = s->netpoll;
  if (np.breakfd >= 0) close(np.breakfd);
  if (np.epfd >= 0) close(np.epfd);
  np.breakfd = np.epfd = -1;
}

int netpollopen(Sched* s, int fd, PollDesc* pd) {
  epoll_event ev{};
  // EPOLLPRI: TCP urgent data, which can stop a read short with more to read (N6).
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
  ev.data.u64 = tag(pd);
  return epoll_ctl(s->netpoll.epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

void netpollclose(Sched* s, int fd) {
  epoll_event ev{};
  epoll_ctl(s->netpoll.epfd, EPOLL_CTL_DEL, fd, &ev);  // ENOENT/EBADF: already gone, fine
}

void netpollbreak(Sched* s) {
  Netpoll& np = s->netpoll;
  std::uint32_t zero = 0;
  if (!np.wakesig.compare_exchange_strong(zero, 1)) return;  // one pending wakeup at a time
  std::uint64_t one = 1;
  while (write(np.breakfd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void netpoll(Sched* s, std::int64_t delay, std::vector<G*>& ready) {
  Netpoll& np = s->netpoll;
  epoll_event events[128];
  int n;
  if (delay <= 0) {
    n = epoll_wait(np.epfd, events, 128, delay < 0 ? -1 : 0);
  } else {
    // Nanosecond timeout: a millisecond one would have to round and could fire early or late.
    timespec ts{time_t(delay / 1000000000), long(delay % 1000000000)};
    n = epoll_pwait2(np.epfd, events, 128, &ts, nullptr);
    if (n < 0 && errno == ENOSYS) {
      n = epoll_wait(np.epfd, events, 128, int((delay + 999999) / 1000000));  // round up
    }
  }
  if (n < 0) {
    if (errno == EINTR) return;  // the caller re-evaluates
    fatal("netpoll: epoll_wait failed: %s", std::strerror(errno));
  }
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events[i];
    if (ev.data.u64 == kBreakTag) {
      std::uint64_t buf;
      while (read(np.breakfd, &buf, sizeof buf) < 0 && errno == EINTR) {
      }
      np.wakesig.store(0);
      continue;
    }
    PollDesc* pd = np.at(std::uint32_t(ev.data.u64));
    if (!pd) continue;
    int mode = 0;
    if (ev.events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) mode += 'r';
    if (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) mode += 'w';
    if (mode == 0) continue;
    // N5: netpollready drops it if the descriptor was closed (and maybe reused) since.
    // everr only for EPOLLERR alone, as Go: with readiness beside it (a reset: IN, HUP, ERR)
    // the system call reports the error itself, ECONNRESET rather than "not pollable".
    netpollready(ready, pd, mode, std::uint32_t(ev.data.u64 >> 32), ev.events == EPOLLERR,
                 ev.events & (EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR));
  }
}

}  // namespace weft::detail
