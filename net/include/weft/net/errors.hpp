// weft/net/errors.hpp: the net package's error codes and its result types.
// Go's net/net.go (errClosed, timeout errors) and io.EOF; os errors stay system_category.
#pragma once

#include <cstddef>
#include <system_error>
#include <type_traits>

namespace weft::net {

// errc: the net package's own errors. OS errors (ECONNREFUSED, ECONNRESET, EPIPE, EMFILE, ...)
// are reported as they are, in std::system_category().
enum class errc {
  closed = 1,           // "use of closed network connection": the Conn/Listener was closed
  timeout,              // "i/o timeout": a deadline passed
  eof,                  // "EOF": the peer closed its side of the stream
  bad_address,          // "invalid address": the address does not parse
  unknown_network,      // "unknown network": not a network this call accepts
  not_pollable,         // "not pollable": the poller reported an error on the descriptor
  no_such_host,         // "no such host": name resolution found nothing
  lookup_failed,        // "name resolution failed": the resolver failed (try again later)
  no_suitable_address,  // "no suitable address found": none of the family asked for
};

// net_category: the error category of errc (name "weft.net"); make_error_code makes
// `err == net::errc::timeout` work.
const std::error_category& net_category();
std::error_code make_error_code(errc e);

// Result: a value and an error, so that `auto [conn, err] = net::dial(...)` reads like Go.
template <class T>
struct Result {
  T value;
  std::error_code err;
};

// IoResult: bytes transferred and an error; n may be > 0 together with an error (a write cut
// short by a deadline, a close or a reset reports what it wrote).
struct IoResult {
  std::size_t n = 0;
  std::error_code err;
};

}  // namespace weft::net

template <>
struct std::is_error_code_enum<weft::net::errc> : std::true_type {};
