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
//
// # The read that would fail (TCP)
//
// Go reads until EAGAIN, so a request on a ping-pong connection costs two reads: one with the
// data and one that fails before the fiber parks (~8 % of an echo server's CPU). On TCP the
// second one is predictable: a recv that returns fewer bytes than asked has emptied the receive
// queue (epoll(7): for stream-oriented files a short read means the read I/O space is
// exhausted). After such a read the next read waits for the poller first, without the system
// call, and without poll_reset's clearing of stale readiness (poll_prepare_read, drained):
//  D1. Data that arrives after the short read raises a new edge: the kernel queues it, then
//      calls the socket's wakeup (sk_data_ready, also for what release_sock takes from the
//      backlog), and the epoll item is harvested after that, so the poller leaves pdReady or
//      wakes the reader (N3). A pdReady from before the short read only costs a failed recv,
//      which then parks as in Go's loop.
//  D2. Three things can make a recv short and leave the fd readable with no edge to come: an
//      urgent mark (the read stops before it), a FIN (taken with the data before it: the next
//      recv returns 0) and a reset or error (the next recv returns it). Each sets EPOLLPRI,
//      EPOLLRDHUP, EPOLLHUP or EPOLLERR in every harvest after it arrived (registered with
//      EPOLLPRI for that). That harvest sets nodrain before it moves rg (N6), and from then on
//      reads go Go's way. If it came before the short read, the reader either consumed its
//      pdReady or was woken by it (synchronized: it sees nodrain), or the word still holds
//      pdReady (the drained read consumes it), or poll_reset cleared it later (seq_cst: the
//      info load after that store sees nodrain). If it comes after, it is an edge as in D1.
//      Not covered: an urgent byte that arrives out of order without the URG flag, its
//      pointer coming later (only a misbehaving peer sends that; Linux flags the segment that
//      carries the byte). The read stops at the mark while the kernel still reports no
//      EPOLLPRI ("urgent: not yet"), and the rest waits for the next edge or the deadline.
//  D3. A deadline or close ends the drained wait as any wait; the hint stays, nothing was read.
//  D4. The hint is the reader's (fdMutex's read lock); only NetFD::read uses it, only on TCP
//      as the kernel made it (SO_PROTOCOL, checked once at socket(); accepted sockets inherit
//      their listener's): Unix stream sockets also stop short at a message carrying
//      descriptors or credentials, datagrams are whole messages, and a preload library or BPF
//      hook may have made the socket SMC or MPTCP.
//  D5. Conn::fd() turns the hint off for good, and Listener::fd() for every Conn accepted
//      after it: with the descriptor a program can change what a short read means
//      (SO_RCVLOWAT, which accepted sockets inherit, delays the edge until that much is
//      queued; a TCP_ULP such as kernel TLS stops reads at record boundaries), and weft cannot
//      see it. (Nor can it see a sockmap or sockops BPF program doing the same.)
//  Cost: data that arrives between a short read and the next read is read when the poller
//  next runs (an idle P's findrunnable, at once on a lightly loaded runtime; sysmon's 10 ms
//  poll when every P stays busy) instead of by that read's recv, as Go would.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>

#include <weft/net.hpp>

#include "errors.hpp"
#include "fd_mutex.hpp"
#include "netpoll.hpp"

namespace weft::net::detail {

struct NetFD {
  NetFD(weft::detail::Sched* s, int fd, int family, int sotype)
      : sched(s),
        sysfd(fd),
        family(family),
        sotype(sotype),
        stream(sotype == SOCK_STREAM),
        drain_hint{stream && (family == AF_INET || family == AF_INET6)} {}
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
  // TCP and fd() never called: a short read proves the fd drained (D1-D5). Relaxed: fd()
  // clears it, in the same fiber as the reads it must affect or synchronized with them.
  std::atomic<bool> drain_hint;
  // Guarded by the read lock: the last read came back short (D1), and how many recvs failed
  // with EAGAIN (tests check that a drained read makes none).
  bool rdrained = false;
  std::uint64_t eagain_reads = 0;
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
