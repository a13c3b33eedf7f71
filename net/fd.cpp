// fd: netFD — EAGAIN becomes a park on the pollDesc; close is deferred to the last reference.
// Go's src/internal/poll/fd_unix.go (Read, Write, ReadFrom, WriteTo, Accept) and net/fd_unix.go
// (connect). The loops' rules are at the top of fd.hpp.
#include "fd.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "proc.hpp"

namespace weft::net::detail {

using weft::detail::PollErr;

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
  // each runs on a copy of the shared_ptr).
  if (mark_closed() && mu.decref()) destroy();
}

bool NetFD::mark_closed() {
  if (!mu.increfAndClose()) return false;
  if (pd) weft::detail::poll_unblock(pd);  // wakes readers and writers: they see errc::closed
  if (!unlink_path.empty()) ::unlink(unlink_path.c_str());  // first close only: we are it
  return true;
}

void NetFD::destroy() {
  if (pd) weft::detail::poll_close(sched, pd);
  pd = nullptr;
  ::close(sysfd);
}

std::error_code NetFD::close() {
  if (!mark_closed()) return make_error_code(errc::closed);
  if (mu.decref()) destroy();
  return {};
}

namespace {

// sys_recv / sys_send: the read and write loops' system calls, made directly. glibc's recv and
// send are cancellation points, which costs two atomic read-modify-writes around each call
// (~2.5 % of an echo server's CPU); nothing cancels a fiber's thread with pthread_cancel, and Go
// makes raw system calls too. Sanitized builds keep libc's, which their interceptors see.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
ssize_t sys_recv(int fd, void* buf, std::size_t len) { return ::recv(fd, buf, len, 0); }
ssize_t sys_send(int fd, const void* buf, std::size_t len, int flags) {
  return ::send(fd, buf, len, flags);
}
#else
ssize_t sys_recv(int fd, void* buf, std::size_t len) {
  return ::syscall(SYS_recvfrom, fd, buf, len, 0, nullptr, nullptr);
}
ssize_t sys_send(int fd, const void* buf, std::size_t len, int flags) {
  return ::syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
}
#endif

// retry handles a failed system call's errno inside an I/O loop: true to try again (EINTR, or
// EAGAIN and the fd became ready), false with *err set otherwise.
bool retry(weft::detail::PollDesc* pd, int mode, int e, std::error_code* err) {
  if (e == EINTR) return true;
  if (e == EAGAIN) {
    PollErr pe = weft::detail::poll_wait(pd, mode);
    *err = to_error(pe);
    return pe == PollErr::none;
  }
  *err = sys(e);
  return false;
}

}  // namespace

IoResult NetFD::read(std::span<std::byte> buf) {
  if (!mu.rwlock(true)) return {0, make_error_code(errc::closed)};
  IoResult r;
  // An empty buffer reads nothing and returns at once (Go: a zero-byte read is not EOF).
  bool hint = drain_hint.load(std::memory_order_relaxed);
  if (!buf.empty()) r.err = to_error(weft::detail::poll_prepare_read(pd, rdrained && hint));
  while (!buf.empty() && !r.err) {
    ssize_t n = sys_recv(sysfd, buf.data(), buf.size());
    if (n >= 0) {
      r.n = std::size_t(n);
      // Zero bytes: the end of a stream, or an empty datagram (not an error).
      if (n == 0 && stream) r.err = make_error_code(errc::eof);
      rdrained = hint && n > 0 && r.n < buf.size();  // D1
      break;
    }
    int e = errno;  // read at once: nothing below may run before it is saved
    if (e == EAGAIN) ++eagain_reads;
    if (!retry(pd, 'r', e, &r.err)) break;
  }
  if (mu.rwunlock(true)) destroy();
  return r;
}

