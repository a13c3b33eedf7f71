// ctx_fenv_x86_64_test: on x86-64 a fiber's floating-point control state (MXCSR rounding
// and x87 control word, callee-saved in the SysV ABI) is its own across switches and threads.
// Built on x86-64 only: AArch64's FPCR is global state in AAPCS64 and no backend saves it.
#include <cfenv>
#include <xmmintrin.h>

#include "../support.hpp"

using namespace weft;
using weft_test::each_procs;
using weft_test::Latch;

namespace {

// Quotients computed afresh from volatile operands, so the current rounding mode decides them.
struct Quotients {
  double sse;
  long double x87;
  bool operator==(const Quotients&) const = default;
};

Quotients divide() {
  volatile double one = 1, three = 3;
  volatile long double lone = 1, lthree = 3;
  return {one / three, lone / lthree};
}

}  // namespace

TEST_CASE("a fiber's rounding mode is its own across switches and threads (x86-64)",
          "[unit][ctx]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> bad{0};
    rt.block_on([&] {
      constexpr int kModes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
      constexpr unsigned kSse[] = {_MM_ROUND_NEAREST, _MM_ROUND_UP, _MM_ROUND_DOWN,
                                   _MM_ROUND_TOWARD_ZERO};
      constexpr int kFibers = 8;
      Latch l(kFibers);
      for (int f = 0; f < kFibers; ++f) {
        go([&, f] {
          int mode = kModes[f % 4];
          std::fesetround(mode);  // glibc sets both the x87 control word and MXCSR
          Quotients want = divide();
          for (int i = 0; i < 200; ++i) {
            yield();  // the others, in other modes, run meanwhile, maybe on this thread
            if (std::fegetround() != mode) ++bad;  // the x87 control word
            if (_MM_GET_ROUNDING_MODE() != kSse[f % 4]) ++bad;
            if (!(divide() == want)) ++bad;
          }
          l.count_down();
        });
      }
      l.wait();
      if (std::fegetround() != FE_TONEAREST) ++bad;  // the waiting fiber's own, untouched
    });
    CHECK(bad.load() == 0);
    CHECK(std::fegetround() == FE_TONEAREST);  // the test thread's
  });
  // The four modes really give four different quotients (else the check above proves little).
  std::fesetround(FE_UPWARD);
  Quotients up = divide();
  std::fesetround(FE_DOWNWARD);
  Quotients down = divide();
  std::fesetround(FE_TONEAREST);
  CHECK(up.sse != down.sse);
  CHECK(up.x87 != down.x87);
}
