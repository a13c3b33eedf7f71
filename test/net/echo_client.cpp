// net_echo_client: the client side of the 10,000-connection echo test, in its own process so that
// each side has the whole descriptor limit. Usage: net_echo_client ADDRESS CONNS ROUNDS.
// Dials CONNS connections at once, waits until every one is up, runs ROUNDS round trips on each,
// waits until every one is done, then closes them all. Exit 0 if nothing failed; the failures are
// reported on stderr.
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <weft/net.hpp>
#include <weft/weft.hpp>

using namespace weft;

namespace {

// raise_nofile lifts the soft descriptor limit to the hard one.
void raise_nofile() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: net_echo_client ADDRESS CONNS ROUNDS\n");
    return 2;
  }
  std::string address = argv[1];
  long conns = std::atol(argv[2]);
  long rounds = std::atol(argv[3]);
  if (conns < 1 || rounds < 1) return 2;
  raise_nofile();
  return weft::run([&] {
    std::atomic<long> dial_failed{0}, echo_failed{0};
    std::atomic<bool> failed_once{false};
    std::error_code first_err;  // written by the one fiber that sets failed_once
    // connected, echoed: barriers (each fiber counts down, then waits for zero); done: main waits.
    WaitGroup connected, echoed, done;
    connected.add(conns);
    echoed.add(conns);
    done.add(conns);
    for (long i = 0; i < conns; ++i) {
      go([&, i] {
        auto [c, err] = net::dial("tcp", address);
        if (err) {
          ++dial_failed;
          if (!failed_once.exchange(true)) first_err = err;
        }
        connected.done();
        connected.wait();  // every connection is open at once past this point
        for (long k = 0; k < rounds && !err; ++k) {
          std::string msg = "client " + std::to_string(i) + " round " + std::to_string(k);
          std::string back(msg.size(), '\0');
          bool ok = !c.write(std::as_bytes(std::span(msg))).err;
          for (std::size_t got = 0; ok && got < back.size();) {
            auto r =
                c.read(std::as_writable_bytes(std::span(back.data() + got, back.size() - got)));
            ok = !r.err;
            got += r.n;
          }
          if (!ok || back != msg) {
            ++echo_failed;
            break;
          }
        }
        echoed.done();
        echoed.wait();
        c.close();
        done.done();
      });
    }
    done.wait();
    if (dial_failed || echo_failed) {
      std::fprintf(stderr,
                   "net_echo_client: %ld of %ld dials failed (first: %s), %ld echoes failed\n",
                   dial_failed.load(), conns, first_err.message().c_str(), echo_failed.load());
      return 1;
    }
    std::printf("net_echo_client: %ld connections, %ld round trips each: ok\n", conns, rounds);
    return 0;
  });
}
