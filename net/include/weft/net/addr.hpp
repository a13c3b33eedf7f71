// weft/net/addr.hpp: socket addresses (IPv4, IPv6, Unix) and their resolution.
// Go's net/ipsock.go, tcpsock.go / udpsock.go / unixsock.go (the *Addr types, Resolve*Addr).
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include <weft/net/errors.hpp>

namespace weft::net {

// Addr: one socket address, held by value. to_string() gives "127.0.0.1:4242", "[::1]:80",
// a Unix path, "@name" for a Linux abstract Unix address, "" for an unnamed Unix socket (and for
// an empty Addr). An IPv4-mapped IPv6 address prints as IPv4, as in Go.
class Addr {
 public:
  // Addr(): empty. Addr(sa, len): a copy of a socket address (len bytes of sa).
  Addr() = default;
  Addr(const sockaddr* sa, socklen_t len);
  // to_string: the address as text (above).
  std::string to_string() const;
  // port: the port of an IPv4/IPv6 address, 0 otherwise.
  int port() const;
  // family: AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for an empty Addr.
  int family() const { return ss_.ss_family; }
  bool empty() const { return len_ == 0; }
  const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  socklen_t size() const { return len_; }
  friend bool operator==(const Addr& a, const Addr& b);

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

// resolve_addr turns an address into an Addr (Go's ResolveTCPAddr / ResolveUDPAddr /
// ResolveUnixAddr). network: "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6" (address "host:port",
// "[v6]:port", ":port"; ports by number; a host name goes through getaddrinfo inside
// weft::blocking and the first suitable address is taken) or "unix", "unixgram" (address: a
// path, "@name" for an abstract address). Must run on a fiber if it may resolve a name.
Result<Addr> resolve_addr(std::string_view network, std::string_view address);

}  // namespace weft::net
