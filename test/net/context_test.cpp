// context_test: net::dial and Conn::read/write under a weft::Context — a context that already
// ended, a deadline, and a cancel from another fiber while a connect or a read waits (Go's
// DialContext and the ctx-aware I/O Go code writes by hand).
#include <vector>

#include "net_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::bytes;
using weft_test::connect_pair;
using clk = std::chrono::steady_clock;

namespace {

// full_backlog returns a listener whose accept queue is full: further connects hang (Linux
// drops their SYNs) until something ends them. `queued` keeps the connections that got in.
net::Listener full_backlog(std::vector<net::Conn>& queued) {
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0", net::ListenOptions{.backlog = 1});
  REQUIRE_FALSE(err);
  for (int i = 0; i < 16; ++i) {
    auto [c, derr] = net::dial("tcp", ln.addr().to_string(), net::DialOptions{.timeout = 100ms});
    if (derr == net::errc::timeout) return ln;
    REQUIRE_FALSE(derr);
    queued.push_back(c);
  }
  FAIL("the backlog never filled");
  return ln;
}

}  // namespace

TEST_CASE("dial with a context: ended before, deadline, cancel during the connect", "[net]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ok, oerr] = net::listen("tcp", "127.0.0.1:0");
    REQUIRE_FALSE(oerr);
    {  // A live context changes nothing.
      auto [ctx, cancel] = with_cancel(background());
      auto r = net::dial("tcp", ok.addr().to_string(), net::DialOptions{.context = ctx});
      CHECK_FALSE(r.err);
      cancel();
    }
    {  // Already cancelled / expired: fails before connecting.
      auto [ctx, cancel] = with_cancel(background());
      cancel();
      auto r = net::dial("tcp", ok.addr().to_string(), net::DialOptions{.context = ctx});
      CHECK(r.err == context_errc::canceled);
      CHECK_FALSE(r.value);
      auto [past, cp] = with_deadline(background(), clk::now() - 1s);
      CHECK(net::dial("tcp", ok.addr().to_string(), net::DialOptions{.context = past}).err ==
            net::errc::timeout);
      cp();
    }
    std::vector<net::Conn> queued;
    net::Listener ln = full_backlog(queued);
    std::string addr = ln.addr().to_string();
    {                        // The context's deadline bounds a hanging connect, never early.
      auto t0 = clk::now();  // before the context: its deadline counts from its creation
      auto [ctx, cancel] = with_timeout(background(), 80ms);
      auto r = net::dial("tcp", addr, net::DialOptions{.timeout = 10s, .context = ctx});
      auto el = clk::now() - t0;
      CHECK(r.err == net::errc::timeout);
      CHECK(el >= 80ms);
      CHECK(el < 5s);  // sanity bound
      cancel();
    }
    {  // A cancel from another fiber interrupts the connect at once.
      auto [ctx, cancel] = with_cancel(background());
      go([cancel = cancel] {
        sleep_for(50ms);
        cancel();
      });
      auto t0 = clk::now();
      auto r = net::dial("tcp", addr, net::DialOptions{.timeout = 10s, .context = ctx});
      auto el = clk::now() - t0;
      CHECK(r.err == context_errc::canceled);
      CHECK(el >= 50ms);
      CHECK(el < 5s);
    }
    {  // Unix sockets take the context too.
      auto [ctx, cancel] = with_cancel(background());
      cancel();
      CHECK(net::dial("unix", "/nonexistent/weft.sock", net::DialOptions{.context = ctx}).err ==
            context_errc::canceled);
    }
  });
}

TEST_CASE("Conn read and write with a context", "[net]") {
  weft_test::each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto p = connect_pair();
      std::byte buf[64];
      {  // Deadline: errc::timeout; the conn's deadline is cleared afterwards.
        auto t0 = clk::now();  // before the context, as above
        auto [ctx, cancel] = with_timeout(background(), 30ms);
        auto r = p.client.read(buf, ctx);
        CHECK(r.err == net::errc::timeout);
        CHECK(clk::now() - t0 >= 30ms);
        cancel();
        go([s = p.server]() mutable { s.write(bytes("late")); });
        auto r2 = p.client.read(buf);  // no deadline left behind
        CHECK_FALSE(r2.err);
        CHECK(r2.n == 4);
      }
      {  // Cancel from another fiber wakes the read.
        auto [ctx, cancel] = with_cancel(background());
        go([cancel = cancel] {
          sleep_for(20ms);
          cancel();
        });
        auto r = p.client.read(buf, ctx);
        CHECK(r.err == context_errc::canceled);
        CHECK(r.n == 0);
      }
      {  // Data already there is read under a live context.
        auto [ctx, cancel] = with_timeout(background(), 1h);
        CHECK_FALSE(p.server.write(bytes("now")).err);
        auto r = p.client.read(buf, ctx);
        CHECK_FALSE(r.err);
        CHECK(r.n == 3);
        cancel();
      }
      {  // A write that cannot finish (nobody reads) ends at the cancel with its partial count.
        auto [ctx, cancel] = with_cancel(background());
        go([cancel = cancel] {
          sleep_for(30ms);
          cancel();
        });
        std::vector<std::byte> big(64 << 20);
        auto r = p.client.write(big, ctx);
        CHECK(r.err == context_errc::canceled);
        CHECK(r.n < big.size());
      }
      {  // An ended context fails at once.
        auto [ctx, cancel] = with_cancel(background());
        cancel();
        CHECK(p.client.write(bytes("x"), ctx).err == context_errc::canceled);
      }
    });
  });
}
