// weft/net/dial.hpp: listen, listen_packet and dial with their options.
// Go's net/dial.go (Dialer, ListenConfig, Dial, Listen, ListenPacket).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <weft/context.hpp>
#include <weft/net/conn.hpp>

namespace weft::net {

// ListenOptions: listen's options (Go's ListenConfig and the listener's socket options).
struct ListenOptions {
  int backlog = 0;          // listen(2)'s backlog; 0: SOMAXCONN
  bool reuse_port = false;  // SO_REUSEPORT: several listeners share the port
  // keep_alive: TCP keep-alive period of accepted connections; 0: 15 s (Go's default); < 0: off.
  std::chrono::nanoseconds keep_alive{0};
};

// DialOptions: dial's options (Go's Dialer: Timeout, Deadline, LocalAddr, KeepAlive, and the
// ctx of DialContext), for `net::dial("tcp", addr, {.timeout = 2s})`.
struct DialOptions {
  // timeout and deadline bound the whole dial (resolution included: a lookup cannot be
  // interrupted, but a dial that finds its deadline passed after one fails with errc::timeout);
  // the earlier of the two applies. 0 / time_point{}: none (the OS's connect timeout).
  std::chrono::nanoseconds timeout{0};
  time_point deadline{};
  // local_address: bind to this address before connecting ("127.0.0.1:0", "[::1]:5000", a Unix
  // path); "" lets the OS choose. Only remote addresses of its family are tried.
  std::string local_address{};
  // keep_alive: TCP keep-alive period; 0: 15 s (Go's default); < 0: off.
  std::chrono::nanoseconds keep_alive{0};
  // context: the dial also ends when it does (Go's DialContext): its deadline, if earlier,
  // bounds the dial (errc::timeout, as for the other deadlines), and cancelling it interrupts a
  // connect in progress (the dial returns context_errc::canceled). Default: background().
  Context context{};
};

// listen: network "tcp", "tcp4", "tcp6" (address "host:port", "[v6]:port", ":port" for all
// addresses — both IPv4 and IPv6 for "tcp" — port 0 picks one) or "unix" (a path, "@name" for
// an abstract address). Must run on a fiber.
Result<Listener> listen(std::string_view network, std::string_view address,
                        ListenOptions opts = {});

// listen_packet: network "udp", "udp4", "udp6" or "unixgram", address as for listen.
Result<PacketConn> listen_packet(std::string_view network, std::string_view address);

// dial connects: non-blocking connect, wait until writable, SO_ERROR. network: "tcp", "tcp4",
// "tcp6", "unix", and the datagram networks "udp", "udp4", "udp6", "unixgram" (a connected
// datagram socket). Host names are resolved with getaddrinfo inside weft::blocking and their
// addresses tried in order until one connects, the remaining time split among them as in Go
// (at least 2 s each when there is that much). ":port" dials the local system. Bad addresses
// and unknown networks are error codes. Must run on a fiber.
Result<Conn> dial(std::string_view network, std::string_view address, DialOptions opts = {});

}  // namespace weft::net
