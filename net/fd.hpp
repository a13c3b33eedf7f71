// fd: netFD — one socket, its fdMutex and its pollDesc: the read/write/accept/connect loops that
// turn EAGAIN into a park on the poller. Go's src/internal/poll/fd_unix.go and net/fd_unix.go.
//
// Every operation holds an fdMutex reference (incref or a read/write lock) for its whole run;
// close marks the mutex closed, wakes waiters through poll_unblock, and the operation that drops
// the last reference unregisters the pollDesc and calls close(2) (fd_mutex.hpp F4), so the fd
// number is never reused under a running operation.
//
// Loops (all of them): EINTR is retried; EAGAIN parks on the pollDesc until ready, a deadline
// or close; the error state (closed > deadline) is checked before the first attempt, so a past
// deadline beats ready data. accept skips ECONNABORTED and returns EMFILE/ENFILE. A zero-byte
// read is EOF on a stream and an empty datagram otherwise. write loops until all is written or
// an error, reporting the partial count with it; sends use MSG_NOSIGNAL (never SIGPIPE).
#pragma once

#include <chrono>
#include <string>

#include <weft/net.hpp>

#include "errors.hpp"
#include "fd_mutex.hpp"
#include "netpoll.hpp"

namespace weft::net::detail {

struct NetFD {
  NetFD(weft::detail::Sched* s, int fd, int family, int sotype)
      : sched(s), sysfd(fd), family(family), sotype(sotype), stream(sotype == SOCK_STREAM) {}
  ~NetFD();
  NetFD(const NetFD&) = delete;
  NetFD& operator=(const NetFD&) = delete;

  // init registers with the poller.
  std::error_code init();
  IoResult read(std::span<std::byte> buf);
  IoResult write(std::span<const std::byte> buf);
  IoResult read_from(std::span<std::byte> buf, Addr* from);
  IoResult write_to(std::span<const std::byte> buf, const Addr& to);
  Result<int> accept(Addr* remote);
  // connect: non-blocking connect, then wait until writable (under the write deadline) and read
  // SO_ERROR. Only before the fd is shared (Go's netFD.connect: nothing else can run on it).
  std::error_code connect(const Addr& to);
  std::error_code close();
  std::error_code shutdown(int how);
  // set_deadline: nanotime, 0 to clear; mode 'r', 'w' or 'r' + 'w'.
  std::error_code set_deadline(std::int64_t ns, int mode);
  // setsockopt_int sets an int socket option while holding a reference (never on a reused fd).
  std::error_code setsockopt_int(int level, int name, int value);

  weft::detail::Sched* const sched;
  // sysfd: constant; close(2)d by destroy under the last reference (the number may then be
  // reused by another open, so nothing uses it without holding a reference).
  const int sysfd;
  const int family;
  const int sotype;
  const bool stream;  // SOCK_STREAM: a zero-byte read is EOF
  FdMutex mu;
  // pd: set by init before the NetFD is shared; cleared by destroy.
  weft::detail::PollDesc* pd = nullptr;
  // laddr, raddr, unlink_path: set before the NetFD is shared, constant afterwards.
  Addr laddr, raddr;
  std::string unlink_path;  // a Unix listener's socket file, removed by the first close
  std::chrono::nanoseconds keep_alive{0};  // a TCP listener's for accepted conns (ListenOptions)

 private:
  bool mark_closed();  // increfAndClose + poll_unblock + unlink; false if already closed
  void destroy();      // the last reference of a closed fd: unregister, close(2)
};

// to_error maps a poller error to weft::net's error codes.
std::error_code to_error(weft::detail::PollErr e);

}  // namespace weft::net::detail
