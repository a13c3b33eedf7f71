// lifecycle_test: Runtime construction, block_on, run(), shutdown unwinding, restarts and
// several runtimes side by side.
#include <stdexcept>
#include <thread>

#include "../support.hpp"
#include <sys/socket.h>
#include <unistd.h>

#include "netpoll.hpp"
#include "parkslot.hpp"
#include "proc.hpp"
#include "sema.hpp"

using namespace weft;
using weft_test::each_procs;
using weft_test::Latch;

namespace {

struct Counted {
  std::atomic<int>* n;
  explicit Counted(std::atomic<int>* c) : n(c) {}
  Counted(Counted&& o) noexcept : n(std::exchange(o.n, nullptr)) {}
  ~Counted() {
    if (n) n->fetch_add(1);
  }
};

}  // namespace

TEST_CASE("block_on returns the fiber's value and rethrows its exception", "[unit][lifecycle]") {
  Runtime rt(Config{.procs = 2});
  CHECK(rt.block_on([] { return 7; }) == 7);
  CHECK(rt.block_on([] { return std::string("fiber"); }) == "fiber");
  CHECK_THROWS_WITH(rt.block_on([]() -> int { throw std::runtime_error("boom"); }), "boom");
  rt.block_on([] {});  // void
}

TEST_CASE("run returns main's exit code", "[unit][lifecycle]") {
  CHECK(run([] { return 3; }, Config{.procs = 1}) == 3);
  CHECK(run([] {}, Config{.procs = 2}) == 0);
}

TEST_CASE("block_on from 8 foreign threads at once", "[unit][lifecycle]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::vector<std::thread> ts;
    std::atomic<int> sum{0};
    for (int t = 0; t < 8; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          sum += rt.block_on([t] {
            yield();
            return t;
          });
        }
      });
    }
    for (auto& t : ts) t.join();
    CHECK(sum.load() == 50 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
  });
}

TEST_CASE("shutdown unwinds parked fibers and destroys unstarted ones", "[unit][lifecycle]") {
  each_procs([](unsigned procs) {
    std::atomic<int> destroyed{0};
    std::atomic<int> parked{0};
    {
      Runtime rt(Config{.procs = procs});
      rt.block_on([&] {
        for (int i = 0; i < 100; ++i) {
          go([c = Counted(&destroyed), &parked] {
            Counted local(c.n);  // a destructor on the fiber's own stack
            weft::detail::ParkSlot never;
            parked.fetch_add(1);
            weft::detail::parkslot_wait(&never);
          });
        }
        while (parked.load() < 100) yield();
      });
      // block_on's own fiber has signalled but may not have exited yet.
      while (rt.live_fibers() > 100) std::this_thread::yield();
      CHECK(rt.live_fibers() == 100);
      CHECK(destroyed.load() == 0);
    }
    // Each fiber ran two destructors: its stack local and its callable's capture.
    CHECK(destroyed.load() == 200);
  });
  // Never started: the callable is destroyed unrun.
  std::atomic<int> destroyed{0};
  std::atomic<bool> ran{false};
  {
    Runtime rt(Config{.procs = 1});
    rt.block_on([&] {
      go([c = Counted(&destroyed), &ran] { ran = true; });
      // returns before the fiber above ever runs (it sits in runnext of this P)
    });
    rt.shutdown();
    rt.shutdown();  // idempotent
  }
  CHECK(destroyed.load() == 1);
  // The fiber may or may not have run before shutdown; either way its callable died once.
}

TEST_CASE("a runtime can be created and destroyed 100 times", "[unit][lifecycle]") {
  for (int i = 0; i < 100; ++i) {
    Runtime rt(Config{.procs = unsigned(1 + i % 4)});
    CHECK(rt.block_on([i] {
      std::atomic<int> n{0};  // the fibers may run in parallel
      Latch l(10);
      for (int k = 0; k < 10; ++k) go([&] { n.fetch_add(1), l.count_down(); });
      l.wait();
      return n.load() + i;
    }) == 10 + i);
  }
}

TEST_CASE("two runtimes side by side", "[unit][lifecycle]") {
  Runtime a(Config{.procs = 2}), b(Config{.procs = 2});
  // Catch2's CHECK is not thread-safe: the threads count mismatches, the main thread checks.
  std::atomic<int> wrong{0};
  std::thread ta([&] {
    for (int i = 0; i < 200; ++i)
      wrong += a.block_on([i] {
        yield();
        return i;
      }) != i;
  });
  std::thread tb([&] {
    for (int i = 0; i < 200; ++i)
      wrong += b.block_on([i] {
        yield();
        return -i;
      }) != -i;
  });
  ta.join();
  tb.join();
  CHECK(wrong.load() == 0);
  // A fiber of one runtime may spawn into the other.
  std::atomic<int> ran{0};
  a.block_on([&] {
    for (int i = 0; i < 10; ++i) b.spawn([&] { ran.fetch_add(1); });
  });
  CHECK(weft_test::settles(b));
  CHECK(ran.load() == 10);
}

TEST_CASE("a fiber unwound while parked leaves no stale G in its wait structure",
          "[unit][lifecycle]") {
  // Each fiber parks with a local whose destructor signals, releases or closes the very
  // structure it waits on — which runs during shutdown's unwinding. Were the fiber's G still
  // recorded there, that would ready a fiber that no longer waits (a fatal casgstatus).
  weft::detail::ParkSlot slot;
  std::atomic<std::uint32_t> sema{0};
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  weft::detail::PollDesc* pd = nullptr;
  {
    Runtime rt(Config{.procs = 2});
    rt.block_on([&] {
      std::error_code err;
      pd = weft::detail::poll_open(weft::detail::current_g()->sched, fds[0], err);
      REQUIRE(pd);
      Latch parked(3);
      go([&] {
        struct Sig {
          weft::detail::ParkSlot* s;
          ~Sig() { weft::detail::parkslot_signal(s); }
        } sig{&slot};
        parked.count_down();
        weft::detail::parkslot_wait(&slot);
      });
      go([&] {
        struct Rel {
          std::atomic<std::uint32_t>* s;
          ~Rel() { weft::detail::semrelease1(s, false); }
        } rel{&sema};
        parked.count_down();
        weft::detail::semacquire1(&sema, false, weft::detail::WaitReason::park);
      });
      go([&] {
        struct Close {
          weft::detail::PollDesc* pd;
          ~Close() { weft::detail::poll_unblock(pd); }
        } cl{pd};
        parked.count_down();
        weft::detail::poll_wait(pd, 'r');
      });
      parked.wait();
      sleep_for(std::chrono::milliseconds(5));  // all three parked
    });
  }  // shutdown unwinds the three: their destructors run against their own wait structures
  CHECK(slot.state.load() == 1);  // the signal became pending, nobody was readied
  CHECK(sema.load() == 1);
  close(fds[0]);
  close(fds[1]);
}