IoResult NetFD::write(std::span<const std::byte> buf) {
  if (!mu.rwlock(false)) return {0, make_error_code(errc::closed)};
  IoResult r;
  r.err = to_error(weft::detail::poll_reset(pd, 'w'));
  while (!r.err) {
    // MSG_NOSIGNAL: a write to a closed peer is EPIPE, never SIGPIPE.
    ssize_t n = sys_send(sysfd, buf.data() + r.n, buf.size() - r.n, MSG_NOSIGNAL);
    if (n >= 0) {
      r.n += std::size_t(n);
      if (r.n == buf.size() || !stream) break;  // a datagram goes out whole, in one call
      if (n == 0) {                             // a stream that takes nothing: never loop on it
        r.err = sys(EIO);
        break;
      }
      continue;
    }
    int e = errno;
    if (!retry(pd, 'w', e, &r.err)) break;
  }
  if (mu.rwunlock(false)) destroy();
  return r;
}

IoResult NetFD::read_from(std::span<std::byte> buf, Addr* from) {
  if (!mu.rwlock(true)) return {0, make_error_code(errc::closed)};
  IoResult r;
  r.err = to_error(weft::detail::poll_reset(pd, 'r'));
  while (!r.err) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    // A longer datagram is truncated to buf; an empty buf consumes one datagram (as recvfrom).
    ssize_t n =
        ::recvfrom(sysfd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n >= 0) {
      r.n = std::size_t(n);
      *from = Addr(reinterpret_cast<sockaddr*>(&ss), len);
      break;
    }
    int e = errno;
    if (!retry(pd, 'r', e, &r.err)) break;
  }
  if (mu.rwunlock(true)) destroy();
  return r;
}

IoResult NetFD::write_to(std::span<const std::byte> buf, const Addr& to) {
  if (!mu.rwlock(false)) return {0, make_error_code(errc::closed)};
  IoResult r;
  r.err = to_error(weft::detail::poll_reset(pd, 'w'));
  while (!r.err) {
    ssize_t n = ::sendto(sysfd, buf.data(), buf.size(), MSG_NOSIGNAL, to.raw(), to.size());
    if (n >= 0) {
      r.n = std::size_t(n);
      break;
    }
    int e = errno;
    if (!retry(pd, 'w', e, &r.err)) break;
  }
  if (mu.rwunlock(false)) destroy();
  return r;
}

Result<int> NetFD::accept(Addr* remote) {
  if (!mu.rwlock(true)) return {-1, make_error_code(errc::closed)};
  Result<int> r{-1, to_error(weft::detail::poll_reset(pd, 'r'))};
  while (!r.err) {
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
    if (e == ECONNABORTED) continue;  // the peer gave up while queued: take the next one
    // EMFILE/ENFILE are returned like any other error: retrying at once would spin while the
    // pending connection keeps the fd readable. The caller backs off (documented in conn.hpp).
    if (!retry(pd, 'r', e, &r.err)) break;
  }
  if (mu.rwunlock(true)) destroy();
  return r;
}

std::error_code NetFD::connect(const Addr& to) {
  if (!mu.rwlock(false)) return make_error_code(errc::closed);
  std::error_code err = to_error(weft::detail::poll_reset(pd, 'w'));  // a past deadline: done
  bool wait = false;
  if (!err) {
    if (::connect(sysfd, to.raw(), to.size()) != 0) {
      int e = errno;
      if (e == EINPROGRESS || e == EALREADY || e == EINTR) {
        wait = true;  // EINTR: the connect goes on in the background, as EINPROGRESS (Go)
      } else if (e != EISCONN) {
        err = sys(e);
      }
    }
  }
  while (wait) {
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
    if (soerr == EISCONN) break;
    if (soerr != 0) {
      err = sys(soerr);
      break;
    }
    // No error: connected, unless the wakeup was spurious (Go issues 14548, 19289).
    sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(sysfd, reinterpret_cast<sockaddr*>(&ss), &sl) == 0) break;
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

std::error_code NetFD::setsockopt_int(int level, int name, int value) {
  if (!mu.incref()) return make_error_code(errc::closed);
  std::error_code err;
  if (::setsockopt(sysfd, level, name, &value, sizeof value) != 0) err = sys(errno);
  if (mu.decref()) destroy();
  return err;
}

}  // namespace weft::net::detail
