// bench: what the weft benchmark programs share — common.hpp (flags, the result line, RSS)
// and a latch on the runtime's park slots.
#pragma once

#include <atomic>
#include <cstdint>

#include <weft/weft.hpp>

#include "common.hpp"
#include "parkslot.hpp"

namespace bench {

// main_pass is the whole main() of a program that times pass(n) (a warm-up at n / 10 first) in
// a weft::run with -procs Ps and reports it as `name` in `unit`.
template <class Pass>
int main_pass(int argc, char** argv, long default_n, const char* name, const char* unit,
              Pass pass) {
  Flags f = parse(argc, argv, default_n);
  return weft::run(
      [&] {
        pass(f.n / 10);
        report(name, pass(f.n), unit);
      },
      weft::Config{.procs = f.procs});
}

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
