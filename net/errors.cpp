// errors: weft::net's error category, with Go's messages (net.ErrClosed, os.ErrDeadlineExceeded,
// io.EOF, DNSError). Go's net/net.go and internal/poll/fd.go.
#include <weft/net/errors.hpp>

#include <string>

namespace weft::net {

namespace {

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "weft.net"; }
  std::string message(int e) const override {
    switch (static_cast<errc>(e)) {
      case errc::closed:
        return "use of closed network connection";
      case errc::timeout:
        return "i/o timeout";
      case errc::eof:
        return "EOF";
      case errc::bad_address:
        return "invalid address";
      case errc::unknown_network:
        return "unknown network";
      case errc::not_pollable:
        return "not pollable";
      case errc::no_such_host:
        return "no such host";
      case errc::lookup_failed:
        return "name resolution failed";
      case errc::no_suitable_address:
        return "no suitable address found";
    }
    return "unknown weft.net error";
  }
};

}  // namespace

const std::error_category& net_category() {
  static const Category c;
  return c;
}

std::error_code make_error_code(errc e) { return {static_cast<int>(e), net_category()}; }

}  // namespace weft::net
