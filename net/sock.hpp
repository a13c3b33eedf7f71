// sock: creating a socket and making it a listener, a bound datagram socket or a connection.
// Go's net/sock_posix.go (socket, listenStream, listenDatagram, dial) and sockopt_linux.go.
#pragma once

#include <chrono>
#include <memory>

#include <weft/context.hpp>

#include "fd.hpp"

namespace weft::net::detail {

// SocketSpec: what socket() builds.
struct SocketSpec {
  int family;                    // AF_INET, AF_INET6 or AF_UNIX
  int sotype;                    // SOCK_STREAM or SOCK_DGRAM
  bool ipv6only = false;         // AF_INET6: IPV6_V6ONLY ("tcp6"/"udp6"); else IPv4 too
  const Addr* laddr = nullptr;   // bind to it
  const Addr* raddr = nullptr;   // connect to it (dial); without it: listen or bound datagram
  int backlog = 0;               // listeners; 0: SOMAXCONN
  bool reuse_port = false;       // listeners: SO_REUSEPORT
  std::int64_t deadline = 0;     // dial: nanotime by which the connect must finish; 0: none
  const Context* ctx = nullptr;  // dial: cancelling it interrupts the connect
};

// CtxWatch: while it lives, a watcher fiber waits for ctx to end and then sets fd's `mode`
// deadline ('r', 'w') into the past, waking the I/O in progress (Go's netFD.connect with a ctx).
// The destructor stops the watcher and waits for it, so it never touches fd afterwards.
class CtxWatch {
 public:
  CtxWatch(NetFD& fd, const Context& ctx, int mode);
  ~CtxWatch();
  CtxWatch(const CtxWatch&) = delete;
  CtxWatch& operator=(const CtxWatch&) = delete;
  // interrupted: ctx ended while watched; error: why, as the I/O call reports it (a passed
  // deadline is errc::timeout, like every other deadline; a cancel is context_errc::canceled).
  bool interrupted() const { return interrupted_.load(); }
  std::error_code error() const;
  void stop();

 private:
  const Context& ctx_;
  Chan<std::monostate> stop_{0};
  WaitGroup watcher_;
  std::atomic<bool> interrupted_{false};
  bool stopped_ = false;
};

// socket creates a socket — SOCK_NONBLOCK | SOCK_CLOEXEC, with Go's default options (V6ONLY as
// asked, SO_BROADCAST on IP datagram sockets, SO_REUSEADDR on listeners) — and then, as Go's
// socket(): laddr without raddr: bind and listen (stream) or bind (datagram); with raddr: bind
// to laddr if given, then connect under the deadline. The result is registered with the poller
// and knows its addresses. On failure nothing is left open.
Result<std::shared_ptr<NetFD>> socket(weft::detail::Sched* s, const SocketSpec& spec);

// new_accepted wraps a descriptor returned by accept (already non-blocking, close-on-exec).
Result<std::shared_ptr<NetFD>> new_accepted(const NetFD& listener, int sysfd, const Addr& remote);

// set_tcp_defaults: Go's options for every TCP connection — TCP_NODELAY on, keep-alive on with
// the given period (0: 15 s) or off (< 0). Defined in tcpsock.cpp.
std::error_code set_tcp_defaults(NetFD& fd, std::chrono::nanoseconds keep_alive);

// to_ns converts a deadline to poll_set_deadline's nanotime (time_point{}: 0, none).
std::int64_t to_ns(time_point t);

}  // namespace weft::net::detail

namespace weft::net::detail {

// listen_unix: a "unix" listener (whose first close removes its socket file, unless abstract) or
// a bound "unixgram" socket. Defined in unixsock.cpp.
Result<std::shared_ptr<NetFD>> listen_unix(weft::detail::Sched* s, int sotype,
                                           std::string_view path, const ListenOptions& opts);
// dial_unix: a connected "unix" or "unixgram" socket, bound first to local if it is not empty.
Result<std::shared_ptr<NetFD>> dial_unix(weft::detail::Sched* s, int sotype, std::string_view path,
                                         std::string_view local, std::int64_t deadline,
                                         const Context* ctx);

}  // namespace weft::net::detail
