// net_support: helpers shared by the net suite — byte views of strings, an echo server, reading
// exactly n bytes, a temporary directory for Unix socket paths.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>

#include <weft/net.hpp>

#include "../support.hpp"

namespace weft_test {

inline std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// hostport joins a host and a port as "host:port" (appending: GCC 12 at -O3 misreports
// `"literal" + std::to_string(n)` as an overlapping memcpy).
inline std::string hostport(std::string_view host, int port) {
  std::string s(host);
  s.append(":").append(std::to_string(port));
  return s;
}

inline std::error_code sys_error(int e) { return {e, std::system_category()}; }

// serve_echo: each connection echoes until EOF or an error.
inline void serve_echo(weft::net::Conn c) {
  std::byte buf[4096];
  for (;;) {
    auto r = c.read(buf);
    if (r.err) break;
    if (c.write(std::span(buf, r.n)).err) break;
  }
  c.close();
}

// echo_server accepts until the listener closes, a fiber per connection.
inline void echo_server(weft::net::Listener ln) {
  for (;;) {
    auto [c, err] = ln.accept();
    if (err) return;
    weft::go([c = std::move(c)]() mutable { serve_echo(std::move(c)); });
  }
}

// read_full reads exactly n bytes, or fewer with *err set.
inline std::string read_full(weft::net::Conn& c, std::size_t n, std::error_code* err) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    auto r = c.read(std::as_writable_bytes(std::span(out.data() + got, n - got)));
    if (r.err) {
      *err = r.err;
      out.resize(got);
      return out;
    }
    got += r.n;
  }
  return out;
}

// str: bytes as a string.
inline std::string str(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Pair: a listener, a client dialed to it and the accepted server end.
struct Pair {
  weft::net::Listener ln;
  weft::net::Conn client, server;
};

// connect_pair makes a Pair on network/address; REQUIREs success, so call it only from the
// test's block_on fiber (Catch2 is not thread-safe).
inline Pair connect_pair(std::string_view network = "tcp",
                         std::string_view address = "127.0.0.1:0") {
  Pair p;
  auto [ln, err] = weft::net::listen(network, address);
  REQUIRE_FALSE(err);
  auto [c, derr] = weft::net::dial(network, ln.addr().to_string());
  REQUIRE_FALSE(derr);
  auto [s, aerr] = ln.accept();
  REQUIRE_FALSE(aerr);
  p.ln = ln;
  p.client = c;
  p.server = s;
  return p;
}

// echo_clients runs `conns` fibers at once, each dialing addr and checking `msgs` round trips
// through an echo server; returns how many failed (dial errors and wrong echoes).
inline int echo_clients(std::string_view network, const std::string& addr, int conns, int msgs) {
  std::atomic<int> bad{0};
  Latch l(conns);
  for (int i = 0; i < conns; ++i) {
    weft::go([&, i] {
      auto [c, derr] = weft::net::dial(network, addr);
      for (int k = 0; k < msgs && !derr; ++k) {
        std::string msg = "conn " + std::to_string(i) + " message " + std::to_string(k);
        std::error_code e;
        if (c.write(bytes(msg)).err || read_full(c, msg.size(), &e) != msg) ++bad;
      }
      if (derr) ++bad;
      c.close();
      l.count_down();
    });
  }
  l.wait();
  return bad.load();
}

// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/weft-net-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) FAIL("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace weft_test
