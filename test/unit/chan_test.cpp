// chan_test: weft::Chan — the behaviour of Go's runtime/chan_test.go (TestChan over capacities,
// TestNonblockRecvRace, close/nil rules), element lifetimes, foreign threads and shutdown.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;

namespace {

// settle lets every other runnable fiber run until it parks (procs = 1: deterministic).
void settle() {
  for (int i = 0; i < 20; ++i) yield();
}

// Counted tracks live instances, to prove channels destroy exactly what they hold.
struct Counted {
  static inline std::atomic<int> live{0};
  int v;
  explicit Counted(int x) : v(x) { ++live; }
  Counted(Counted&& o) noexcept : v(o.v) { ++live; }
  Counted(const Counted&) = delete;
  ~Counted() { --live; }
};

}  // namespace

TEST_CASE("chan: Go's TestChan over capacities 0..199", "[unit][chan]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    constexpr int N = 200;
    for (int cap = 0; cap < N; ++cap) {
      INFO("cap " << cap);
      {
        // A receive from an empty channel blocks.
        Chan<int> c{std::size_t(cap)};
        std::atomic<bool> recv{false};
        WaitGroup wg;
        wg.add(1);
        go([&] {
          c.recv();
          recv = true;
          wg.done();
        });
        settle();
        REQUIRE_FALSE(recv.load());
        c.send(0);
        wg.wait();
        REQUIRE(recv.load());
      }
      {
        // A non-blocking receive does not block.
        Chan<int> c{std::size_t(cap)};
        REQUIRE_FALSE(c.try_recv());
        REQUIRE(c.try_recv_status().first == Chan<int>::RecvStatus::empty);
      }
      {
        // A send to a full channel blocks.
        Chan<int> c{std::size_t(cap)};
        for (int i = 0; i < cap; ++i) c.send(i);
        REQUIRE(c.len() == std::size_t(cap));
        std::atomic<bool> sent{false};
        WaitGroup wg;
        wg.add(1);
        go([&] {
          c.send(0);
          sent = true;
          wg.done();
        });
        settle();
        REQUIRE_FALSE(sent.load());
        REQUIRE(c.recv() == 0);
        wg.wait();
        REQUIRE(sent.load());
      }
      {
        // A non-blocking send to a full channel fails and keeps the value.
        Chan<std::string> c{std::size_t(cap)};
        for (int i = 0; i < cap; ++i) REQUIRE(c.try_send(std::string("x")));
        std::string v = "kept";
        REQUIRE_FALSE(c.try_send(std::move(v)));
        REQUIRE(v == "kept");
      }
      {
        // A closed channel yields its buffered values in order, then nothing, forever.
        Chan<int> c{std::size_t(cap)};
        for (int i = 0; i < cap; ++i) c.send(i);
        c.close();
        for (int i = 0; i < cap; ++i) REQUIRE(c.recv() == i);
        REQUIRE_FALSE(c.recv());
        REQUIRE_FALSE(c.recv());
        REQUIRE(c.try_recv_status().first == Chan<int>::RecvStatus::closed);
      }
      {
        // Close unblocks a receiver.
        Chan<int> c{std::size_t(cap)};
        std::optional<int> got{42};
        WaitGroup wg;
        wg.add(1);
        go([&] {
          got = c.recv();
          wg.done();
        });
        settle();
        c.close();
        wg.wait();
        REQUIRE_FALSE(got);
      }
      {
        // 100 values arrive intact and in order.
        Chan<int> c{std::size_t(cap)};
        go([&] {
          for (int i = 0; i < 100; ++i) c.send(i);
        });
        for (int i = 0; i < 100; ++i) REQUIRE(c.recv() == i);
        REQUIRE(c.len() == 0);
        REQUIRE(c.cap() == std::size_t(cap));
      }
    }
  });
}

TEST_CASE("chan: 4 senders, 4 receivers, every value received once (Go's TestChan part 4)",
          "[unit][chan]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      for (int cap : {0, 1, 7, 100}) {
        constexpr int P = 4, L = 1000;
        Chan<int> c(static_cast<std::size_t>(cap));
        Chan<std::vector<int>> results(P);
        for (int p = 0; p < P; ++p) {
          go([c]() mutable {
            for (int i = 0; i < L; ++i) c.send(i);
          });
          go([c, results]() mutable {
            std::vector<int> recv(L);
            for (int i = 0; i < L; ++i) ++recv[std::size_t(*c.recv())];
            results.send(std::move(recv));
          });
        }
        std::vector<int> total(L);
        for (int p = 0; p < P; ++p) {
          auto r = results.recv();
          for (int i = 0; i < L; ++i) total[std::size_t(i)] += (*r)[std::size_t(i)];
        }
        int bad = 0;
        for (int i = 0; i < L; ++i) bad += total[std::size_t(i)] != P;
        CHECK(bad == 0);
      }
    });
  });
}

TEST_CASE(
    "chan: nonblocking receive racing close never reports not-ready (Go's "
    "TestNonblockRecvRace)",
    "[unit][chan]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> not_ready{0};
    rt.block_on([&] {
      int n = 1000 / int(weft_test::stress_scale() > 20 ? 10 : 1);
      for (int i = 0; i < n; ++i) {
        Chan<int> c(1);
        c.send(1);
        WaitGroup wg;
        wg.add(1);
        go([&, c]() mutable {
          if (c.try_recv_status().first == Chan<int>::RecvStatus::empty) ++not_ready;
          wg.done();
        });
        c.close();
        c.recv();
        wg.wait();
      }
    });
    CHECK(not_ready.load() == 0);
  });
}

