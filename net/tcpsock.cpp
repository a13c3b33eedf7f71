// tcpsock: the methods of Conn and Listener (every stream network; TCP's options here too).
// Go's net/net.go (conn's Read/Write/Close/Set*Deadline), tcpsock.go and tcpsockopt_unix.go.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sock.hpp"

namespace weft::net {

using detail::to_ns;

namespace {

std::error_code closed() { return make_error_code(errc::closed); }

std::error_code keep_alive_period(detail::NetFD& fd, std::chrono::nanoseconds d) {
  // Whole seconds, rounded up (Go's setKeepAlivePeriod); the kernel wants at least 1.
  auto secs = std::chrono::ceil<std::chrono::seconds>(d).count();
  int v = secs < 1 ? 1 : secs > 32767 ? 32767 : int(secs);  // TCP_KEEPIDLE's maximum
  if (std::error_code err = fd.setsockopt_int(IPPROTO_TCP, TCP_KEEPINTVL, v)) return err;
  return fd.setsockopt_int(IPPROTO_TCP, TCP_KEEPIDLE, v);
}

}  // namespace

namespace detail {

std::error_code set_tcp_defaults(NetFD& fd, std::chrono::nanoseconds keep_alive) {
  if (std::error_code err = fd.setsockopt_int(IPPROTO_TCP, TCP_NODELAY, 1)) return err;
  if (keep_alive.count() < 0) return {};
  if (std::error_code err = fd.setsockopt_int(SOL_SOCKET, SO_KEEPALIVE, 1)) return err;
  return keep_alive_period(fd, keep_alive.count() == 0 ? std::chrono::seconds(15) : keep_alive);
}

}  // namespace detail

Result<Conn> Listener::accept() {
  if (!fd_) return {{}, closed()};
  Addr remote;
  auto [nfd, err] = fd_->accept(&remote);
  if (err) return {{}, err};
  auto [fd, ferr] = detail::new_accepted(*fd_, nfd, remote);
  if (ferr) return {{}, ferr};
  if (fd->family != AF_UNIX) {
    if (std::error_code terr = detail::set_tcp_defaults(*fd, fd_->keep_alive)) {
      fd->close();
      return {{}, terr};
    }
  }
  return {Conn(std::move(fd)), {}};
}

std::error_code Listener::close() { return fd_ ? fd_->close() : closed(); }
std::error_code Listener::set_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r') : closed();
}
Addr Listener::addr() const { return fd_ ? fd_->laddr : Addr(); }
int Listener::fd() const {
  if (!fd_) return -1;
  // fd.hpp D5: accepted sockets inherit options set on it (SO_RCVLOWAT); they read Go's way.
  fd_->drain_hint.store(false, std::memory_order_relaxed);
  return fd_->sysfd;
}

IoResult Conn::read(std::span<std::byte> buf) {
  return fd_ ? fd_->read(buf) : IoResult{0, closed()};
}
namespace {

// io_ctx runs one read or write (mode 'r' / 'w') under ctx (Conn::read / write with a context).
template <class Op>
IoResult io_ctx(detail::NetFD& fd, const Context& ctx, int mode, Op op) {
  if (std::error_code why = ctx.err()) {
    return {0, why == context_errc::deadline_exceeded ? make_error_code(errc::timeout) : why};
  }
  auto dl = ctx.deadline();
  if (dl) fd.set_deadline(detail::to_ns(*dl), mode);
  IoResult r;
  if (ctx.done()) {
    detail::CtxWatch watch(fd, ctx, mode);
    r = op();
    watch.stop();
    if (watch.interrupted() && r.err) r.err = watch.error();
  } else {
    r = op();
  }
  if (dl || ctx.done()) fd.set_deadline(0, mode);
  return r;
}

}  // namespace

IoResult Conn::read(std::span<std::byte> buf, const Context& ctx) {
  if (!fd_) return {0, make_error_code(errc::closed)};
  return io_ctx(*fd_, ctx, 'r', [&] { return fd_->read(buf); });
}

IoResult Conn::write(std::span<const std::byte> buf, const Context& ctx) {
  if (!fd_) return {0, make_error_code(errc::closed)};
  return io_ctx(*fd_, ctx, 'w', [&] { return fd_->write(buf); });
}

IoResult Conn::write(std::span<const std::byte> buf) {
  return fd_ ? fd_->write(buf) : IoResult{0, closed()};
}
std::error_code Conn::close() { return fd_ ? fd_->close() : closed(); }
std::error_code Conn::close_read() { return fd_ ? fd_->shutdown(SHUT_RD) : closed(); }
std::error_code Conn::close_write() { return fd_ ? fd_->shutdown(SHUT_WR) : closed(); }
std::error_code Conn::set_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r' + 'w') : closed();
}
std::error_code Conn::set_read_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r') : closed();
}
std::error_code Conn::set_write_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'w') : closed();
}
Addr Conn::local_addr() const { return fd_ ? fd_->laddr : Addr(); }
Addr Conn::remote_addr() const { return fd_ ? fd_->raddr : Addr(); }
int Conn::fd() const {
  if (!fd_) return -1;
  fd_->drain_hint.store(false, std::memory_order_relaxed);  // fd.hpp D5
  return fd_->sysfd;
}
std::error_code Conn::set_no_delay(bool on) {
  return fd_ ? fd_->setsockopt_int(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0) : closed();
}
std::error_code Conn::set_keep_alive(bool on) {
  return fd_ ? fd_->setsockopt_int(SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0) : closed();
}
std::error_code Conn::set_keep_alive_period(std::chrono::seconds period) {
  return fd_ ? keep_alive_period(*fd_, period) : closed();
}

}  // namespace weft::net
