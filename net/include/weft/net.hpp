// weft::net: Go's net package for fibers — blocking-style sockets over the runtime's poller.
// TCP listen/accept/dial, reads and writes with deadlines, errors as std::error_code. Calls that
// wait (accept, read, write, dial) must run on a fiber; close may be called from any thread.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace weft::net {

// errc: the net package's own errors (OS errors stay in std::system_category()).
enum class errc {
  closed = 1,       // "use of closed network connection"
  timeout,          // "i/o timeout": a deadline passed
  eof,              // "EOF": the peer closed its side
  bad_address,      // the address does not parse
  unknown_network,  // not one of "tcp", "tcp4", "tcp6"
  not_pollable,     // the poller reported an error on the descriptor
  no_such_host,     // name resolution found nothing
};

const std::error_category& net_category();
std::error_code make_error_code(errc e);

// Result: a value and an error, so that `auto [conn, err] = net::dial(...)` reads like Go.
template <class T>
struct Result {
  T value;
  std::error_code err;
};

// IoResult: bytes transferred and an error; n may be > 0 together with an error.
struct IoResult {
  std::size_t n = 0;
  std::error_code err;
};

// Addr: a socket address. to_string() gives "127.0.0.1:4242" or "[::1]:80".
class Addr {
 public:
  Addr() = default;
  Addr(const sockaddr* sa, socklen_t len);
  std::string to_string() const;
  int port() const;
  int family() const { return ss_.ss_family; }
  const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  socklen_t size() const { return len_; }

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

namespace detail {
struct NetFD;
}

using time_point = std::chrono::steady_clock::time_point;

// Conn: a connected stream socket. Copies share one connection (like Go's net.Conn): close
// from one fiber wakes another blocked in read or write with errc::closed. The socket is closed
// when close() is called or the last copy is destroyed.
class Conn {
 public:
  Conn() = default;
  explicit Conn(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}

  // read reads up to buf.size() bytes: n > 0, or an error (errc::eof at the end of the stream).
  IoResult read(std::span<std::byte> buf);
  // write writes all of buf unless an error stops it (n: what was written).
  IoResult write(std::span<const std::byte> buf);
  std::error_code close();
  std::error_code close_read();
  std::error_code close_write();
  // Deadlines: reads/writes waiting past them fail with errc::timeout; time_point{} clears.
  std::error_code set_deadline(time_point t);
  std::error_code set_read_deadline(time_point t);
  std::error_code set_write_deadline(time_point t);
  Addr local_addr() const;
  Addr remote_addr() const;
  std::error_code set_no_delay(bool on);
  int fd() const;
  explicit operator bool() const { return fd_ != nullptr; }

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

// Listener: a listening stream socket.
class Listener {
 public:
  Listener() = default;
  explicit Listener(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}
  // accept waits for the next connection. EMFILE/ENFILE are returned, not retried: back off.
  Result<Conn> accept();
  std::error_code close();
  Addr addr() const;
  explicit operator bool() const { return fd_ != nullptr; }

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

struct ListenOptions {
  int backlog = 0;  // 0: SOMAXCONN
  bool reuse_port = false;
};

struct DialOptions {
  std::chrono::nanoseconds timeout{0};  // 0: none
};

// listen: network "tcp", "tcp4" or "tcp6"; address "host:port", "[v6]:port" or ":port" (all
// addresses; port 0 picks one).
Result<Listener> listen(std::string_view network, std::string_view address,
                        ListenOptions opts = {});
// dial connects to address; host names are resolved with getaddrinfo inside weft::blocking.
Result<Conn> dial(std::string_view network, std::string_view address, DialOptions opts = {});

}  // namespace weft::net

template <>
struct std::is_error_code_enum<weft::net::errc> : std::true_type {};
