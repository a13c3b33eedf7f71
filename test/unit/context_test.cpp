// context_test: weft::Context — cancellation trees and deadlines, the behaviour of Go's
// context/context_test.go (TestWithCancel, TestParentFinishesChild, TestChildFinishesFirst,
// TestDeadline, TestTimeout, TestCanceledTimeout, TestCancelRemoves).
#include <thread>
#include <vector>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;

namespace {

bool is_done(const Context& c) { return select(on_recv(c.done()), on_default()) == 0; }

}  // namespace

TEST_CASE("context: background is never done", "[unit][context]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Context bg = background();
    CHECK_FALSE(bg.done());  // nil channel
    CHECK_FALSE(bg.err());
    CHECK_FALSE(bg.deadline());
    CHECK_FALSE(is_done(bg));
  });
}

TEST_CASE(
    "context: cancel closes done, sets err, reaches every descendant (Go's TestWithCancel, "
    "TestParentFinishesChild)",
    "[unit][context]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto [parent, cancel] = with_cancel(background());
      auto [child, cancel_child] = with_cancel(parent);
      auto [grandchild, cancel_gc] = with_timeout(child, 1h);
      CHECK_FALSE(parent.err());
      CHECK_FALSE(is_done(grandchild));
      CHECK(grandchild.deadline());
      // A fiber blocked on the grandchild wakes when the root is canceled.
      Chan<std::error_code> seen(1);
      go([gc = grandchild, seen]() mutable {
        gc.done().recv();
        seen.send(gc.err());
      });
      cancel();
      CHECK(seen.recv() == std::error_code(context_errc::canceled));
      for (const Context* c : {&parent, &child, &grandchild}) {
        CHECK(is_done(*c));
        CHECK(c->err() == context_errc::canceled);
        CHECK(c->err().message() == "context canceled");
      }
      cancel();  // idempotent
      cancel_child();
      cancel_gc();
      CHECK(child.err() == context_errc::canceled);
    });
  });
}

TEST_CASE("context: a child's cancel does not touch its parent (Go's TestChildFinishesFirst)",
          "[unit][context]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    auto [parent, cancel] = with_cancel(background());
    auto [child, cancel_child] = with_cancel(parent);
    cancel_child();
    CHECK(child.err() == context_errc::canceled);
    CHECK_FALSE(parent.err());
    CHECK_FALSE(is_done(parent));
    cancel();
    // A child made from a canceled parent is born canceled.
    auto [late, cancel_late] = with_cancel(parent);
    CHECK(is_done(late));
    CHECK(late.err() == context_errc::canceled);
    cancel_late();
  });
}

TEST_CASE(
    "context: deadlines and timeouts expire with deadline_exceeded (Go's TestDeadline, "
    "TestTimeout)",
    "[unit][context]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      auto t0 = std::chrono::steady_clock::now();
      auto [ctx, cancel] = with_timeout(background(), 20ms);
      auto [child, cancel_child] = with_cancel(ctx);
      child.done().recv();
      CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);
      CHECK(ctx.err() == context_errc::deadline_exceeded);
      CHECK(child.err() == context_errc::deadline_exceeded);
      CHECK(ctx.err().message() == "context deadline exceeded");
      CHECK(child.deadline() == ctx.deadline());  // inherited
      cancel();
      CHECK(ctx.err() == context_errc::deadline_exceeded);  // the first reason stays
      cancel_child();

      // A past deadline is exceeded at once.
      auto [past, cancel_past] = with_deadline(background(), std::chrono::steady_clock::now() - 1s);
      CHECK(is_done(past));
      CHECK(past.err() == context_errc::deadline_exceeded);
      cancel_past();

      // A parent's earlier deadline wins over a child's later one.
      auto [p, cp] = with_timeout(background(), 10ms);
      auto [c, cc] = with_timeout(p, 1h);
      CHECK(c.deadline() == p.deadline());
      c.done().recv();
      CHECK(c.err() == context_errc::deadline_exceeded);
      cp();
      cc();
    });
  });
}

TEST_CASE("context: cancel before the deadline stops the timer (Go's TestCanceledTimeout)",
          "[unit][context]") {
  Runtime rt(Config{.procs = 2});
  rt.block_on([] {
    auto [ctx, cancel] = with_timeout(background(), 1h);
    std::weak_ptr<int> probe;
    cancel();
    CHECK(ctx.err() == context_errc::canceled);
    // Thousands of short-lived timeout contexts, each canceled: nothing accumulates (the timers
    // are recycled; the ASan build's leak check sees the rest).
    for (int i = 0; i < 5000; ++i) {
      auto [c, cf] = with_timeout(ctx, 1h);
      CHECK(is_done(c));  // parent already canceled
      cf();
    }
    auto [live, cancel_live] = with_cancel(background());
    for (int i = 0; i < 5000; ++i) {
      auto [c, cf] = with_timeout(live, 1h);
      cf();
    }
    CHECK_FALSE(live.err());
    cancel_live();
  });
}

TEST_CASE("context: cancellation from a foreign thread and a select on done", "[unit][context]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    auto [ctx, cancel] = with_cancel(background());
    Chan<int> work(0);
    Chan<int> result(1);
    rt.spawn([ctx = ctx, work, result]() mutable {
      int n = 0;
      for (;;) {
        bool stop = false;
        select(on_recv(work, [&](std::optional<int>) { ++n; }),
               on_recv(ctx.done(), [&] { stop = true; }));
        if (stop) break;
      }
      result.send(ctx.err() == context_errc::canceled ? n : -1);
    });
    for (int i = 0; i < 10; ++i) {
      while (!work.try_send(i)) std::this_thread::yield();
    }
    cancel();
    std::optional<int> r;
    while (!(r = result.try_recv())) std::this_thread::yield();
    CHECK(*r == 10);
  });
}
