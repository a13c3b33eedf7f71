// tcpsock: TCP listeners and connections — socket creation, listen, accept, dial, and the
// Conn/Listener methods. Go's net/tcpsock.go, sock_posix.go, ipsock_posix.go.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "addr.hpp"
#include "fd.hpp"
#include "proc.hpp"

namespace weft::net {

using detail::NetFD;

namespace {

std::error_code sys(int e) { return {e, std::system_category()}; }

std::int64_t to_ns(time_point t) {
  if (t == time_point{}) return 0;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return ns <= 0 ? 1 : ns;  // a real instant at or before the epoch: already expired
}

Addr sockname(int fd, bool peer) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return rc == 0 ? Addr(reinterpret_cast<sockaddr*>(&ss), len) : Addr();
}

// new_fd wraps a non-blocking socket in a registered netFD (closing it on failure).
Result<std::shared_ptr<NetFD>> new_fd(weft::detail::Sched* s, int sysfd) {
  auto fd = std::make_shared<NetFD>(s, sysfd, true);
  if (std::error_code err = fd->init()) {
    fd->sysfd = -1;
    ::close(sysfd);
    return {nullptr, err};
  }
  return {fd, {}};
}

}  // namespace

Result<Listener> listen(std::string_view network, std::string_view address, ListenOptions opts) {
  weft::detail::Sched* s = weft::detail::current_sched("net::listen");
  int family;
  if (std::error_code err = detail::parse_network(network, &family)) return {{}, err};
  Addr a;
  if (std::error_code err = detail::resolve(address, family, true, &a)) return {{}, err};
  int sysfd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sysfd < 0) return {{}, sys(errno)};
  int one = 1;
  setsockopt(sysfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as Go's listeners
  if (opts.reuse_port) setsockopt(sysfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(sysfd, a.raw(), a.size()) != 0 ||
      ::listen(sysfd, opts.backlog > 0 ? opts.backlog : SOMAXCONN) != 0) {
    int e = errno;
    ::close(sysfd);
    return {{}, sys(e)};
  }
  auto [fd, err] = new_fd(s, sysfd);
  if (err) return {{}, err};
  fd->laddr = sockname(sysfd, false);
  return {Listener(fd), {}};
}

Result<Conn> dial(std::string_view network, std::string_view address, DialOptions opts) {
  weft::detail::Sched* s = weft::detail::current_sched("net::dial");
  int family;
  if (std::error_code err = detail::parse_network(network, &family)) return {{}, err};
  Addr a;
  if (std::error_code err = detail::resolve(address, family, false, &a)) return {{}, err};
  int sysfd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sysfd < 0) return {{}, sys(errno)};
  auto [fd, err] = new_fd(s, sysfd);
  if (err) return {{}, err};
  if (opts.timeout.count() > 0) {
    fd->set_deadline(weft::detail::nanotime() + opts.timeout.count(), 'w');
  }
  if (std::error_code cerr = fd->connect(a)) {
    fd->close();
    return {{}, cerr};
  }
  if (opts.timeout.count() > 0) fd->set_deadline(0, 'w');
  fd->laddr = sockname(fd->sysfd, false);
  fd->raddr = sockname(fd->sysfd, true);
  return {Conn(fd), {}};
}

Result<Conn> Listener::accept() {
  if (!fd_) return {{}, make_error_code(errc::closed)};
  Addr remote;
  auto [nfd, err] = fd_->accept(&remote);
  if (err) return {{}, err};
  auto [fd, ferr] = new_fd(fd_->sched, nfd);
  if (ferr) return {{}, ferr};
  fd->laddr = sockname(nfd, false);
  fd->raddr = remote;
  return {Conn(fd), {}};
}

std::error_code Listener::close() { return fd_ ? fd_->close() : make_error_code(errc::closed); }
Addr Listener::addr() const { return fd_ ? fd_->laddr : Addr(); }

IoResult Conn::read(std::span<std::byte> buf) {
  return fd_ ? fd_->read(buf) : IoResult{0, make_error_code(errc::closed)};
}
IoResult Conn::write(std::span<const std::byte> buf) {
  return fd_ ? fd_->write(buf) : IoResult{0, make_error_code(errc::closed)};
}
std::error_code Conn::close() { return fd_ ? fd_->close() : make_error_code(errc::closed); }
std::error_code Conn::close_read() {
  return fd_ ? fd_->shutdown(SHUT_RD) : make_error_code(errc::closed);
}
std::error_code Conn::close_write() {
  return fd_ ? fd_->shutdown(SHUT_WR) : make_error_code(errc::closed);
}
std::error_code Conn::set_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r' + 'w') : make_error_code(errc::closed);
}
std::error_code Conn::set_read_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r') : make_error_code(errc::closed);
}
std::error_code Conn::set_write_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'w') : make_error_code(errc::closed);
}
Addr Conn::local_addr() const { return fd_ ? fd_->laddr : Addr(); }
Addr Conn::remote_addr() const { return fd_ ? fd_->raddr : Addr(); }
int Conn::fd() const { return fd_ ? fd_->sysfd : -1; }
std::error_code Conn::set_no_delay(bool on) {
  if (!fd_) return make_error_code(errc::closed);
  int v = on ? 1 : 0;
  if (setsockopt(fd_->sysfd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0) return sys(errno);
  return {};
}

}  // namespace weft::net
