// lock_futex: the scheduler's spin-then-futex mutex. Go's src/runtime/lock_futex.go.
#include "lock_futex.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {

namespace {

constexpr int kActiveSpin = 4;      // Go's active_spin
constexpr int kActiveSpinCnt = 30;  // Go's active_spin_cnt (procyield iterations)

}  // namespace

void key_lock_slow(std::atomic<std::uint32_t>* key, std::uint32_t v) {
  // v is what we swapped out: 1 or 2. If 2, we must keep 2 in the key when we take the lock, so
  // that our unlock wakes the other sleepers.
  std::uint32_t wait = v;
  for (;;) {
    for (int i = 0; i < kActiveSpin; ++i) {
      while (key->load(std::memory_order_relaxed) == 0) {
        std::uint32_t z = 0;
        if (key->compare_exchange_weak(z, wait)) return;
      }
      procyield(kActiveSpinCnt);
    }
    while (key->load(std::memory_order_relaxed) == 0) {
      std::uint32_t z = 0;
      if (key->compare_exchange_weak(z, wait)) return;
    }
    sched_yield();
    if (key->exchange(2) == 0) return;
    wait = 2;
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(key), FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2,
            nullptr, nullptr, 0);
  }
}

void key_wake(std::atomic<std::uint32_t>* key) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(key), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1,
          nullptr, nullptr, 0);
}

}  // namespace weft::detail
