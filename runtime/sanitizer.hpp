// sanitizer: what AddressSanitizer and ThreadSanitizer must be told about stack switches.
// Everything here compiles to nothing in builds without them.
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

namespace weft::detail::san {

// leave: about to switch to the stack [bottom, bottom + size) of TSan fiber `fiber`. fake_save
// receives this context's ASan fake stack (null when this context will never run again).
inline void leave(void** fake_save, const void* bottom, std::size_t size, void* fiber) {
#ifdef WEFT_ASAN
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
  (void)fake_save, (void)bottom, (void)size;
#endif
#ifdef WEFT_TSAN
  __tsan_switch_to_fiber(fiber, 0);
#else
  (void)fiber;
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

}  // namespace weft::detail::san
