// fd: netFD — one socket, its fdMutex and its pollDesc: the read/write/accept/connect loops that
// turn EAGAIN into a park on the poller. Go's src/internal/poll/fd_unix.go and net/fd_unix.go.
//
// Every operation holds an fdMutex reference (incref or a read/write lock) for its whole run;
// close marks the mutex closed, wakes waiters through poll_unblock, and the operation that drops
// the last reference unregisters the pollDesc and calls close(2) (fd_mutex.hpp F4), so the fd
// number is never reused under a running operation.
#pragma once

#include <weft/net.hpp>

#include "fd_mutex.hpp"
#include "netpoll.hpp"

namespace weft::net::detail {

struct NetFD {
  NetFD(weft::detail::Sched* s, int fd, bool stream) : sched(s), sysfd(fd), stream(stream) {}
  ~NetFD();
  NetFD(const NetFD&) = delete;
  NetFD& operator=(const NetFD&) = delete;

  // init registers with the poller.
  std::error_code init();
  IoResult read(std::span<std::byte> buf);
  IoResult write(std::span<const std::byte> buf);
  Result<int> accept(Addr* remote);
  std::error_code connect(const Addr& to);
  std::error_code close();
  std::error_code shutdown(int how);
  std::error_code set_deadline(std::int64_t ns, int mode);

  weft::detail::Sched* sched;
  int sysfd;
  bool stream;
  FdMutex mu;
  weft::detail::PollDesc* pd = nullptr;
  Addr laddr, raddr;

 private:
  void destroy();  // the last reference of a closed fd: unregister, close(2)
};

// to_error maps a poller error to weft::net's error codes.
std::error_code to_error(weft::detail::PollErr e);

}  // namespace weft::net::detail
