// port_scan: which TCP ports of a host accept connections — many dials at once, a bounded number.
// Usage: port_scan [--workers=100] [--timeout=1s] [--deadline=30s] HOST PORT[-PORT]
//   e.g. port_scan localhost 1-1024
//
// Prints the open ports in ascending order, one a line, then a summary on stderr. Exits 0 when
// every port was scanned, 1 when the --deadline cut the scan short (the open ports found so
// far are still printed) or HOST does not resolve, 2 on bad arguments. What it shows:
// - a fiber per dial, at most --workers at once: a weft::Semaphore is the limiter;
// - a per-dial timeout: a context from with_timeout, passed in DialOptions::context;
// - an overall deadline: the parent of every dial's context, so it also cuts the dials short;
// - a weft::WaitGroup to wait for the dials in flight.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "flags.hpp"

namespace net = weft::net;
using namespace std::chrono_literals;

namespace {

// What a dial found out about a port. Each dial's fiber writes only its port's slot.
enum class Port : char { unscanned, open, closed, timed_out, failed };

Port probe(const std::string& address, const weft::Context& scan,
           std::chrono::nanoseconds timeout) {
  auto [ctx, cancel] = weft::with_timeout(scan, timeout);  // a child: ends with the scan, too
  auto [conn, err] = net::dial("tcp", address, net::DialOptions{.context = ctx});
  cancel();  // frees the context's timer now rather than at its deadline
  if (!err) {
    conn.close();
    return Port::open;
  }
  if (err == std::errc::connection_refused) return Port::closed;
  if (scan.err()) return Port::unscanned;  // the overall deadline, not this port's timeout
  if (err == net::errc::timeout) return Port::timed_out;
  return Port::failed;  // unreachable host or network, ...
}

}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags(argc, argv,
                        "[--workers=100] [--timeout=1s] [--deadline=30s] HOST PORT[-PORT]");
  int workers = int(flags.integer("workers", 100, 1, 100000));
  std::chrono::nanoseconds timeout = flags.duration("timeout", 1s);
  std::chrono::nanoseconds deadline = flags.duration("deadline", 30s);
  std::vector<std::string> args = flags.args(2, 2);
  std::string host = args[0], range = args[1];
  std::size_t dash = range.find('-');
  auto first = examples::Flags::parse_integer(range.substr(0, dash), 1, 65535);
  auto last =
      dash == range.npos ? first : examples::Flags::parse_integer(range.substr(dash + 1), 1, 65535);
  if (!first || !last || *last < *first)
    flags.fail("bad port range " + range + ": want 80 or 1-1024");

  return weft::run([&]() -> int {
    // Resolve the host once, not once a dial. An IPv6 literal needs brackets before a port.
    bool bare_v6 = host.find(':') != host.npos && !host.starts_with('[');
    std::string bracketed = bare_v6 ? "[" + host + "]" : host;
    auto [addr, err] = net::resolve_addr("tcp", bracketed + ":0");
    if (err) {
      std::fprintf(stderr, "port_scan: %s: %s\n", host.c_str(), err.message().c_str());
      return 1;
    }
    std::string ip = addr.to_string();  // "127.0.0.1:0", "[::1]:0"
    ip.resize(ip.rfind(':') + 1);

    auto started = std::chrono::steady_clock::now();
    auto [scan, stop] = weft::with_timeout(weft::background(), deadline);
    weft::Semaphore slots(static_cast<std::uint32_t>(workers));
    weft::WaitGroup wg;
    std::vector<Port> ports(std::size_t(*last - *first + 1), Port::unscanned);
    for (long port = *first; port <= *last && !scan.err(); ++port) {
      slots.acquire();  // waits while --workers dials are in flight
      wg.add(1);
      weft::go([&, port] {
        ports[std::size_t(port - *first)] = probe(ip + std::to_string(port), scan, timeout);
        slots.release();
        wg.done();
      });
    }
    wg.wait();
    stop();

    int count[5] = {};
    for (std::size_t i = 0; i < ports.size(); ++i) {
      if (ports[i] == Port::open) std::printf("%ld open\n", *first + long(i));
      ++count[int(ports[i])];
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    std::fprintf(stderr, "%s: %zu ports in %lld ms: %d open, %d closed, %d timed out, %d failed\n",
                 host.c_str(), ports.size(), static_cast<long long>(ms.count()),
                 count[int(Port::open)], count[int(Port::closed)], count[int(Port::timed_out)],
                 count[int(Port::failed)]);
    if (count[int(Port::unscanned)] > 0) {
      std::fprintf(stderr, "port_scan: the --deadline passed: %d ports not scanned\n",
                   count[int(Port::unscanned)]);
      return 1;
    }
    return 0;
  });
}
