// stack: fiber stacks — mmap'd, lazily committed, guard-paged within the vm.max_map_count budget,
// canary-checked slab stacks beyond it, and the stack-overflow report. (Go: src/runtime/stack.go.)
//
// Two kinds of stack, both carved from chunks mapped with MAP_NORESERVE (only touched pages cost
// memory) and never unmapped while the runtime lives (Gs keep their stacks across reuse):
//
//   guarded  [PROT_NONE guard page][usable stack.............]   one chunk holds 32 of these
//            An overflow faults on the guard page; the SIGSEGV handler, on the M's alternate
//            signal stack, prints "weft: fiber N: stack overflow (stack size S)" and aborts.
//            Each costs two kernel mappings (the guard splits the chunk's mapping).
//
//   slab     [pad page][slot 0][slot 1]...[slot K-1]         one mapping for K slots
//            No guard. The 8 bytes just below each slot's `lo` — the top 64 bytes of the slot
//            beneath, kept out of its usable size, or the pad page for slot 0 — hold a canary, so
//            checking it touches only a page that is resident anyway while the neighbour is in use.
//            It is checked (with the saved stack pointer) at every switch-out. When the neighbour's
//            pages are released (MADV_DONTNEED) the canary reads as zero, which is accepted.
//
// The budget: Linux allows vm.max_map_count mappings per process (65530 by default). Guarded
// stacks may use half of it, process-wide (two runtimes share one address space); after that
// stacks come from slabs and a one-line warning is printed once per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace weft::detail {

struct Stack {
  char* lo = nullptr;    // lowest usable address
  std::size_t size = 0;  // usable bytes: [lo, lo + size); lo is page-aligned
  std::size_t cls = 0;   // the size class it was allocated for (StackPool::round_size)
  bool guarded = false;  // a PROT_NONE page lies just below lo
  char* hi() const { return lo + size; }
};

class StackPool {
 public:
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();  // unmaps every chunk

  void init(bool guard_pages);

  // alloc returns a fresh stack of at least `size` usable bytes (rounded up to pages).
  // Thread-safe. Out of memory is fatal.
  Stack alloc(std::size_t size);

  // round_size is the usable size alloc(size) gives.
  static std::size_t round_size(std::size_t size);

  // release returns a stack's pages to the kernel; the mapping stays and reads as zeros.
  static void release(const Stack& s);

  // canary_arm writes a slab stack's canary (no-op for guarded stacks); canary_ok checks it.
  static void canary_arm(const Stack& s);
  static bool canary_ok(const Stack& s);

  std::size_t guarded_count() const;
  std::size_t slab_count() const;

 private:
  struct Chunk {
    char* base;
    std::size_t len;
  };
  struct Carve {
    char* next = nullptr;  // next slot's base
    std::size_t left = 0;  // slots left in the current chunk
    bool guarded = false;
  };
  void new_chunk(std::size_t size, Carve& c);

  bool guard_pages_ = true;
  mutable std::mutex mu_;  // guards everything below
  std::vector<Chunk> chunks_;
  std::unordered_map<std::size_t, Carve> carve_;  // by usable size
  std::size_t slab_slots_ = 64;                   // grows to 1024 as slabs are needed
  std::size_t nguarded_ = 0, nslab_ = 0;
  long guard_maps_ = 0;           // mappings this pool drew from the process-wide guard budget
  std::vector<unsigned> vg_ids_;  // valgrind's ids of the stacks (only under valgrind)
};

// install_overflow_handler installs the process's SIGSEGV handler once (idempotent). Faults that
// are not on the current fiber's guard page go to the previous handler or the default action.
void install_overflow_handler();

}  // namespace weft::detail
