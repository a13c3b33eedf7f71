// udpsock: PacketConn, the unconnected datagram socket ("udp", "unixgram"): read_from, write_to
// and deadlines. Go's net/udpsock.go and udpsock_posix.go (readFrom, writeTo).
#include "sock.hpp"

namespace weft::net {

using detail::to_ns;

namespace {

std::error_code closed() { return make_error_code(errc::closed); }

}  // namespace

ReadFromResult PacketConn::read_from(std::span<std::byte> buf) {
  if (!fd_) return {0, {}, closed()};
  ReadFromResult r;
  IoResult io = fd_->read_from(buf, &r.addr);
  r.n = io.n;
  r.err = io.err;
  return r;
}

IoResult PacketConn::write_to(std::span<const std::byte> buf, const Addr& to) {
  if (!fd_) return {0, closed()};
  if (to.empty()) return {0, make_error_code(errc::bad_address)};
  return fd_->write_to(buf, to);
}

std::error_code PacketConn::close() { return fd_ ? fd_->close() : closed(); }
std::error_code PacketConn::set_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r' + 'w') : closed();
}
std::error_code PacketConn::set_read_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'r') : closed();
}
std::error_code PacketConn::set_write_deadline(time_point t) {
  return fd_ ? fd_->set_deadline(to_ns(t), 'w') : closed();
}
Addr PacketConn::local_addr() const { return fd_ ? fd_->laddr : Addr(); }
int PacketConn::fd() const { return fd_ ? fd_->sysfd : -1; }

}  // namespace weft::net
