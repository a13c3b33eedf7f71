// debug_programs: small fiber programs that the debugging-tool tests run under valgrind, gdb and
// WEFT_TRACE (test/debug/); one mode a program, chosen by argv[1].
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "parkslot.hpp"

using namespace weft;
using weft::detail::ParkSlot;
using weft::detail::parkslot_signal;
using weft::detail::parkslot_wait;

namespace {

// echo: a TCP round trip on the loopback through the poller (listen, accept, dial, write, read).
bool echo() {
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
  if (err) return false;
  ParkSlot served;
  go([&, l = ln]() mutable {
    auto [c, e] = l.accept();
    if (e) return;
    std::byte buf[16];
    auto r = c.read(buf);
    if (!r.err) c.write(std::span<const std::byte>(buf, r.n));
    parkslot_signal(&served);
  });
  auto [c, derr] = net::dial("tcp", ln.addr().to_string());
  if (derr) return false;
  sleep_for(std::chrono::milliseconds(1));  // the server waits in accept/read meanwhile
  const std::byte msg[] = {std::byte{'h'}, std::byte{'i'}};
  if (c.write(msg).err) return false;
  std::byte back[16];
  auto r = c.read(back);
  parkslot_wait(&served);
  ln.close();
  return !r.err && r.n == 2 && back[1] == std::byte{'i'};
}

// workload: every kind of switch the runtime makes — first runs, yields, parks and readies
// across Ms, timers, the poller, a blocking call — in a few milliseconds. `pairs` pairs of
// fibers ping-pong `rounds` times through ParkSlots. Prints "ok" when everything checked out,
// then how many fibers it ran (the pairs, echo's server, main).
int workload(int pairs, int rounds) {
  return run(
      [=] {
        std::atomic<int> done{0};
        ParkSlot all;
        std::vector<ParkSlot> ping(static_cast<std::size_t>(pairs)), pong(ping.size());
        for (int i = 0; i < pairs; ++i) {
          ParkSlot* a = &ping[std::size_t(i)];
          ParkSlot* b = &pong[std::size_t(i)];
          go([&, a, b] {
            for (int r = 0; r < rounds; ++r) {
              parkslot_signal(b);
              parkslot_wait(a);
              yield();
            }
            if (done.fetch_add(1) + 1 == 2 * pairs) parkslot_signal(&all);
          });
          go([&, a, b] {
            for (int r = 0; r < rounds; ++r) {
              parkslot_wait(b);
              if (r % 4 == 0) sleep_for(std::chrono::microseconds(50));
              parkslot_signal(a);
            }
            if (done.fetch_add(1) + 1 == 2 * pairs) parkslot_signal(&all);
          });
        }
        int slept = blocking([] {
          usleep(1000);
          return 1;
        });
        bool io = echo();
        parkslot_wait(&all);
        std::printf("%s\nfibers %d\n", io && slept == 1 ? "ok" : "FAILED", 2 * pairs + 2);
        return io ? 0 : 1;
      },
      Config{.procs = 2});
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "workload") return workload(4, 20);
  if (mode == "workload_long") return workload(4, 600);  // overflows the trace buffers
  std::fprintf(stderr, "usage: debug_programs workload|workload_long\n");
  return 2;
}
