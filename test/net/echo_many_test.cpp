// echo_many_test: echo round trips at 10,000 concurrent connections. The server runs here; the
// clients run in a second process (net_echo_client, path in WEFT_NET_ECHO_CLIENT) because the
// descriptor limit (20,000 here) must hold both ends of every connection. Scaled down under the
// sanitizers (TSan allows ~8,000 live fibers per process) and under WEFT_DEBUG=migrate=1.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <string>

#include "net_support.hpp"

extern char** environ;

using namespace weft;
using weft_test::Latch;

namespace {

// NofileRaised: the soft descriptor limit lifted to the hard one for the scope.
struct NofileRaised {
  rlimit old{};
  NofileRaised() {
    getrlimit(RLIMIT_NOFILE, &old);
    rlimit r = old;
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
  ~NofileRaised() { setrlimit(RLIMIT_NOFILE, &old); }
};

}  // namespace

TEST_CASE(
    "echo round trips at 10,000 concurrent connections (procs 1, 2, 4), clients in a second "
    "process",
    "[net][many]") {
  const char* client = std::getenv("WEFT_NET_ECHO_CLIENT");
  REQUIRE(client != nullptr);
  // 10,000 connections; under ASan 2,000 and under TSan 1,000 (TSan allows ~8,000 live fibers,
  // and everything is 5-20x slower: 2,000 took TSan 46 s, the longest serial step of CI's
  // suites); under migrate=1 (every switch a thread hand-off) 2,000.
  const long conns = weft_test::kTsan        ? 1000
                     : weft_test::kSanitized ? 2000
                                             : std::min(10000L, 40000 / weft_test::stress_scale());
  const long kRounds = 5;
  NofileRaised nofile;
  weft_test::each_procs([&](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<long> accepted{0}, open{0}, peak{0}, server_bad{0};
    int status = -1;
    rt.block_on([&] {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      REQUIRE_FALSE(err);
      Latch served(conns);  // each server connection's fiber, at its end
      Latch acceptor(1);
      go([&, ln]() mutable {
        for (;;) {
          auto [c, aerr] = ln.accept();
          if (aerr == net::errc::closed) break;
          if (aerr) {
            ++server_bad;
            continue;
          }
          ++accepted;
          long now = ++open;
          for (long p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
          }
          go([&, c]() mutable {
            weft_test::serve_echo(c);
            --open;
            served.count_down();
          });
        }
        acceptor.count_down();
      });
      std::string addr = ln.addr().to_string();
      std::string n = std::to_string(conns), r = std::to_string(kRounds);
      char* argv[] = {const_cast<char*>(client), addr.data(), n.data(), r.data(), nullptr};
      pid_t pid;
      REQUIRE(posix_spawn(&pid, client, nullptr, nullptr, argv, environ) == 0);
      weft::blocking([&] { waitpid(pid, &status, 0); });
      ln.close();
      acceptor.wait();
      for (long i = accepted.load(); i < conns; ++i) served.count_down();  // never accepted
      served.wait();  // the client exited: every server connection ends with EOF or a reset
    });
    INFO("connections: " << conns);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(accepted.load() == conns);
    CHECK(peak.load() == conns);  // all of them open at once
    CHECK(server_bad.load() == 0);
    CHECK(open.load() == 0);
  });
}
