// select_test: weft::select — Go's runtime/chan_test.go select tests (TestNonblockSelectRace 1
// and 2, TestSelfSelect, TestSelectStress, TestSelectFairness, TestSelectDuplicateChannel) and
// the timeout and default cases.
#include <cmath>
#include <thread>
#include <vector>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;

using weft_test::rounds;

TEST_CASE("select: picks a ready case, runs its callback, returns its position", "[unit][select]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Chan<int> a(1), b(1);
    b.send(5);
    int got = 0;
    int which = select(on_recv(a, [&](std::optional<int> v) { got = *v; }),
                       on_recv(b, [&](std::optional<int> v) { got = *v * 10; }));
    CHECK(which == 1);
    CHECK(got == 50);
    // A send case with room proceeds.
    bool sent = false;
    which = select(on_recv(a), on_send(b, 6, [&] { sent = true; }));
    CHECK(which == 1);
    CHECK(sent);
    CHECK(b.recv() == 6);
    // Closed channel: its receive case is ready with nullopt.
    a.close();
    std::optional<int> v{1};
    which = select(on_recv(a, [&](std::optional<int> x) { v = x; }), on_recv(b));
    CHECK(which == 0);
    CHECK_FALSE(v);
    // A send case on a closed channel throws when chosen.
    CHECK_THROWS_AS(select(on_send(a, 1)), closed_channel);
  });
}

TEST_CASE("select: default runs when nothing is ready; on_after times out", "[unit][select]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Chan<int> a(0);
    bool dflt = false;
    CHECK(select(on_recv(a), on_default([&] { dflt = true; })) == 1);
    CHECK(dflt);
    auto t0 = std::chrono::steady_clock::now();
    bool timed_out = false;
    CHECK(select(on_recv(a), on_after(20ms, [&] { timed_out = true; })) == 1);
    CHECK(timed_out);
    CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);  // never early
    // on_after alone is a sleep; a non-positive duration is ready at once.
    CHECK(select(on_after(0ms)) == 0);
    CHECK(select(on_after(-5s), on_recv(a)) == 0);
    // A ready channel beats a distant timeout, and the timer is gone afterwards.
    Chan<int> b(1);
    b.send(1);
    CHECK(select(on_after(1h), on_recv(b)) == 1);
  });
}

TEST_CASE("select: a blocked select is woken by a sender, a receiver, a close or its timeout",
          "[unit][select]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([&rt] {
      for (int how = 0; how < 4; ++how) {
        Chan<int> a(0), b(0);
        Chan<int> out(1);
        std::chrono::milliseconds wait = how == 3 ? 5ms : std::chrono::milliseconds(1h);
        go([a, b, out, wait]() mutable {
          int r = -1;
          int which = select(on_recv(a, [&](std::optional<int> v) { r = v ? *v : -2; }),
                             on_send(b, 9), on_after(wait, [&] { r = -3; }));
          out.send(which * 100 + r);
        });
        if (how != 3) REQUIRE(weft_test::wait_until_waiting(rt, "select", 1));
        switch (how) {
          case 0:
            a.send(4);
            CHECK(out.recv() == 4);
            break;
          case 1:
            CHECK(b.recv() == 9);
            CHECK(out.recv() == 100 - 1);
            break;
          case 2:
            a.close();
            CHECK(out.recv() == -2);
            break;
          case 3:
            CHECK(out.recv() == 200 - 3);  // nobody came: timeout
            break;
        }
      }
    });
  });
}

TEST_CASE(
    "select: nonblocking select racing a send or close finds the ready channel (Go's "
    "TestNonblockSelectRace 1 and 2)",
    "[unit][select]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> failures{0};
    rt.block_on([&] {
      for (int variant = 0; variant < 2; ++variant) {
        for (int i = 0; i < rounds(1000); ++i) {
          Chan<int> c1(1), c2(1);
          c1.send(1);
          Chan<bool> done(1);
          go([=]() mutable {
            bool ok = true;
            select(on_recv(c1), on_recv(c2), on_default([&] { ok = false; }));
            done.send(ok);
          });
          if (variant == 0) {
            c2.send(1);
          } else {
            c2.close();
          }
          select(on_recv(c1), on_recv(c2));
          if (!*done.recv()) ++failures;
        }
      }
    });
    CHECK(failures.load() == 0);
  });
}

TEST_CASE(
    "select: sending and receiving on one channel in one select never meets itself (Go's "
    "TestSelfSelect)",
    "[unit][select]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> self_receives{0};
    rt.block_on([&] {
      for (int cap : {0, 10}) {
        Chan<int> c(static_cast<std::size_t>(cap));
        WaitGroup wg;
        wg.add(2);
        for (int p = 0; p < 2; ++p) {
          go([&, c, p, cap]() mutable {
            for (int i = 0; i < rounds(1000); ++i) {
              auto check = [&](std::optional<int> v) {
                if (cap == 0 && v && *v == p) ++self_receives;
              };
              if (p == 0 || i % 2 == 0) {
                select(on_send(c, p), on_recv(c, check));
              } else {
                select(on_recv(c, check), on_send(c, p));
              }
            }
            wg.done();
          });
        }
        wg.wait();
      }
    });
    CHECK(self_receives.load() == 0);
  });
}

