// fd: netFD — EAGAIN becomes a park on the pollDesc; close is deferred to the last reference.
// Go's src/internal/poll/fd_unix.go.
#include "fd.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "proc.hpp"

namespace weft::net::detail {

using weft::detail::PollErr;

namespace {

std::error_code sys(int e) { return {e, std::system_category()}; }

}  // namespace

std::error_code to_error(PollErr e) {
  switch (e) {
    case PollErr::none:
      return {};
    case PollErr::closing:
      return make_error_code(errc::closed);
    case PollErr::timeout:
      return make_error_code(errc::timeout);
    case PollErr::not_pollable:
      return make_error_code(errc::not_pollable);
  }
  return make_error_code(errc::closed);
}

std::error_code NetFD::init() {
  std::error_code err;
  pd = weft::detail::poll_open(sched, sysfd, err);
  return err;
}

NetFD::~NetFD() {
  // The last Conn/Listener copy is gone: close if nobody did (no operation can be running:
  // each holds a copy of the shared_ptr).
  if (mu.increfAndClose()) {
    if (pd) weft::detail::poll_unblock(pd);
    if (mu.decref()) destroy();
  }
}

void NetFD::destroy() {
  if (pd) weft::detail::poll_close(sched, pd);
  pd = nullptr;
  if (sysfd >= 0) ::close(sysfd);
  sysfd = -1;
}

std::error_code NetFD::close() {
  if (!mu.increfAndClose()) return make_error_code(errc::closed);
  weft::detail::poll_unblock(pd);  // wakes readers and writers: they see errc::closed
  if (mu.decref()) destroy();
  return {};
}

IoResult NetFD::read(std::span<std::byte> buf) {
  if (!mu.rwlock(true)) return {0, make_error_code(errc::closed)};
  IoResult r;
  if (PollErr e = weft::detail::poll_reset(pd, 'r'); e != PollErr::none) {
    r.err = to_error(e);
  } else {
    for (;;) {
      ssize_t n = ::read(sysfd, buf.data(), buf.size());
      if (n > 0) {
        r.n = std::size_t(n);
        break;
      }
      if (n == 0) {
        // A zero-byte read is the end of a stream (and an empty buffer reads nothing).
        if (stream && !buf.empty()) r.err = make_error_code(errc::eof);
        break;
      }
      int e = errno;  // read at once: nothing below may run before it is saved
      if (e == EINTR) continue;
      if (e == EAGAIN) {
        if (PollErr pe = weft::detail::poll_wait(pd, 'r'); pe != PollErr::none) {
          r.err = to_error(pe);
          break;
        }
        continue;
      }
      r.err = sys(e);
      break;
    }
  }
  if (mu.rwunlock(true)) destroy();
  return r;
}

IoResult NetFD::write(std::span<const std::byte> buf) {
  if (!mu.rwlock(false)) return {0, make_error_code(errc::closed)};
  IoResult r;
  if (PollErr e = weft::detail::poll_reset(pd, 'w'); e != PollErr::none) {
    r.err = to_error(e);
  } else {
    while (r.n < buf.size()) {
      // MSG_NOSIGNAL: a write to a closed peer is EPIPE, never SIGPIPE.
      ssize_t n = ::send(sysfd, buf.data() + r.n, buf.size() - r.n, MSG_NOSIGNAL);
      if (n >= 0) {
        r.n += std::size_t(n);
        continue;
      }
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) {
        if (PollErr pe = weft::detail::poll_wait(pd, 'w'); pe != PollErr::none) {
          r.err = to_error(pe);
          break;
        }
        continue;
      }
      r.err = sys(e);
      break;
    }
  }
  if (mu.rwunlock(false)) destroy();
  return r;
}

Result<int> NetFD::accept(Addr* remote) {
  if (!mu.rwlock(true)) return {-1, make_error_code(errc::closed)};
  Result<int> r{-1, {}};
  if (PollErr e = weft::detail::poll_reset(pd, 'r'); e != PollErr::none) {
    r.err = to_error(e);
  } else {
    for (;;) {
      sockaddr_storage ss;
      socklen_t len = sizeof ss;
      int nfd =
          ::accept4(sysfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (nfd >= 0) {
        *remote = Addr(reinterpret_cast<sockaddr*>(&ss), len);
        r.value = nfd;
        break;
      }
      int e = errno;
      if (e == EINTR || e == ECONNABORTED) continue;  // the peer gave up: take the next one
      if (e == EAGAIN) {
        if (PollErr pe = weft::detail::poll_wait(pd, 'r'); pe != PollErr::none) {
          r.err = to_error(pe);
          break;
        }
        continue;
      }
      r.err = sys(e);  // EMFILE/ENFILE included: the caller backs off (documented)
      break;
    }
  }
  if (mu.rwunlock(true)) destroy();
  return r;
}

std::error_code NetFD::connect(const Addr& to) {
  for (;;) {
    if (::connect(sysfd, to.raw(), to.size()) == 0) return {};
    int e = errno;
    if (e == EINTR) continue;
    if (e != EINPROGRESS) return sys(e);
    break;
  }
  if (!mu.rwlock(false)) return make_error_code(errc::closed);
  std::error_code err;
  for (;;) {
    if (PollErr pe = weft::detail::poll_wait(pd, 'w'); pe != PollErr::none) {
      err = to_error(pe);
      break;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(sysfd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
      err = sys(errno);
      break;
    }
    if (soerr == EINPROGRESS || soerr == EALREADY || soerr == EINTR) continue;
    if (soerr != 0) err = sys(soerr);
    break;
  }
  if (mu.rwunlock(false)) destroy();
  return err;
}

std::error_code NetFD::shutdown(int how) {
  if (!mu.incref()) return make_error_code(errc::closed);
  std::error_code err;
  if (::shutdown(sysfd, how) != 0) err = sys(errno);
  if (mu.decref()) destroy();
  return err;
}

std::error_code NetFD::set_deadline(std::int64_t ns, int mode) {
  if (!mu.incref()) return make_error_code(errc::closed);
  weft::detail::poll_set_deadline(sched, pd, ns, mode);
  if (mu.decref()) destroy();
  return {};
}

}  // namespace weft::net::detail
