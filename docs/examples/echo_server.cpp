// echo_server: a TCP echo server, one fiber per connection. Usage: echo_server [ADDR] (":7000").
#include <cstdio>
#include <weft/net.hpp>
#include <weft/weft.hpp>

int main(int argc, char** argv) {
  if (argc > 2) return std::fprintf(stderr, "usage: echo_server [ADDR]  (default :7000)\n"), 2;
  return weft::run([addr = argc > 1 ? argv[1] : ":7000"] {
    auto [ln, err] = weft::net::listen("tcp", addr);
    if (err) return std::fprintf(stderr, "echo_server: %s: %s\n", addr, err.message().c_str()), 1;
    std::printf("listening on %s\n", ln.addr().to_string().c_str()), std::fflush(stdout);
    for (;;) {
      auto [c, aerr] = ln.accept();
      if (aerr) {  // out of descriptors (EMFILE): pause, then accept again
        weft::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      weft::go([c]() mutable {  // the connection's own fiber: plain blocking-style code
        std::byte buf[4096];
        for (auto r = c.read(buf); !r.err; r = c.read(buf)) {  // until EOF or an error
          if (c.write(std::span(buf, r.n)).err) break;
        }
        c.close();
      });
    }
  });
}
