// chan_stress: channels, select, timers and sync under load at procs = 1, 2, 4 (and, through the
// migrate suite, with every park resuming on another thread). Each checks a conservation law:
// every value sent is received exactly once, counters protected by locks add up.
#include <numeric>
#include <shared_mutex>
#include <vector>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;
using weft_test::stress_scale;

TEST_CASE("stress: a 2,000-fiber chain of unbuffered channels, many rounds", "[stress][chan]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const int n = int(std::max(10L, 2000 / stress_scale()));
    const int rounds = 100;
    long total = rt.block_on([&] {
      Chan<long> first(0);
      Chan<long> in = first;
      for (int i = 0; i < n; ++i) {
        Chan<long> out(0);
        go([in, out] {
          while (auto v = in.recv()) out.send(*v + 1);
          out.close();
        });
        in = out;
      }
      go([first, rounds] {
        for (int r = 0; r < rounds; ++r) first.send(r);
        first.close();
      });
      long sum = 0;
      while (auto v = in.recv()) sum += *v;
      return sum;
    });
    long expect = 0;
    for (int r = 0; r < rounds; ++r) expect += r + n;
    CHECK(total == expect);
  });
}

TEST_CASE("stress: producers and consumers over buffered channels with select, timeouts and close",
          "[stress][chan]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const long per = std::max(50L, 20000 / stress_scale());
    const int producers = 8, consumers = 8;
    struct Totals {
      long sent = 0, received = 0, count = 0;
    };
    Totals t = rt.block_on([&] {
      Chan<long> a(16), b(0);
      Chan<long> sums(consumers), counts(consumers);
      WaitGroup prod;
      prod.add(producers);
      std::atomic<long> sent{0};
      for (int p = 0; p < producers; ++p) {
        go([=, &prod, &sent] {
          long s = 0;
          for (long i = 1; i <= per; ++i) {
            long v = p * per + i;
            // Whichever channel has room or a receiver; retry after a short timeout.
            while (select(on_send(a, v), on_send(b, v), on_after(1ms)) == 2) {
            }
            s += v;
          }
          sent += s;
          prod.done();
        });
      }
      for (int c = 0; c < consumers; ++c) {
        go([=] {
          long s = 0, n = 0;
          bool a_open = true, b_open = true;
          Chan<long> ca = a, cb = b;
          while (a_open || b_open) {
            select(on_recv(ca,
                           [&](std::optional<long> v) {
                             if (v) {
                               s += *v;
                               ++n;
                             } else {
                               a_open = false;
                               ca = Chan<long>();  // nil: never ready again
                             }
                           }),
                   on_recv(cb, [&](std::optional<long> v) {
                     if (v) {
                       s += *v;
                       ++n;
                     } else {
                       b_open = false;
                       cb = Chan<long>();
                     }
                   }));
          }
          sums.send(s);
          counts.send(n);
        });
      }
      prod.wait();
      a.close();
      b.close();
      Totals r;
      r.sent = sent.load();
      for (int c = 0; c < consumers; ++c) {
        r.received += *sums.recv();
        r.count += *counts.recv();
      }
      return r;
    });
    CHECK(t.count == producers * per);
    CHECK(t.received == t.sent);
  });
}

TEST_CASE("stress: Mutex, RWMutex and Cond under contention", "[stress][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const int iters = int(std::max(100L, 20000 / stress_scale()));
    struct Out {
      long counter, items, consumed;
    };
    Out out = rt.block_on([&] {
      Mutex m;
      long counter = 0;
      RWMutex rw;
      long guarded = 0;
      std::atomic<long> bad{0};
      // A bounded queue on Mutex + two Conds (the textbook pattern).
      Mutex qm;
      Cond not_empty, not_full;
      std::vector<int> q;
      long items = 0, consumed = 0;
      WaitGroup wg;
      const int workers = 8;
      wg.add(workers * 3);
      for (int w = 0; w < workers; ++w) {
        go([&] {
          for (int i = 0; i < iters; ++i) {
            std::lock_guard<Mutex> g(m);
            ++counter;
          }
          wg.done();
        });
        go([&, w] {
          for (int i = 0; i < iters / 4; ++i) {
            if ((i + w) % 8 == 0) {
              std::lock_guard<RWMutex> g(rw);
              guarded += 2;
            } else {
              std::shared_lock<RWMutex> g(rw);
              if (guarded % 2 != 0) ++bad;
            }
          }
          wg.done();
        });
        go([&, w] {
          for (int i = 0; i < iters / 4; ++i) {
            std::unique_lock<Mutex> lk(qm);
            if (w % 2 == 0) {
              not_full.wait(lk, [&] { return q.size() < 4; });
              q.push_back(i);
              ++items;
              not_empty.signal();
            } else {
              not_empty.wait(lk, [&] { return !q.empty(); });
              q.pop_back();
              ++consumed;
              not_full.signal();
            }
          }
          wg.done();
        });
      }
      wg.wait();
      CHECK(bad.load() == 0);
      return Out{counter, items, consumed};
    });
    CHECK(out.counter == 8L * iters);
    CHECK(out.items == out.consumed);
  });
}

TEST_CASE("stress: timers and tickers started and stopped by many fibers", "[stress][time]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    const int fibers = int(std::max(10L, 500 / stress_scale()));
    long fired = rt.block_on([&] {
      std::atomic<long> got{0};
      WaitGroup wg;
      wg.add(fibers);
      for (int f = 0; f < fibers; ++f) {
        go([&, f] {
          Timer t(std::chrono::microseconds(50 * (f % 20)));
          Ticker tk(200us);
          for (int i = 0; i < 3; ++i) tk.c().recv();
          if (f % 2 == 0) t.stop();
          auto [ctx, cancel] = with_timeout(background(), std::chrono::microseconds(100 * (f % 7)));
          ctx.done().recv();
          cancel();
          got += 1;
          wg.done();
        });
      }
      wg.wait();
      return got.load();
    });
    CHECK(fired == fibers);
  });
}
