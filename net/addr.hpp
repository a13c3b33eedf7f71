// addr: parsing Go's network names and addresses ("host:port", "[v6]:port", ":port", Unix paths)
// and resolving host names. Go's net/ipsock.go (SplitHostPort, internetAddrList), lookup.go.
#pragma once

#include <vector>

#include <weft/net.hpp>

namespace weft::net::detail {

// Network: what a network name means.
struct Network {
  int family;  // AF_UNSPEC ("tcp", "udp": either IP version), AF_INET, AF_INET6 or AF_UNIX
  int sotype;  // SOCK_STREAM or SOCK_DGRAM
};

// parse_network: "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram".
std::error_code parse_network(std::string_view name, Network* out);

// resolve_inet lists the addresses of "host:port" / "[host]:port" / ":port" for net, in the
// resolver's order. Literals never reach the resolver; names go through getaddrinfo inside
// weft::blocking. An empty host is the wildcard when passive (listening: [::] for "tcp"/"udp",
// which also accepts IPv4, 0.0.0.0 for "tcp4"), the loopback otherwise (Go dials the local
// system). Errors: bad_address (does not parse), no_suitable_address (a literal of the wrong
// family), no_such_host, lookup_failed, or the resolver's system error.
std::error_code resolve_inet(std::string_view address, const Network& net, bool passive,
                             std::vector<Addr>* out);

// unix_addr: a Unix socket address for a path; "@name" is a Linux abstract address and "" an
// unnamed one (bind picks an abstract name). bad_address if it does not fit sun_path.
std::error_code unix_addr(std::string_view path, Addr* out);

// wildcard says whether a is 0.0.0.0 or [::].
bool wildcard(const Addr& a);

}  // namespace weft::net::detail
