// dial: the entry points — listen, listen_packet, dial — which pick the socket for a network and
// address, and dial's serial walk over the resolved addresses under one deadline. Go's
// net/dial.go (Dialer.DialContext, dialSerial, partialDeadline, ListenConfig) and ipsock.go.
#include <limits>
#include <vector>

#include "addr.hpp"
#include "os_linux.hpp"
#include "proc.hpp"
#include "sock.hpp"

namespace weft::net {

using detail::NetFD;
using detail::Network;
using detail::SocketSpec;
using weft::detail::nanotime;
using weft::detail::Sched;

namespace {

using FdResult = Result<std::shared_ptr<NetFD>>;

// listen_inet: a listener or a bound datagram socket for an IP network.
FdResult listen_inet(Sched* s, const Network& net, std::string_view address,
                     const ListenOptions& opts) {
  std::vector<Addr> addrs;
  if (std::error_code err = detail::resolve_inet(address, net, true, &addrs)) return {{}, err};
  // A name with both kinds of address: the first IPv4 one, as Go's listeners take.
  const Addr* la = &addrs.front();
  if (net.family == AF_UNSPEC) {
    for (const Addr& a : addrs) {
      if (a.family() == AF_INET) {
        la = &a;
        break;
      }
    }
  }
  SocketSpec spec{.family = la->family(),
                  .sotype = net.sotype,
                  .ipv6only = net.family == AF_INET6,
                  .laddr = la,
                  .backlog = opts.backlog,
                  .reuse_port = opts.reuse_port};
  FdResult r = detail::socket(s, spec);
  if (r.err == detail::sys(EAFNOSUPPORT) && net.family == AF_UNSPEC && la->family() == AF_INET6 &&
      detail::wildcard(*la)) {
    // No IPv6 on this host: the all-addresses listener is an IPv4 one.
    std::vector<Addr> v4;
    if (std::error_code err = detail::resolve_inet(address, {AF_INET, net.sotype}, true, &v4)) {
      return {{}, err};
    }
    spec.family = AF_INET;
    spec.laddr = &v4.front();
    r = detail::socket(s, spec);
  }
  return r;
}

// partial_deadline: the deadline for one of `remaining` addresses — an equal share of the time
// left, but at least 2 s when that much is left (Go's partialDeadline).
std::int64_t partial_deadline(std::int64_t now, std::int64_t deadline, std::size_t remaining) {
  if (deadline == 0) return 0;
  constexpr std::int64_t kSaneMinimum = 2'000'000'000;
  std::int64_t left = deadline - now;
  std::int64_t each = left / std::int64_t(remaining);
  if (each < kSaneMinimum) each = left < kSaneMinimum ? left : kSaneMinimum;
  return now + each;
}

// dial_deadline: the earlier of now + timeout and the deadline, as nanotime; 0 for none.
std::int64_t dial_deadline(const DialOptions& opts) {
  std::int64_t d = 0;
  if (opts.timeout.count() > 0) {
    std::int64_t now = nanotime();
    if (opts.timeout.count() < std::numeric_limits<std::int64_t>::max() - now) {
      d = now + opts.timeout.count();
    }
  }
  if (opts.deadline != time_point{}) {
    std::int64_t t = detail::to_ns(opts.deadline);
    if (d == 0 || t < d) d = t;
  }
  return d;
}

Result<Conn> dial_inet(Sched* s, const Network& net, std::string_view address,
                       const DialOptions& opts, std::int64_t deadline) {
  std::vector<Addr> remotes;
  if (std::error_code err = detail::resolve_inet(address, net, false, &remotes)) return {{}, err};
  Addr local;
  if (!opts.local_address.empty()) {
    std::vector<Addr> ls;
    if (std::error_code err = detail::resolve_inet(opts.local_address, net, true, &ls)) {
      return {{}, err};
    }
    local = ls.front();
    std::erase_if(remotes, [&](const Addr& a) { return a.family() != local.family(); });
    if (remotes.empty()) return {{}, make_error_code(errc::no_suitable_address)};
  }
  std::error_code first;
  for (std::size_t i = 0; i < remotes.size(); ++i) {
    std::int64_t now = nanotime();
    if (deadline != 0 && now >= deadline) return {{}, make_error_code(errc::timeout)};
    SocketSpec spec{.family = remotes[i].family(),
                    .sotype = net.sotype,
                    .ipv6only = net.family == AF_INET6,
                    .laddr = local.empty() ? nullptr : &local,
                    .raddr = &remotes[i],
                    .deadline = partial_deadline(now, deadline, remotes.size() - i),
                    .ctx = &opts.context};
    auto [fd, err] = detail::socket(s, spec);
    if (!err) {
      if (net.sotype == SOCK_STREAM) {
        if (std::error_code terr = detail::set_tcp_defaults(*fd, opts.keep_alive)) {
          fd->close();
          return {{}, terr};
        }
      }
      return {Conn(std::move(fd)), {}};
    }
    if (!first) first = err;  // Go reports the first address's error
  }
  return {{}, first};
}

}  // namespace

Result<Listener> listen(std::string_view network, std::string_view address, ListenOptions opts) {
  Sched* s = weft::detail::current_sched("net::listen");
  Network net;
  if (std::error_code err = detail::parse_network(network, &net)) return {{}, err};
  if (net.sotype != SOCK_STREAM) return {{}, make_error_code(errc::unknown_network)};
  auto [fd, err] = net.family == AF_UNIX ? detail::listen_unix(s, net.sotype, address, opts)
                                         : listen_inet(s, net, address, opts);
  if (err) return {{}, err};
  fd->keep_alive = opts.keep_alive;
  return {Listener(std::move(fd)), {}};
}

Result<PacketConn> listen_packet(std::string_view network, std::string_view address) {
  Sched* s = weft::detail::current_sched("net::listen_packet");
  Network net;
  if (std::error_code err = detail::parse_network(network, &net)) return {{}, err};
  if (net.sotype != SOCK_DGRAM) return {{}, make_error_code(errc::unknown_network)};
  auto [fd, err] = net.family == AF_UNIX ? detail::listen_unix(s, net.sotype, address, {})
                                         : listen_inet(s, net, address, {});
  if (err) return {{}, err};
  return {PacketConn(std::move(fd)), {}};
}

Result<Conn> dial(std::string_view network, std::string_view address, DialOptions opts) {
  Sched* s = weft::detail::current_sched("net::dial");
  std::int64_t deadline = dial_deadline(opts);
  if (std::error_code why = opts.context.err()) {  // ended already: Go's DialContext fails too
    return {{}, why == context_errc::deadline_exceeded ? make_error_code(errc::timeout) : why};
  }
  if (auto cd = opts.context.deadline()) {  // the context's deadline bounds the dial too
    std::int64_t t = detail::to_ns(*cd);
    if (deadline == 0 || t < deadline) deadline = t;
  }
  Network net;
  if (std::error_code err = detail::parse_network(network, &net)) return {{}, err};
  if (net.family != AF_UNIX) return dial_inet(s, net, address, opts, deadline);
  auto [fd, err] =
      detail::dial_unix(s, net.sotype, address, opts.local_address, deadline, &opts.context);
  if (err) return {{}, err};
  return {Conn(std::move(fd)), {}};
}

}  // namespace weft::net
