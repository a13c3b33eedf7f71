// lock_futex: the scheduler's mutex — spin briefly, then sleep on a futex. Go's
// src/runtime/lock_futex.go. BasicLockable, so std::lock_guard works with it.
//
// key: 0 unlocked, 1 locked, 2 locked with sleepers (or possibly so). lock() exchanges in 1 and
// owns the lock when the old value was 0; otherwise it spins (a short while, yielding the CPU
// once), then exchanges in 2 and sleeps while the key is 2. unlock() exchanges in 0 and wakes one
// sleeper when the old value was 2. Exchanges are seq_cst: they order the critical sections.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

// procyield spins `cycles` times on the CPU's spin-wait hint (Go's procyield).
inline void procyield(int cycles) {
  for (int i = 0; i < cycles; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
  }
}

// key_lock / key_unlock: the algorithm on a bare key word, for runtime structures whose storage
// lives in public headers (weft::Cond's notify list). Lock wraps them.
void key_lock_slow(std::atomic<std::uint32_t>* key, std::uint32_t v);
void key_wake(std::atomic<std::uint32_t>* key);
inline void key_lock(std::atomic<std::uint32_t>* key) {
  std::uint32_t v = key->exchange(1);
  if (v != 0) key_lock_slow(key, v);
}
inline void key_unlock(std::atomic<std::uint32_t>* key) {
  if (key->exchange(0) == 2) key_wake(key);
}

class Lock {
 public:
  void lock() { key_lock(&key_); }
  void unlock() { key_unlock(&key_); }
  bool try_lock() {
    std::uint32_t z = 0;
    return key_.compare_exchange_strong(z, 1);
  }

 private:
  std::atomic<std::uint32_t> key_{0};
};

}  // namespace weft::detail
