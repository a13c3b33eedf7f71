// weft/net/conn.hpp: Conn (a connected socket), Listener and PacketConn.
// Go's net/net.go (Conn, Listener, PacketConn) and the TCP/UDP/Unix specifics of tcpsock.go.
//
// Calls that wait (accept, read, write, read_from, write_to) must run on a fiber of the runtime
// that created the socket; close, the deadlines and the options may be called from any thread.
// Copies share one socket, like Go's interface values: close from one fiber wakes another blocked
// in read, write or accept with errc::closed, and every later call returns errc::closed. The
// socket is closed by close() or when the last copy is destroyed. Sockets must not outlive the
// weft::Runtime that created them.
//
// Deadlines (Go's SetDeadline): an absolute steady_clock instant after which waiting I/O fails
// with errc::timeout instead of blocking, including calls already blocked; a deadline in the past
// fails even when data is ready or buffer space free; time_point{} clears it. A deadline is never
// early: the error comes at or after the instant. Read and write deadlines are independent; an
// expired deadline stays expired until it is changed.
#pragma once

#include <chrono>
#include <memory>
#include <span>

#include <weft/context.hpp>
#include <weft/net/addr.hpp>
#include <weft/net/errors.hpp>

namespace weft::net {

namespace detail {
struct NetFD;
struct ConnAccess;  // defined where the internals are needed (weft's tests), nowhere else
}  // namespace detail

// time_point: deadlines are steady_clock instants (weft::time_point).
using time_point = std::chrono::steady_clock::time_point;

// Conn: a connected stream ("tcp", "unix") or datagram ("udp", "unixgram" dialed) socket.
class Conn {
 public:
  // Conn(): an empty Conn (false); its calls return errc::closed.
  Conn() = default;
  // Made by dial and accept (not a public API).
  explicit Conn(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}

  // read reads up to buf.size() bytes. Streams: n > 0, or an error (errc::eof once the peer
  // closed its side). Datagram sockets: one datagram, truncated to buf (n = 0 for an empty one).
  // An empty buf returns {0, {}} at once.
  IoResult read(std::span<std::byte> buf);
  // write writes all of buf unless an error stops it; n is what was written either way. A
  // datagram socket sends buf as one datagram (an empty buf: an empty datagram). Never raises
  // SIGPIPE: a write to a closed peer is EPIPE (or ECONNRESET).
  IoResult write(std::span<const std::byte> buf);
  // read / write under a context (Go code passes a ctx and arranges this by hand): the call
  // ends when ctx does — at its deadline with errc::timeout, when cancelled with
  // context_errc::canceled (partial counts kept). The context's deadline replaces this
  // direction's deadline for the call, which is cleared afterwards. Costs a watcher fiber per
  // call when ctx can be cancelled; use the plain calls and deadlines on hot paths.
  IoResult read(std::span<std::byte> buf, const Context& ctx);
  IoResult write(std::span<const std::byte> buf, const Context& ctx);
  std::error_code close();
  // close_read / close_write shut one direction down (shutdown(2)): after close_write the peer
  // reads errc::eof and can still send; after close_read reads return errc::eof.
  std::error_code close_read();
  std::error_code close_write();
  std::error_code set_deadline(time_point t);  // both directions
  std::error_code set_read_deadline(time_point t);
  std::error_code set_write_deadline(time_point t);
  Addr local_addr() const;
  Addr remote_addr() const;
  // TCP options (an OS error on other sockets). Go's defaults apply to every TCP Conn: no delay
  // on, keep-alive on with a 15 s period (see DialOptions/ListenOptions::keep_alive).
  std::error_code set_no_delay(bool on);
  std::error_code set_keep_alive(bool on);
  std::error_code set_keep_alive_period(std::chrono::seconds period);
  // fd: the native descriptor (non-blocking), -1 for an empty Conn. It stays owned by the Conn:
  // do not close it, and do not use it after close(). Taking it makes every later read on a TCP
  // Conn try the system call first, as Go does, instead of waiting for the poller after a
  // short read: options set through it (SO_RCVLOWAT, a TCP_ULP) can change what a short read
  // means.
  int fd() const;
  explicit operator bool() const { return fd_ != nullptr; }

 private:
  friend struct detail::ConnAccess;
  std::shared_ptr<detail::NetFD> fd_;
};

// Listener: a listening stream socket ("tcp", "unix").
class Listener {
 public:
  // Listener(): an empty Listener (false); its calls return errc::closed.
  Listener() = default;
  // Made by listen (not a public API).
  explicit Listener(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}
  // accept waits for the next connection. Connections aborted before they were accepted are
  // skipped. EMFILE/ENFILE (out of descriptors) are returned to the caller, not retried: a server
  // should back off before accepting again (Go's net/http sleeps 5 ms, doubling up to 1 s) — the
  // pending connection stays in the backlog meanwhile.
  Result<Conn> accept();
  // close stops listening; a fiber blocked in accept gets errc::closed. A Unix listener removes
  // its socket file on the first close (explicit or by the last copy's destructor), only then.
  std::error_code close();
  // set_deadline: accept's deadline (semantics at the top of this file).
  std::error_code set_deadline(time_point t);
  Addr addr() const;
  // fd: the native descriptor, -1 for an empty Listener; owned by the Listener. Conns accepted
  // after it is taken read as Conn::fd() describes (they inherit options such as SO_RCVLOWAT).
  int fd() const;
  explicit operator bool() const { return fd_ != nullptr; }

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

// ReadFromResult: a datagram's size, its sender and an error (`auto [n, from, err] = ...`).
struct ReadFromResult {
  std::size_t n = 0;
  Addr addr;
  std::error_code err;
};

// PacketConn: an unconnected datagram socket ("udp", "unixgram") from listen_packet.
class PacketConn {
 public:
  // PacketConn(): an empty PacketConn (false); its calls return errc::closed.
  PacketConn() = default;
  // Made by listen_packet (not a public API).
  explicit PacketConn(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}
  // read_from waits for one datagram; a datagram longer than buf is truncated to it (the rest is
  // discarded, as in Go) and an empty one gives n = 0 without an error.
  ReadFromResult read_from(std::span<std::byte> buf);
  // write_to sends buf as one datagram to `to` (an empty buf sends an empty datagram).
  IoResult write_to(std::span<const std::byte> buf, const Addr& to);
  std::error_code close();
  std::error_code set_deadline(time_point t);
  std::error_code set_read_deadline(time_point t);
  std::error_code set_write_deadline(time_point t);
  Addr local_addr() const;
  int fd() const;
  explicit operator bool() const { return fd_ != nullptr; }

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

}  // namespace weft::net