TEST_CASE("chan: send and close misuse throw closed_channel, values stay with the caller",
          "[unit][chan]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Chan<std::string> c(1);
    c.close();
    std::string v = "mine";
    CHECK_THROWS_AS(c.send(std::move(v)), closed_channel);
    CHECK(v == "mine");
    CHECK_THROWS_AS(c.try_send(std::move(v)), closed_channel);
    CHECK(v == "mine");
    CHECK_THROWS_WITH(c.close(), "close of closed channel");
    Chan<int> nil;
    CHECK_THROWS_WITH(nil.close(), "close of nil channel");
    CHECK_NOTHROW(Chan<int>(0).close());
  });
}

TEST_CASE("chan: a sender blocked when the channel closes throws", "[unit][chan]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([&rt] {
      for (int cap : {0, 1}) {
        Chan<int> c(static_cast<std::size_t>(cap));
        if (cap == 1) c.send(1);
        Chan<int> outcome(1);
        go([c, outcome]() mutable {
          try {
            c.send(2);
            outcome.send(0);
          } catch (const closed_channel& e) {
            outcome.send(std::string(e.what()) == "send on closed channel" ? 1 : 2);
          }
        });
        REQUIRE(weft_test::wait_until_waiting(rt, "chan send", 1));
        c.close();
        CHECK(outcome.recv() == 1);
      }
    });
  });
}

TEST_CASE("chan: nil channel rules", "[unit][chan]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Chan<int> nil;
    CHECK_FALSE(bool(nil));
    CHECK_FALSE(nil.try_send(1));
    CHECK_FALSE(nil.try_recv());
    CHECK(nil.len() == 0);
    CHECK(nil.cap() == 0);
    // A nil channel in a select is never ready; with default, default runs.
    int which = select(on_recv(nil), on_send(nil, 1), on_default());
    CHECK(which == 2);
    Chan<int> c;
    CHECK(c == nil);
    c = Chan<int>(3);
    CHECK(bool(c));
    CHECK_FALSE(c == nil);
    Chan<int> d = c;
    CHECK(d == c);
  });
}

TEST_CASE("chan: move-only and non-trivial elements; buffered values destroyed with the channel",
          "[unit][chan]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    {
      Chan<std::unique_ptr<int>> c(2);
      c.send(std::make_unique<int>(7));
      go([c]() mutable { c.send(std::make_unique<int>(8)); });
      CHECK(**c.recv() == 7);
      CHECK(**c.recv() == 8);
    }
    Counted::live = 0;
    {
      Chan<Counted> c(5);
      for (int i = 0; i < 5; ++i) c.send(Counted(i));
      CHECK(Counted::live.load() == 5);
      auto v = c.recv();
      CHECK(v->v == 0);
      CHECK(Counted::live.load() == 5);  // 4 buffered + v
    }
    CHECK(Counted::live.load() == 0);  // the channel destroyed its 4 buffered values
    {
      Chan<Counted> c(0);  // unbuffered: moved straight between the two frames
      WaitGroup wg;
      wg.add(1);
      go([c, &wg] {
        c.send(Counted(11));  // its moved-from temporary lives until send returns
        wg.done();
      });
      auto v = c.recv();
      CHECK(v->v == 11);
      wg.wait();
    }
    CHECK(Counted::live.load() == 0);
  });
}

TEST_CASE("chan: receivers are served in arrival order", "[unit][chan]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Chan<int> c(0);
    Chan<std::pair<int, int>> got(10);
    for (int r = 0; r < 10; ++r) {
      go([c, got, r]() mutable { got.send({r, *c.recv()}); });
      settle();  // receiver r parks before r + 1
    }
    for (int i = 0; i < 10; ++i) c.send(i);
    for (int i = 0; i < 10; ++i) {
      auto [r, v] = *got.recv();
      CHECK(r == v);
    }
  });
}

TEST_CASE("chan: foreign threads use the try paths and close; fibers wake", "[unit][chan]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    Chan<int> c(4);
    Chan<int> done(1);
    rt.spawn([c, done]() mutable {
      int sum = 0;
      while (auto v = c.recv()) sum += *v;
      done.send(sum);
    });
    int sent = 0, expect = 0;
    for (int i = 1; i <= 1000; ++i) {
      while (!c.try_send(i)) std::this_thread::yield();
      ++sent;
      expect += i;
    }
    c.close();
    std::optional<int> sum;
    while (!(sum = done.try_recv())) std::this_thread::yield();
    CHECK(sent == 1000);
    CHECK(*sum == expect);
  });
}

TEST_CASE("chan: shutdown unwinds fibers blocked in send, recv and select", "[unit][chan]") {
  Counted::live = 0;
  {
    Runtime rt(Config{.procs = 2});
    Chan<Counted> a(0), b(0);
    std::atomic<int> unwound{0};
    struct Mark {
      std::atomic<int>* n;
      ~Mark() { ++*n; }
    };
    rt.spawn([a, &unwound]() mutable {
      Mark m{&unwound};
      a.send(Counted(1));
    });
    rt.spawn([b, &unwound]() mutable {
      Mark m{&unwound};
      b.recv();
    });
    rt.spawn([a, b, &unwound]() mutable {
      Mark m{&unwound};
      select(on_recv(b), on_send(a, Counted(2)), on_after(1h));
    });
    REQUIRE(weft_test::wait_until_waiting(rt, "chan send", 1));
    REQUIRE(weft_test::wait_until_waiting(rt, "chan receive", 1));
    REQUIRE(weft_test::wait_until_waiting(rt, "select", 1));
    rt.shutdown();
    CHECK(unwound.load() == 3);
  }
  CHECK(Counted::live.load() == 0);
}
