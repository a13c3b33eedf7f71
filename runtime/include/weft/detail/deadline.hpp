// detail/deadline: std::chrono durations and time points turned into the runtime's clock
// (nanotime(): CLOCK_MONOTONIC nanoseconds, the clock of std::chrono::steady_clock on Linux).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <weft/detail/spawn.hpp>

namespace weft::detail {

// deadline_after_ns is now + d on the runtime's clock, saturating instead of overflowing and
// rounded up, so that a wait until it never ends early. d <= 0 gives now.
template <class Rep, class Period>
std::int64_t deadline_after_ns(std::chrono::duration<Rep, Period> d) {
  using namespace std::chrono;
  std::int64_t now = steady_now_ns();
  if (d <= d.zero()) return now;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  // Compare in floating point so that durations::max() of any unit cannot overflow.
  double ns = duration<double, std::nano>(d).count();
  std::int64_t when = ns >= double(kMax - now) ? kMax : now + std::int64_t(ns);
  if (when < kMax && nanoseconds(when - now) < d) ++when;
  return when;
}

// deadline_at_ns is tp on the runtime's clock (steady_clock time points directly, other clocks
// through their distance from now). Saturating; never earlier than tp.
template <class Clock, class Duration>
std::int64_t deadline_at_ns(std::chrono::time_point<Clock, Duration> tp) {
  using namespace std::chrono;
  if constexpr (std::is_same_v<Clock, steady_clock>) {
    auto since = tp.time_since_epoch();
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    double ns = duration<double, std::nano>(since).count();
    std::int64_t when = ns >= double(kMax) ? kMax : ns <= 0 ? 0 : std::int64_t(ns);
    if (when < kMax && when > 0 && nanoseconds(when) < since) ++when;
    return when;
  } else {
    return deadline_after_ns(tp - Clock::now());
  }
}

}  // namespace weft::detail
