// bench: what the weft benchmark programs share — common.hpp (flags, the result line, RSS)
// and a latch on the runtime's park slots.
#pragma once

#include <atomic>
#include <cstdint>

#include <weft/weft.hpp>

#include "common.hpp"
#include "parkslot.hpp"

namespace bench {

// Latch: Go's WaitGroup as these programs use it (one waiter). wait() consumes the final
// done()'s signal, so the Latch may die as soon as wait() returns.
class Latch {
 public:
  explicit Latch(std::int64_t n) : n_(n), armed_(n > 0) {}
  void done() {
    if (n_.fetch_sub(1, std::memory_order_acq_rel) == 1) weft::detail::parkslot_signal(&slot_);
  }
  void wait() {
    if (armed_) weft::detail::parkslot_wait(&slot_);
  }

 private:
  std::atomic<std::int64_t> n_;
  bool armed_;
  weft::detail::ParkSlot slot_;
};

}  // namespace bench
