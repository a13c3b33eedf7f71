// serve.hpp: the examples' servers' accept loop — a fiber per connection, backing off when the
// process is out of descriptors as Go's net/http Server.Serve does (docs/net.md, Accept errors).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

#include <weft/net.hpp>
#include <weft/weft.hpp>

namespace examples {

// serve accepts connections on ln and runs handle(conn) on a new fiber for each, until accept
// fails for good; it returns that error (net::errc::closed once ln is closed). Out of
// descriptors (EMFILE, ENFILE) is not for good: it waits 5 ms, doubling up to 1 s, and retries.
template <class Handler>
std::error_code serve(weft::net::Listener ln, Handler handle) {
  using namespace std::chrono_literals;
  std::chrono::milliseconds delay{0};
  for (;;) {
    auto [c, err] = ln.accept();
    if (err == std::errc::too_many_files_open || err == std::errc::too_many_files_open_in_system) {
      delay = delay == 0ms ? 5ms : std::min<std::chrono::milliseconds>(2 * delay, 1s);
      std::fprintf(stderr, "accept: %s; retrying in %lld ms\n", err.message().c_str(),
                   static_cast<long long>(delay.count()));
      weft::sleep_for(delay);
      continue;
    }
    if (err) return err;
    delay = 0ms;
    weft::go([handle, c]() mutable { handle(std::move(c)); });
  }
}

// listen_and_serve listens on addr (TCP), prints "listening on ADDR" (the port the system
// picked, for port 0) and serves with handle, like Go's http.ListenAndServe. It returns only
// on failure, with the exit status for main (1), after printing "PROG: listen ADDR: why".
template <class Handler>
int listen_and_serve(const char* prog, const std::string& addr, Handler handle) {
  auto [ln, err] = weft::net::listen("tcp", addr);
  if (err) {
    std::fprintf(stderr, "%s: listen %s: %s\n", prog, addr.c_str(), err.message().c_str());
    return 1;
  }
  std::printf("listening on %s\n", ln.addr().to_string().c_str());
  std::fflush(stdout);  // a pipe would hold it back: whoever started us waits for the line
  err = serve(ln, std::move(handle));
  std::fprintf(stderr, "%s: accept: %s\n", prog, err.message().c_str());
  return 1;
}

}  // namespace examples
