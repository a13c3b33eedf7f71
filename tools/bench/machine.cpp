// machine: what the machine charges for the three kernel services the benchmarks lean on, so
// that a run's ratios can be read against the guest it ran on (docs/performance.md): no weft,
// no Go, only the kernel.
//
//   page_fault  µs per first write to a fresh anonymous page, touched one page per 132 KiB (a
//               guarded 128 KiB fiber stack and its guard page) as fresh fiber stacks are:
//               skynet, chain and spawn pay one of these per fiber on a fresh stack.
//   syscall     ns per getppid(2), the cheapest system call: the kernel entry and exit every
//               read, write and epoll_wait pays on top of its own work.
//   wake        ns per futex round trip between two threads on two CPUs, each half a sleep
//               and a wake-up: what a server that runs dry pays per request to be woken, and
//               what a fiber readied for a sleeping M costs the readier.
//
// Each figure is the median of 5 batches. Prints `name=<x> value=<number> unit=<unit>` lines.
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kBatches = 5;

double now_ns() {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "machine: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

double page_fault_us() {
  constexpr std::size_t kPages = 4000;
  constexpr std::size_t kStride = 132 * 1024;
  std::vector<double> us;
  for (int b = 0; b < kBatches; ++b) {
    std::size_t len = kPages * kStride;
    void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) die("mmap");
    auto* base = static_cast<volatile char*>(m);
    double t0 = now_ns();
    for (std::size_t i = 0; i < kPages; ++i) base[(i + 1) * kStride - 64] = 1;
    us.push_back((now_ns() - t0) / 1e3 / double(kPages));
    if (munmap(m, len) != 0) die("munmap");
  }
  return median(us);
}

double syscall_ns() {
  constexpr int kCalls = 100000;
  std::vector<double> ns;
  for (int b = 0; b < kBatches; ++b) {
    double t0 = now_ns();
    for (int i = 0; i < kCalls; ++i) syscall(SYS_getppid);
    ns.push_back((now_ns() - t0) / kCalls);
  }
  return median(ns);
}

long futex(std::atomic<int>* addr, int op, int val) {
  return syscall(SYS_futex, reinterpret_cast<int*>(addr), op | FUTEX_PRIVATE_FLAG, val, nullptr,
                 nullptr, 0);
}

// wait_for blocks until *turn == me (futex sleep; no spinning, so every hand-over is a wake-up).
void wait_for(std::atomic<int>& turn, int me) {
  for (;;) {
    int t = turn.load(std::memory_order_acquire);
    if (t == me) return;
    futex(&turn, FUTEX_WAIT, t);
  }
}

void hand_to(std::atomic<int>& turn, int other) {
  turn.store(other, std::memory_order_release);
  futex(&turn, FUTEX_WAKE, 1);
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);  // best effort: one CPU means no pinning
}

double wake_ns() {
  constexpr int kTrips = 5000;
  bool two = std::thread::hardware_concurrency() >= 2;
  std::vector<double> ns;
  for (int b = 0; b < kBatches; ++b) {
    std::atomic<int> turn{0};
    std::thread peer([&] {
      if (two) pin(1);
      for (int i = 0; i < kTrips; ++i) {
        wait_for(turn, 1);
        hand_to(turn, 0);
      }
    });
    if (two) pin(0);
    double t0 = now_ns();
    for (int i = 0; i < kTrips; ++i) {
      hand_to(turn, 1);
      wait_for(turn, 0);
    }
    ns.push_back((now_ns() - t0) / kTrips);
    peer.join();
  }
  return median(ns);
}

}  // namespace

int main(int argc, char**) {
  if (argc > 1) {
    std::fprintf(stderr, "machine: takes no arguments\n");
    return 2;
  }
  std::printf("name=page_fault value=%.2f unit=us\n", page_fault_us());
  std::printf("name=syscall value=%.1f unit=ns\n", syscall_ns());
  std::printf("name=wake value=%.0f unit=ns\n", wake_ns());
  return 0;
}
