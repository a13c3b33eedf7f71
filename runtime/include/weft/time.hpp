// time: Go's time.After, time.Timer and time.Ticker for fibers, delivering on channels.
// Implemented in runtime/time.cpp on the runtime's per-P timers (Go's time/sleep.go, tick.go).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>

#include <weft/chan.hpp>
#include <weft/detail/deadline.hpp>

namespace weft {

// time_point: the instants timers deliver and deadlines take (std::chrono::steady_clock).
using time_point = std::chrono::steady_clock::time_point;

namespace detail {
struct TimerState;
// timer_start arms a timer sending the time on c (Hchan of time_point, capacity 1) without
// blocking at `when` and, if period > 0, every period ns after. Needs a fiber (its runtime).
TimerState* timer_start(Hchan* c, std::int64_t when, std::int64_t period);
// timer_after is timer_start for a timer nobody can stop: it frees itself once it has fired.
void timer_after(Hchan* c, std::int64_t when);
bool timer_stop(TimerState* t);
bool timer_reset(TimerState* t, std::int64_t when, std::int64_t period);
void timer_free(TimerState* t) noexcept;
}  // namespace detail

// after returns a channel that receives the time once d has passed (Go's time.After). The timer
// cannot be stopped; use Timer for one that can. Call it on a fiber (outside one it is a fatal
// error): the timer runs on that fiber's runtime.
template <class Rep, class Period>
Chan<time_point> after(std::chrono::duration<Rep, Period> d) {
  Chan<time_point> ch(1);
  detail::timer_after(ch.hchan(), detail::deadline_after_ns(d));
  return ch;
}

// Timer sends the time on c() once, when it expires (Go's time.Timer). Its channel has room for
// one value, and the timer never blocks on it. Go 1.19's semantics: stop() and reset() do not
// drain a value already sent, so reset a timer only after draining c() or after it was stopped
// before firing. Must not outlive its runtime; create it in a fiber.
class Timer {
 public:
  // Timer(d) starts a timer that fires once d has passed (Go's time.NewTimer).
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> d) : ch_(1) {
    t_ = detail::timer_start(ch_.hchan(), detail::deadline_after_ns(d), 0);
  }
  ~Timer() { detail::timer_free(t_); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // c: the channel the time is sent on.
  const Chan<time_point>& c() const noexcept { return ch_; }
  // stop prevents the timer from firing: true if it did, false if it had already expired or
  // been stopped.
  bool stop() { return detail::timer_stop(t_); }
  // reset re-arms the timer to expire after d: true if it had been active (not yet expired).
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return detail::timer_reset(t_, detail::deadline_after_ns(d), 0);
  }

 private:
  Chan<time_point> ch_;
  detail::TimerState* t_ = nullptr;
};

// Ticker sends the time on c() every period (Go's time.Ticker); a slow reader loses ticks
// instead of piling them up (the channel holds one). A non-positive period throws
// std::invalid_argument (Go panics). Must not outlive its runtime; create it in a fiber.
class Ticker {
 public:
  // Ticker(period) starts ticking: the first tick after one period (Go's time.NewTicker).
  template <class Rep, class Period>
  explicit Ticker(std::chrono::duration<Rep, Period> period) : ch_(1) {
    std::int64_t p = check(period, "weft::Ticker: non-positive interval");
    t_ = detail::timer_start(ch_.hchan(), detail::deadline_after_ns(period), p);
  }
  ~Ticker() { detail::timer_free(t_); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // c: the channel the ticks are sent on.
  const Chan<time_point>& c() const noexcept { return ch_; }
  // stop turns the ticker off; no more ticks are sent (one may already be in the channel).
  void stop() { detail::timer_stop(t_); }
  // reset stops the ticker and restarts it with a new period.
  template <class Rep, class Period>
  void reset(std::chrono::duration<Rep, Period> period) {
    std::int64_t p = check(period, "weft::Ticker::reset: non-positive interval");
    detail::timer_reset(t_, detail::deadline_after_ns(period), p);
  }

 private:
  template <class Rep, class Period>
  static std::int64_t check(std::chrono::duration<Rep, Period> d, const char* what) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    if (ns <= 0) throw std::invalid_argument(what);
    return ns;
  }
  Chan<time_point> ch_;
  detail::TimerState* t_ = nullptr;
};

}  // namespace weft
