// time_test: weft::after, Timer, Ticker — the behaviour of Go's time/sleep_test.go and
// tick_test.go (TestAfter, TestAfterStop, TestTimerStopStress, TestReset, TestTicker,
// TestTickerResetLtZeroDuration) at procs = 1, 2, 4.
#include <stdexcept>
#include <vector>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;
using Clock = std::chrono::steady_clock;

TEST_CASE("after: delivers the time once the duration has passed, never early (Go's TestAfter)",
          "[unit][time]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto t0 = Clock::now();
      auto c = after(10ms);
      auto v = c.recv();
      auto t1 = Clock::now();
      REQUIRE(v);
      CHECK(t1 - t0 >= 10ms);
      CHECK(*v - t0 >= 10ms);  // the value is the time it fired
      CHECK(*v <= t1);
      CHECK(c.cap() == 1);
      CHECK_FALSE(c.try_recv());  // exactly one value
      // Zero and negative durations fire at once.
      CHECK(after(0ms).recv());
      CHECK(after(-1s).recv());
    });
  });
}

TEST_CASE("Timer: stop before firing prevents the send (Go's TestAfterStop)", "[unit][time]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Timer t1(1000ms), t2(2000ms);
      CHECK(t1.stop());
      CHECK_FALSE(t1.stop());  // already stopped
      Timer t3(5ms);
      CHECK(t3.c().recv());
      CHECK_FALSE(t3.stop());  // already fired
      sleep_for(20ms);
      CHECK_FALSE(t1.c().try_recv());
      CHECK(t2.stop());
    });
  });
}

TEST_CASE("Timer: reset re-arms with Go's return values (Go's TestReset)", "[unit][time]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    Timer t(1h);
    CHECK(t.reset(5ms));  // was active
    auto t0 = Clock::now();
    CHECK(t.c().recv());
    CHECK(Clock::now() - t0 < 5s);  // the reset, not the original hour (a sanity bound)
    CHECK_FALSE(t.reset(5ms));      // had fired
    CHECK(t.c().recv());
    CHECK(t.stop() == false);
    CHECK_FALSE(t.reset(1h));  // had fired: false, and now active again
    CHECK(t.stop());
  });
}

TEST_CASE("Timer: many timers stopped and started concurrently (Go's TestTimerStopStress)",
          "[unit][time]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> fired_after_stop{0};
    rt.block_on([&] {
      WaitGroup wg;
      const int n = 100;
      wg.add(n);
      for (int i = 0; i < n; ++i) {
        go([&, i] {
          Timer t(std::chrono::milliseconds(50 + i % 10));
          sleep_for(1ms);
          if (t.stop()) {
            sleep_for(60ms);
            if (t.c().try_recv()) ++fired_after_stop;
          }
          wg.done();
        });
      }
      wg.wait();
    });
    CHECK(fired_after_stop.load() == 0);
  });
}

TEST_CASE("Ticker: ticks at its period, drops ticks for a slow reader, stops (Go's TestTicker)",
          "[unit][time]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto t0 = Clock::now();  // before the ticker: its ticks count from its construction
      Ticker tk(5ms);
      for (int i = 0; i < 5; ++i) CHECK(tk.c().recv());
      auto el = Clock::now() - t0;
      CHECK(el >= 25ms);
      CHECK(el < 5s);  // sanity bound only
      // A slow reader: the channel holds one tick, the rest are dropped.
      sleep_for(30ms);
      CHECK(tk.c().len() == 1);
      tk.stop();
      tk.c().try_recv();
      sleep_for(20ms);
      CHECK_FALSE(tk.c().try_recv());
      // reset restarts it with a new period.
      tk.reset(2ms);
      CHECK(tk.c().recv());
      tk.stop();
    });
  });
}

TEST_CASE("Ticker: a non-positive period is an error (Go's TestTickerResetLtZeroDuration)",
          "[unit][time]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    CHECK_THROWS_AS(Ticker(0ms), std::invalid_argument);
    CHECK_THROWS_AS(Ticker(-1s), std::invalid_argument);
    Ticker tk(1h);
    CHECK_THROWS_AS(tk.reset(0s), std::invalid_argument);
  });
}

TEST_CASE("time: timers pending at shutdown release their channels", "[unit][time]") {
  // The channels hold Counted-free time_points, so what is checked is that shutdown completes
  // with timers armed (LeakSanitizer in the ASan build checks nothing is left).
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    for (int i = 0; i < 100; ++i) after(1h);
    static Timer* keep = nullptr;
    (void)keep;
  });
  rt.spawn([] {
    Timer t(1h);
    Ticker tk(1h);
    t.c().recv();  // parked at shutdown; unwinding destroys t and tk
  });
  REQUIRE(weft_test::wait_until_waiting(rt, "chan receive", 1));
  rt.shutdown();
}

TEST_CASE(
    "time: huge and negative durations neither overflow nor fire early (Go's "
    "TestOverflowSleep, TestAfterTick)",
    "[unit][time]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    // A duration that overflows any deadline arithmetic must never fire...
    auto never = after(std::chrono::nanoseconds::max());
    auto never_h = after(std::chrono::hours::max());
    CHECK(select(on_recv(never), on_recv(never_h), on_after(25ms)) == 2);
    // ...and the most negative one fires at once.
    CHECK(select(on_recv(after(std::chrono::nanoseconds::min())), on_after(10s)) == 0);
    // Ten afters in a row: each waits its full duration.
    auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i) after(2ms).recv();
    CHECK(Clock::now() - t0 >= 20ms);
  });
}
