// net_echo_server: weft's network benchmark server — TCP echo or HTTP/1.1 keep-alive hello, a
// fiber per connection on weft::net. Twins: go/echo_server (Go), epoll_echo_server.cpp (raw epoll).
//
// Usage: bench_net_echo_server [-mode echo|http] [-procs P] [-addr 127.0.0.1:0]
// Prints `listening HOST:PORT`, then serves until killed (tools/bench/netbench.py drives it).
// -procs defaults to the CPUs in the affinity mask, as Go's GOMAXPROCS does.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "netserver.hpp"

namespace {

namespace ns = bench::netserver;
using namespace std::chrono_literals;

bool temporary(std::error_code e) {
  return e == std::errc::too_many_files_open || e == std::errc::too_many_files_open_in_system ||
         e == std::errc::no_buffer_space || e == std::errc::not_enough_memory;
}

// echo_conn writes back whatever it reads until EOF or an error.
void echo_conn(weft::net::Conn c) {
  std::byte buf[4096];
  for (;;) {
    auto r = c.read(buf);
    if (r.err || c.write(std::span(buf, r.n)).err) break;
  }
  c.close();
}

// http_conn answers each request ns::http_answer finds, in order, one write per read.
void http_conn(weft::net::Conn c) {
  std::string in, out;
  std::byte buf[4096];
  bool close = false;
  while (!close) {
    auto r = c.read(buf);
    if (r.err) break;
    in.append(reinterpret_cast<const char*>(buf), r.n);
    in.erase(0, ns::http_answer(in, out, &close));
    if (!out.empty() && c.write(std::as_bytes(std::span(out))).err) break;
    out.clear();
  }
  c.close();
}

}  // namespace

int main(int argc, char** argv) {
  ns::Flags f = ns::parse(argc, argv);
  ns::raise_nofile();
  return weft::run(
      [&] {
        auto [ln, err] = weft::net::listen("tcp", f.addr);
        if (err) {
          std::fprintf(stderr, "net_echo_server: listen %s: %s\n", f.addr.c_str(),
                       err.message().c_str());
          return 1;
        }
        ns::announce(ln.addr().to_string());
        auto handle = f.mode == ns::Mode::echo ? echo_conn : http_conn;
        std::chrono::milliseconds delay{0};  // EMFILE back-off, as Go's net/http Server.Serve
        for (;;) {
          auto [c, aerr] = ln.accept();
          if (aerr) {
            if (!temporary(aerr)) {
              std::fprintf(stderr, "net_echo_server: accept: %s\n", aerr.message().c_str());
              return 1;
            }
            delay = delay == 0ms ? 5ms : std::min(delay * 2, std::chrono::milliseconds(1000));
            weft::sleep_for(delay);
            continue;
          }
          delay = 0ms;
          weft::go([c, handle]() mutable { handle(std::move(c)); });
        }
      },
      weft::Config{.procs = f.procs});
}
