// sanitizer: what AddressSanitizer, ThreadSanitizer and valgrind must be told about stacks and
// stack switches. Everything here compiles to nothing in builds without them (valgrind's client
// requests are a few no-op instructions when the program does not run under valgrind).
//
// Every switch is bracketed: the side leaving calls leave() just before the jump, naming the
// stack (ASan) and the fiber (TSan) it goes to, and saving its own ASan fake-stack pointer; the
// side arriving calls arrive() as the first thing on the new stack. Arrival points: a G resumed
// by gogo (ctx_jump) arrives where it was suspended (mcall, yield) or in fiber_entry; g0 arrives
// in mcall_switch; a G resumed by a commit (yield_commit, unwind_ontop) arrives in that commit,
// which sets M::arrived so the code at the suspension point does not arrive a second time.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
// valgrind: <valgrind/valgrind.h> (Debian package valgrind) when the build machine has it.
#if __has_include(<valgrind/valgrind.h>)
#define WEFT_VALGRIND 1
#include <valgrind/valgrind.h>
#endif

namespace weft::detail::san {

// leave: about to switch to the stack [bottom, bottom + size) of TSan fiber `fiber`, owned by
// the heap object `owner` (the G, or the M for g0). fake_save receives this context's ASan fake
// stack (null when this context will never run again).
//
// TSan: the switch must order everything before it on this fiber before everything after it on
// the next (the scheduler's acquire of a queued G happens on g0, the G's code runs on its own
// fiber). __tsan_switch_to_fiber(f, 0) would do that by a release and an acquire keyed on the
// address of TSan's own fiber object; __tsan_destroy_fiber frees that object without clearing
// the sync metadata at its address, and TSan's internal allocator reuses such addresses, so the
// sync objects of destroyed fibers outlive them. The edge is keyed on `owner` instead, whose
// allocation and free TSan intercepts (a delete frees its sync objects), and the switch itself
// is told not to synchronize: the same happens-before edges, on memory with a tracked lifetime.
inline void leave(void** fake_save, const void* bottom, std::size_t size, void* fiber,
                  const void* owner) {
#ifdef WEFT_ASAN
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
  (void)fake_save, (void)bottom, (void)size;
#endif
#ifdef WEFT_TSAN
  __tsan_release(const_cast<void*>(owner));
  __tsan_switch_to_fiber(fiber, __tsan_switch_to_fiber_no_sync);
  __tsan_acquire(const_cast<void*>(owner));  // now on `fiber`
#else
  (void)fiber, (void)owner;
#endif
}

// arrive: first thing on the new stack; fake is what this context's last leave() saved.
inline void arrive(void* fake) {
#ifdef WEFT_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  (void)fake;
#endif
}

inline void* fiber_create() {
#ifdef WEFT_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}

inline void fiber_destroy(void* f) {
#ifdef WEFT_TSAN
  if (f) __tsan_destroy_fiber(f);
#else
  (void)f;
#endif
}

inline void* fiber_current() {
#ifdef WEFT_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}

// unpoison clears ASan's shadow for [p, p + n): a stack whose last fiber died with frames
// outstanding (goexit abandons them), or that is being unmapped, must not hand stale redzones to
// the next user of that memory.
inline void unpoison(const void* p, std::size_t n) {
#ifdef WEFT_ASAN
  __asan_unpoison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}

// stack_register tells valgrind that [lo, hi) is a stack (VALGRIND_STACK_REGISTER), so that a
// switch onto it is seen as a change of stack, not a huge stack-pointer move whose frames would
// be marked undefined. Returns valgrind's id for it; 0 when not running under valgrind (or
// built without its header). Valgrind needs no notice of the switches themselves.
inline unsigned stack_register(const void* lo, const void* hi) {
#ifdef WEFT_VALGRIND
  return VALGRIND_STACK_REGISTER(lo, hi);
#else
  (void)lo, (void)hi;
  return 0;
#endif
}

// stack_deregister forgets a stack registered with stack_register (id 0: nothing to do).
inline void stack_deregister(unsigned id) {
#ifdef WEFT_VALGRIND
  if (id != 0) VALGRIND_STACK_DEREGISTER(id);
#else
  (void)id;
#endif
}

}  // namespace weft::detail::san
