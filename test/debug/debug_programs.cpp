// debug_programs: small fiber programs that the debugging-tool tests run under valgrind, gdb and
// WEFT_TRACE (test/debug/); one mode a program, chosen by argv[1].
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <sstream>
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

// gdb_parked: fibers parked in known functions (one of them wired to its thread), then a
// SIGTRAP that stops the program under gdb (test/debug/gdb_check.py unwinds them there with
// tools/gdb/weft.py). Without a debugger the SIGTRAP ends the program.
__attribute__((noinline)) void gdb_alpha_waits(ParkSlot* s) {
  parkslot_wait(s);
  asm volatile("" ::: "memory");  // no tail call: this frame stays on the stack
}

__attribute__((noinline)) void gdb_beta_sleeps() {
  sleep_for(std::chrono::hours(1));
  asm volatile("" ::: "memory");
}

int gdb_parked() {
  return run(
      [] {
        static ParkSlot never[2];
        go([] { gdb_alpha_waits(&never[0]); });
        go([] { gdb_beta_sleeps(); });
        go([] {
          lock_os_thread();
          gdb_alpha_waits(&never[1]);
        });
        for (int i = 0; i < 2000; ++i) {  // until all three are parked
          std::ostringstream os;
          dump_fibers(os);
          std::string d = os.str();
          if (d.find("[park]") != d.npos && d.find("[sleep]") != d.npos &&
              d.find("[park, locked") != d.npos) {
            break;
          }
          sleep_for(std::chrono::milliseconds(1));
        }
        raise(SIGTRAP);
        return 0;
      },
      Config{.procs = 2});
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "workload") return workload(4, 20);
  if (mode == "workload_long") return workload(4, 600);  // overflows the trace buffers
  if (mode == "gdb_parked") return gdb_parked();
  std::fprintf(stderr, "usage: debug_programs workload|workload_long|gdb_parked\n");
  return 2;
}
