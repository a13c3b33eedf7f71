// addr: socket addresses — formatting ("127.0.0.1:80", "[::1]:80") and parsing of Go's
// "host:port" forms, with name resolution through getaddrinfo inside weft::blocking.
#include "addr.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstdio>
#include <cstring>

#include <weft/weft.hpp>

namespace weft::net {

Addr::Addr(const sockaddr* sa, socklen_t len) {
  if (len > sizeof ss_) len = sizeof ss_;
  std::memcpy(&ss_, sa, len);
  len_ = len;
}

int Addr::port() const {
  if (ss_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  if (ss_.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  }
  return 0;
}

std::string Addr::to_string() const {
  char host[INET6_ADDRSTRLEN] = {};
  char out[INET6_ADDRSTRLEN + 16];
  if (ss_.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "%s:%d", host, port());
    return out;
  }
  if (ss_.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "[%s]:%d", host, port());
    return out;
  }
  return "";
}

namespace detail {

std::error_code parse_network(std::string_view network, int* family) {
  if (network == "tcp") {
    *family = AF_UNSPEC;
  } else if (network == "tcp4") {
    *family = AF_INET;
  } else if (network == "tcp6") {
    *family = AF_INET6;
  } else {
    return make_error_code(errc::unknown_network);
  }
  return {};
}

std::error_code resolve(std::string_view address, int family, bool passive, Addr* out) {
  // Split "host:port" / "[v6]:port" / ":port".
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return make_error_code(errc::bad_address);
  std::string_view host = address.substr(0, colon);
  std::string_view port_s = address.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') return make_error_code(errc::bad_address);
    host = host.substr(1, host.size() - 2);
    if (family == AF_INET) return make_error_code(errc::bad_address);
    if (family == AF_UNSPEC) family = AF_INET6;
  } else if (host.find(':') != std::string_view::npos) {
    return make_error_code(errc::bad_address);  // a v6 literal needs brackets
  }
  int port = 0;
  auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
  if (port_s.empty() || ec != std::errc{} || p != port_s.data() + port_s.size() || port < 0 ||
      port > 65535) {
    return make_error_code(errc::bad_address);
  }
  // Literals first: no resolver, no blocking.
  std::string h(host);
  if (h.empty()) {
    if (!passive) h = family == AF_INET6 ? "::1" : "127.0.0.1";  // Go dials localhost
  }
  if (h.empty()) {  // listen on all addresses
    if (family == AF_INET6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_any;
      a.sin6_port = htons(std::uint16_t(port));
      *out = Addr(reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_ANY);
      a.sin_port = htons(std::uint16_t(port));
      *out = Addr(reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    return {};
  }
  sockaddr_in a4{};
  if (family != AF_INET6 && inet_pton(AF_INET, h.c_str(), &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons(std::uint16_t(port));
    *out = Addr(reinterpret_cast<sockaddr*>(&a4), sizeof a4);
    return {};
  }
  sockaddr_in6 a6{};
  if (family != AF_INET && inet_pton(AF_INET6, h.c_str(), &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(std::uint16_t(port));
    *out = Addr(reinterpret_cast<sockaddr*>(&a6), sizeof a6);
    return {};
  }
  // A name: getaddrinfo may block for seconds, so it runs as a blocking call.
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = weft::blocking([&] { return getaddrinfo(h.c_str(), nullptr, &hints, &res); });
  if (rc != 0 || !res) return make_error_code(errc::no_such_host);
  Addr a(res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (a.family() == AF_INET) {
    sockaddr_in s = *reinterpret_cast<const sockaddr_in*>(a.raw());
    s.sin_port = htons(std::uint16_t(port));
    *out = Addr(reinterpret_cast<sockaddr*>(&s), sizeof s);
  } else {
    sockaddr_in6 s = *reinterpret_cast<const sockaddr_in6*>(a.raw());
    s.sin6_port = htons(std::uint16_t(port));
    *out = Addr(reinterpret_cast<sockaddr*>(&s), sizeof s);
  }
  return {};
}

}  // namespace detail
}  // namespace weft::net
