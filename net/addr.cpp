// addr: socket addresses — formatting ("127.0.0.1:80", "[::1]:80", Unix paths) and parsing of Go's
// network names and "host:port" forms, with name resolution through getaddrinfo inside
// weft::blocking. Go's net/ipsock.go, unixsock.go, lookup.go.
#include "addr.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include <weft/weft.hpp>

#include "errors.hpp"

namespace weft::net {

Addr::Addr(const sockaddr* sa, socklen_t len) {
  if (len > sizeof ss_) len = sizeof ss_;
  std::memcpy(&ss_, sa, len);
  len_ = len;
}

bool operator==(const Addr& a, const Addr& b) {
  return a.len_ == b.len_ && std::memcmp(&a.ss_, &b.ss_, a.len_) == 0;
}

int Addr::port() const {
  if (ss_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  if (ss_.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  }
  return 0;
}

std::string Addr::to_string() const {
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = {};
  char out[sizeof host + 16];
  if (ss_.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "%s:%d", host, port());
    return out;
  }
  if (ss_.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss_);
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {  // an IPv4 peer of a dual-stack socket
      inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], host, sizeof host);
      std::snprintf(out, sizeof out, "%s:%d", host, port());
      return out;
    }
    inet_ntop(AF_INET6, &a6->sin6_addr, host, INET6_ADDRSTRLEN);
    char zone[IF_NAMESIZE] = {};
    if (a6->sin6_scope_id != 0 && if_indextoname(a6->sin6_scope_id, zone)) {
      std::strncat(host, "%", sizeof host - std::strlen(host) - 1);
      std::strncat(host, zone, sizeof host - std::strlen(host) - 1);
    }
    std::snprintf(out, sizeof out, "[%s]:%d", host, port());
    return out;
  }
  if (ss_.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss_);
    std::size_t off = offsetof(sockaddr_un, sun_path);
    if (len_ <= off) return "";  // unnamed
    std::size_t n = len_ - off;
    if (un->sun_path[0] == '\0') {  // abstract: Go shows the leading NUL as '@'
      std::string s(n, '@');
      std::memcpy(s.data() + 1, un->sun_path + 1, n - 1);
      return s;
    }
    return std::string(un->sun_path, strnlen(un->sun_path, n));
  }
  return "";
}

Result<Addr> resolve_addr(std::string_view network, std::string_view address) {
  detail::Network net;
  if (std::error_code err = detail::parse_network(network, &net)) return {{}, err};
  Addr a;
  if (net.family == AF_UNIX) {
    std::error_code err = detail::unix_addr(address, &a);
    return {a, err};
  }
  std::vector<Addr> list;
  if (std::error_code err = detail::resolve_inet(address, net, false, &list)) return {{}, err};
  return {list.front(), {}};
}

namespace detail {

namespace {

Addr make_inet(const in_addr& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = ip;
  a.sin_port = htons(std::uint16_t(port));
  return Addr(reinterpret_cast<sockaddr*>(&a), sizeof a);
}

Addr make_inet6(const in6_addr& ip, int port, std::uint32_t scope = 0) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = ip;
  a.sin6_port = htons(std::uint16_t(port));
  a.sin6_scope_id = scope;
  return Addr(reinterpret_cast<sockaddr*>(&a), sizeof a);
}

// lookup runs getaddrinfo for host in family and appends the addresses with port.
std::error_code lookup(const std::string& host, const Network& net, int port,
                       std::vector<Addr>* out) {
  addrinfo hints{};
  hints.ai_family = net.family;
  hints.ai_socktype = net.sotype;
  addrinfo* res = nullptr;
  int sys_errno = 0;
  // getaddrinfo may block for seconds: a blocking call. errno is read inside it, on the thread
  // that made the call (the fiber may resume elsewhere).
  int rc = weft::blocking([&] {
    int r = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (r == EAI_SYSTEM) sys_errno = errno;
    return r;
  });
  switch (rc) {
    case 0:
      break;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
      return make_error_code(errc::no_such_host);
    case EAI_SYSTEM:
      return sys(sys_errno);
    default:  // EAI_AGAIN, EAI_FAIL, EAI_MEMORY, ...
      return make_error_code(errc::lookup_failed);
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      out->push_back(make_inet(reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, port));
    } else if (ai->ai_family == AF_INET6) {
      const auto* a6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
      out->push_back(make_inet6(a6->sin6_addr, port, a6->sin6_scope_id));
    }
  }
  freeaddrinfo(res);
  if (out->empty()) return make_error_code(errc::no_such_host);
  return {};
}

}  // namespace

