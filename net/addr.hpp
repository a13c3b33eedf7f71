// addr: parsing Go's network names and "host:port" addresses.
#pragma once

#include <weft/net.hpp>

namespace weft::net::detail {

// parse_network maps "tcp"/"tcp4"/"tcp6" to AF_UNSPEC/AF_INET/AF_INET6.
std::error_code parse_network(std::string_view network, int* family);
// resolve turns "host:port", "[v6]:port" or ":port" into an address. passive: for listening
// (an empty host means all addresses; for dialing it means the loopback, as Go does).
std::error_code resolve(std::string_view address, int family, bool passive, Addr* out);

}  // namespace weft::net::detail
