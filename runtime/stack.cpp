// stack: fiber stacks — mmap'd chunks, guard pages within the map budget, slab stacks with
// canaries beyond it, and the stack-overflow SIGSEGV handler. (Go: src/runtime/stack.go.)
#include "stack.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "debug.hpp"
#include "os_linux.hpp"
#include "proc.hpp"
#include "sanitizer.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t kGuardedPerChunk = 32;
constexpr std::size_t kMaxSlabSlots = 1024;
constexpr std::size_t kSlotReserve = 64;  // top of each slab slot: the canary of the slot above
constexpr std::uint64_t kCanary = 0x5745465443414e59ull;  // "WEFTCANY"

// Process-wide accounting of a process-wide resource: the kernel's mapping count. Guarded stacks
// of every runtime in the process draw from one budget.
std::atomic<long> g_guard_maps{0};
std::atomic<bool> g_warned{false};

long guard_budget() {
  static const long budget = [] {
    long max = 65530;
    if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
      if (std::fscanf(f, "%ld", &max) != 1) max = 65530;
      std::fclose(f);
    }
    return max / 2;
  }();
  return budget;
}

char* map_or_die(std::size_t len, std::size_t size) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) {
    fatal("cannot map fiber stacks (%zu bytes for stacks of %zu): %s", len, size,
          std::strerror(errno));
  }
  return static_cast<char*>(p);
}

std::uint64_t* canary_slot(const Stack& s) { return reinterpret_cast<std::uint64_t*>(s.lo - 8); }

}  // namespace

StackPool::~StackPool() {
  for (unsigned id : vg_ids_) san::stack_deregister(id);
  for (const Chunk& c : chunks_) {
    san::unpoison(c.base, c.len);
    munmap(c.base, c.len);
  }
  g_guard_maps.fetch_sub(guard_maps_);  // exactly what new_chunk drew from the budget
}

void StackPool::init(bool guard_pages) { guard_pages_ = guard_pages; }

std::size_t StackPool::round_size(std::size_t size) {
  std::size_t ps = page_size();
  if (size < 4 * ps) size = 4 * ps;
  return (size + ps - 1) / ps * ps;
}

void StackPool::new_chunk(std::size_t size, Carve& c) {
  std::size_t ps = page_size();
  if (guard_pages_) {
    long want = long(2 * kGuardedPerChunk);
    if (g_guard_maps.fetch_add(want) + want <= guard_budget()) {
      guard_maps_ += want;
      std::size_t unit = ps + size;
      std::size_t len = unit * kGuardedPerChunk;
      char* base = map_or_die(len, size);
      for (std::size_t i = 0; i < kGuardedPerChunk; ++i) {
        if (mprotect(base + i * unit, ps, PROT_NONE) != 0) {
          fatal("cannot protect a stack guard page: %s", std::strerror(errno));
        }
      }
      chunks_.push_back({base, len});
      c = Carve{base, kGuardedPerChunk, true};
      return;
    }
    g_guard_maps.fetch_sub(want);
    if (!g_warned.exchange(true)) {
      std::fprintf(stderr,
                   "weft: vm.max_map_count allows %ld guarded stacks; further fiber stacks are "
                   "unguarded (canary-checked)\n",
                   guard_budget() / 2);
    }
  }
  std::size_t len = ps + size * slab_slots_;
  char* base = map_or_die(len, size);
  chunks_.push_back({base, len});
  c = Carve{base + ps, slab_slots_, false};
  if (slab_slots_ < kMaxSlabSlots) slab_slots_ *= 2;
}

Stack StackPool::alloc(std::size_t size) {
  size = round_size(size);
  std::lock_guard<std::mutex> lk(mu_);
  Carve& c = carve_[size];
  if (c.left == 0) new_chunk(size, c);
  Stack s;
  s.size = size;
  s.cls = size;
  s.guarded = c.guarded;
  if (c.guarded) {
    s.lo = c.next + page_size();
    c.next += page_size() + size;
    ++nguarded_;
  } else {
    s.lo = c.next;
    s.size = size - kSlotReserve;
    c.next += size;
    ++nslab_;
  }
  --c.left;
  // Registered once: a stack stays with its G across reuse and is unmapped with the pool.
  if (unsigned id = san::stack_register(s.lo, s.lo + s.size)) vg_ids_.push_back(id);
  return s;
}

void StackPool::release(const Stack& s) {
  // A slab slot's top page also holds the canary of the slot above; it is released too, since
  // zero reads as a valid canary (see stack.hpp).
  std::size_t ps = page_size();
  san::unpoison(s.lo, s.size);
  if (madvise(s.lo, (s.size + ps - 1) / ps * ps, MADV_DONTNEED) != 0) {
    fatal("madvise(MADV_DONTNEED) on a fiber stack failed: %s", std::strerror(errno));
  }
}

// The canary is one aligned word, read with one load: the slot below may be released
// (madvise) concurrently by another M, and a two-word canary could then be read half old, half
// zero. Atomic access through std::atomic_ref keeps that race well-defined.
void StackPool::canary_arm(const Stack& s) {
  if (s.guarded) return;
  std::atomic_ref<std::uint64_t>(*canary_slot(s))
      .store(kCanary ^ reinterpret_cast<std::uintptr_t>(s.lo), std::memory_order_relaxed);
}

bool StackPool::canary_ok(const Stack& s) {
  if (s.guarded) return true;
  std::uint64_t c = std::atomic_ref<std::uint64_t>(*canary_slot(s)).load(std::memory_order_relaxed);
  return c == (kCanary ^ reinterpret_cast<std::uintptr_t>(s.lo)) ||
         c == 0;  // the slot below was released; see stack.hpp
}

std::size_t StackPool::guarded_count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return nguarded_;
}

std::size_t StackPool::slab_count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return nslab_;
}

// ---- the overflow handler ----

namespace {

struct sigaction g_old_segv;
std::once_flag g_handler_once;

char* put_str(char* p, const char* s) {
  while (*s) *p++ = *s++;
  return p;
}

void on_segv(int sig, siginfo_t* si, void* uctx) {
  G* gp = current_g();
  if (gp && gp->stack.guarded) {
    char* a = static_cast<char*>(si->si_addr);
    if (a >= gp->stack.lo - page_size() && a < gp->stack.lo) {
      char buf[160];
      char* p = put_str(buf, "weft: fiber ");
      p = put_u64(p, gp->id);
      p = put_str(p, ": stack overflow (stack size ");
      p = put_u64(p, gp->stack.size);
      p = put_str(p, ")\n");
      ssize_t unused = write(2, buf, std::size_t(p - buf));
      (void)unused;
      signal(SIGABRT, SIG_DFL);
      abort();
    }
  }
  // Not ours: hand it on. With the default action restored, returning re-executes the faulting
  // instruction and the process dies as it would have without weft.
  if (g_old_segv.sa_flags & SA_SIGINFO) {
    if (g_old_segv.sa_sigaction) return g_old_segv.sa_sigaction(sig, si, uctx);
  } else if (g_old_segv.sa_handler != SIG_DFL && g_old_segv.sa_handler != SIG_IGN) {
    return g_old_segv.sa_handler(sig);
  }
  signal(SIGSEGV, SIG_DFL);
}

}  // namespace

void install_overflow_handler() {
  std::call_once(g_handler_once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &g_old_segv) != 0) {
      fatal("cannot install the SIGSEGV handler: %s", std::strerror(errno));
    }
  });
}

}  // namespace weft::detail