std::error_code parse_network(std::string_view name, Network* out) {
  struct Entry {
    std::string_view name;
    Network net;
  };
  static constexpr Entry kNetworks[] = {
      {"tcp", {AF_UNSPEC, SOCK_STREAM}}, {"tcp4", {AF_INET, SOCK_STREAM}},
      {"tcp6", {AF_INET6, SOCK_STREAM}}, {"udp", {AF_UNSPEC, SOCK_DGRAM}},
      {"udp4", {AF_INET, SOCK_DGRAM}},   {"udp6", {AF_INET6, SOCK_DGRAM}},
      {"unix", {AF_UNIX, SOCK_STREAM}},  {"unixgram", {AF_UNIX, SOCK_DGRAM}},
  };
  for (const Entry& e : kNetworks) {
    if (e.name == name) {
      *out = e.net;
      return {};
    }
  }
  return make_error_code(errc::unknown_network);
}

std::error_code resolve_inet(std::string_view address, const Network& net, bool passive,
                             std::vector<Addr>* out) {
  out->clear();
  // Split "host:port" / "[host]:port" / ":port" (Go's SplitHostPort).
  std::string_view host, port_s;
  if (!address.empty() && address.front() == '[') {
    std::size_t end = address.find(']');
    if (end == std::string_view::npos || end + 1 >= address.size() || address[end + 1] != ':') {
      return make_error_code(errc::bad_address);
    }
    host = address.substr(1, end - 1);
    port_s = address.substr(end + 2);
  } else {
    std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return make_error_code(errc::bad_address);
    host = address.substr(0, colon);
    port_s = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error_code(errc::bad_address);  // an IPv6 literal needs brackets
    }
  }
  if (host.find_first_of("[]") != std::string_view::npos) return make_error_code(errc::bad_address);
  // Ports by number only.
  int port = -1;
  auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
  if (port_s.empty() || port_s.front() == '-' || ec != std::errc{} ||
      p != port_s.data() + port_s.size() || port < 0 || port > 65535) {
    return make_error_code(errc::bad_address);
  }
  if (host.empty()) {
    if (passive) {  // all addresses: [::] also takes IPv4 for "tcp"/"udp" (V6ONLY off, sock.cpp)
      if (net.family == AF_INET) {
        out->push_back(make_inet(in_addr{htonl(INADDR_ANY)}, port));
      } else {
        out->push_back(make_inet6(in6addr_any, port));
      }
    } else if (net.family == AF_INET6) {
      out->push_back(make_inet6(in6addr_loopback, port));
    } else {
      out->push_back(make_inet(in_addr{htonl(INADDR_LOOPBACK)}, port));
    }
    return {};
  }
  std::string h(host);
  // Literals: no resolver, no blocking. One of the wrong family is "no suitable address".
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) {
    if (net.family == AF_INET6) return make_error_code(errc::no_suitable_address);
    out->push_back(make_inet(a4, port));
    return {};
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
    if (net.family == AF_INET) return make_error_code(errc::no_suitable_address);
    out->push_back(make_inet6(a6, port));
    return {};
  }
  if (h.find('\0') != std::string::npos) return make_error_code(errc::bad_address);
  return lookup(h, net, port, out);
}

std::error_code unix_addr(std::string_view path, Addr* out) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::size_t off = offsetof(sockaddr_un, sun_path);
  if (path.find('\0') != std::string_view::npos) return make_error_code(errc::bad_address);
  if (path.empty()) {
    *out = Addr(reinterpret_cast<sockaddr*>(&un), socklen_t(off));
    return {};
  }
  if (path.front() == '@') {  // abstract: a leading NUL, no terminator
    if (path.size() > sizeof un.sun_path) return make_error_code(errc::bad_address);
    std::memcpy(un.sun_path + 1, path.data() + 1, path.size() - 1);
    *out = Addr(reinterpret_cast<sockaddr*>(&un), socklen_t(off + path.size()));
    return {};
  }
  if (path.size() >= sizeof un.sun_path) return make_error_code(errc::bad_address);  // + NUL
  std::memcpy(un.sun_path, path.data(), path.size());
  *out = Addr(reinterpret_cast<sockaddr*>(&un), socklen_t(off + path.size() + 1));
  return {};
}

bool wildcard(const Addr& a) {
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.raw())->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (a.family() == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(a.raw())->sin6_addr);
  }
  return false;
}

}  // namespace detail
}  // namespace weft::net