TEST_CASE("select: stress with buffered and unbuffered channels (Go's TestSelectStress)",
          "[unit][select]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<long> received{0};
    const int N = rounds(10000);
    rt.block_on([&] {
      Chan<int> c[4] = {Chan<int>(0), Chan<int>(0), Chan<int>(2), Chan<int>(3)};
      WaitGroup wg;
      wg.add(10);
      // 4 plain senders, one per channel.
      for (int k = 0; k < 4; ++k) {
        go([&, ch = c[k]]() mutable {
          for (int i = 0; i < N; ++i) ch.send(i);
          wg.done();
        });
      }
      // 4 plain receivers, one per channel.
      for (int k = 0; k < 4; ++k) {
        go([&, ch = c[k]]() mutable {
          for (int i = 0; i < N; ++i) {
            ch.recv();
            ++received;
          }
          wg.done();
        });
      }
      // One select sender: N values into each channel, dropping a channel (nil) once done.
      go([&] {
        Chan<int> cs[4] = {c[0], c[1], c[2], c[3]};
        int n[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4 * N; ++i) {
          int k =
              select(on_send(cs[3], 0), on_send(cs[2], 0), on_send(cs[0], 0), on_send(cs[1], 0));
          int idx = k == 0 ? 3 : k == 1 ? 2 : k == 2 ? 0 : 1;
          if (++n[idx] == N) cs[idx] = Chan<int>();
        }
        wg.done();
      });
      // One select receiver.
      go([&] {
        Chan<int> cs[4] = {c[0], c[1], c[2], c[3]};
        int n[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4 * N; ++i) {
          int k = select(on_recv(cs[0]), on_recv(cs[3]), on_recv(cs[1]), on_recv(cs[2]));
          int idx = k == 0 ? 0 : k == 1 ? 3 : k == 2 ? 1 : 2;
          ++received;
          if (++n[idx] == N) cs[idx] = Chan<int>();
        }
        wg.done();
      });
      wg.wait();
    });
    CHECK(received.load() == 8L * N);
  });
}

TEST_CASE("select: ready cases are chosen uniformly (Go's TestSelectFairness, six nines bound)",
          "[unit][select]") {
  Runtime rt(Config{.procs = 2});
  int cnt1 = 0, cnt2 = 0;
  constexpr int trials = 10000;
  rt.block_on([&] {
    Chan<char> c1(trials + 1), c2(trials + 1);
    for (int i = 0; i < trials + 1; ++i) {
      c1.send(1);
      c2.send(2);
    }
    Chan<char> c3(0), c4(0), out(0), done(0);
    WaitGroup wg;
    wg.add(1);
    go([&] {
      for (;;) {
        char b = 0;
        auto take = [&](std::optional<char> v) { b = *v; };
        select(on_recv(c3, take), on_recv(c4, take), on_recv(c1, take), on_recv(c2, take));
        if (select(on_send(out, b), on_recv(done)) == 1) break;
      }
      wg.done();
    });
    for (int i = 0; i < trials; ++i) {
      char b = *out.recv();
      if (b == 1) ++cnt1;
      if (b == 2) ++cnt2;
    }
    done.close();
    wg.wait();
  });
  double r = double(cnt1) / trials;
  double e = std::abs(r - 0.5);
  INFO("cnt1=" << cnt1 << " cnt2=" << cnt2);
  CHECK(cnt1 + cnt2 == trials);
  CHECK(e <= 4.891676 / (2 * std::sqrt(double(trials))));
}

TEST_CASE("select: the same channel in several cases (Go's TestSelectDuplicateChannel)",
          "[unit][select]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([&rt] {
      Chan<int> c(0), d(0), e(0);
      go([=]() mutable {
        select(on_recv(c), on_recv(c), on_recv(d));
        e.send(9);
      });
      REQUIRE(weft_test::wait_until_waiting(rt, "select", 1));
      go([=]() mutable { c.recv(); });
      REQUIRE(weft_test::wait_until_waiting(rt, "chan receive", 1));
      d.send(7);
      CHECK(e.recv() == 9);
      c.send(8);  // the plain receiver, not the finished select, takes it
    });
  });
}

TEST_CASE("select: many cases (beyond the inline sudogs) and a select timeout per fiber",
          "[unit][select]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      std::vector<Chan<int>> cs;
      for (int i = 0; i < 12; ++i) cs.emplace_back(0);
      Chan<int> out(1);
      go([=]() mutable {
        int r = select(on_recv(cs[0]), on_recv(cs[1]), on_recv(cs[2]), on_recv(cs[3]),
                       on_recv(cs[4]), on_recv(cs[5]), on_recv(cs[6]), on_recv(cs[7]),
                       on_recv(cs[8]), on_recv(cs[9]), on_recv(cs[10]), on_recv(cs[11]));
        out.send(r);
      });
      cs[10].send(1);
      CHECK(out.recv() == 10);
      // 200 fibers each wait in a select with a short timeout: every one times out.
      Chan<int> res(200);
      Chan<int> never(0);
      for (int i = 0; i < 200; ++i)
        go([=]() mutable { res.send(select(on_recv(never), on_after(1ms + 10us * i))); });
      int timeouts = 0;
      for (int i = 0; i < 200; ++i) timeouts += *res.recv() == 1;
      CHECK(timeouts == 200);
    });
  });
}
