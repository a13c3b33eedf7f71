// os_linux: futex notes, clocks and alternate signal stacks on Linux.
// Follows Go's src/runtime/os_linux.go and lock_futex.go.
#include "os_linux.hpp"

#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <limits>

#include <weft/detail/spawn.hpp>

#include "debug.hpp"

namespace weft::detail {

static long futex(std::atomic<std::uint32_t>* addr, int op, std::uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), op | FUTEX_PRIVATE_FLAG, val,
                 nullptr, nullptr, 0);
}

void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected) {
  futex(addr, FUTEX_WAIT, expected);  // EAGAIN/EINTR: the caller re-checks
}

void futex_wake(std::atomic<std::uint32_t>* addr) { futex(addr, FUTEX_WAKE, 0x7fffffff); }

void noteclear(Note* n) { n->key.store(0, std::memory_order_relaxed); }

void notewakeup(Note* n) {
  if (n->key.exchange(1) != 0) fatal("notewakeup: double wakeup");
  futex(&n->key, FUTEX_WAKE, 1);
}

void notesleep(Note* n) {
  while (n->key.load() == 0) futex(&n->key, FUTEX_WAIT, 0);
}

bool notetsleep(Note* n, std::int64_t ns) {
  std::int64_t now = nanotime();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t deadline = ns > kMax - now ? kMax : now + ns;  // saturate: "forever"
  while (n->key.load() == 0) {
    std::int64_t left = deadline - nanotime();
    if (left <= 0) return false;
    timespec ts{time_t(left / 1000000000), long(left % 1000000000)};
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&n->key), FUTEX_WAIT | FUTEX_PRIVATE_FLAG,
            0, &ts, nullptr, 0);
  }
  return true;
}

std::int64_t nanotime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::size_t page_size() {
  static const std::size_t ps = std::size_t(sysconf(_SC_PAGESIZE));
  return ps;
}

static std::size_t altstack_size() {
  long min = sysconf(_SC_MINSIGSTKSZ);
  std::size_t sz = 64 * 1024;
  if (min > 0 && std::size_t(min) * 4 > sz) sz = std::size_t(min) * 4;
  return sz;
}

void* signal_stack_install() {
  std::size_t sz = altstack_size();
  void* p = mmap(nullptr, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fatal("cannot allocate an alternate signal stack (errno %d)", errno);
  stack_t ss{};
  ss.ss_sp = p;
  ss.ss_size = sz;
  if (sigaltstack(&ss, nullptr) != 0) fatal("sigaltstack failed (errno %d)", errno);
  return p;
}

void signal_stack_release(void* stk) {
  if (!stk) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  munmap(stk, altstack_size());
}

long env_int(const char* name, long dflt) {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0') return dflt;
  return x;
}

}  // namespace weft::detail
