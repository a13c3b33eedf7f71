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

class Lock {
 public:
  void lock() {
    std::uint32_t v = key_.exchange(1);
    if (v == 0) return;
    lock_slow(v);
  }
  void unlock() {
    if (key_.exchange(0) == 2) wake();
  }
  bool try_lock() {
    std::uint32_t z = 0;
    return key_.compare_exchange_strong(z, 1);
  }

 private:
  void lock_slow(std::uint32_t v);
  void wake();
  std::atomic<std::uint32_t> key_{0};
};

}  // namespace weft::detail
