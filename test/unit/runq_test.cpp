// runq_test: run-queue put/get/steal exactness (Go's TestRunqueue / runq tests in proc_test.go),
// on the rings of a runtime whose Ms never start (no fiber is spawned).
#include <set>
#include <vector>

#include "../support.hpp"
#include "runq.hpp"

using namespace weft::detail;

namespace {

struct Fixture {
  Sched s{weft::Config{.procs = 2}};
  std::vector<G> gs{600};
  P* p0() { return s.allp[0]; }
  P* p1() { return s.allp[1]; }
  std::size_t global() {
    std::lock_guard<Lock> lk(s.lock);
    return s.runq.size();
  }
};

}  // namespace

TEST_CASE("runqput/runqget are FIFO and runnext comes first", "[unit][runq]") {
  Fixture f;
  bool inherit = false;
  for (int i = 0; i < 10; ++i) runqput(f.p0(), &f.gs[std::size_t(i)], false);
  runqput(f.p0(), &f.gs[100], true);
  CHECK(runqlen(f.p0()) == 11);
  CHECK(runqget(f.p0(), &inherit) == &f.gs[100]);
  CHECK(inherit);
  for (int i = 0; i < 10; ++i) {
    CHECK(runqget(f.p0(), &inherit) == &f.gs[std::size_t(i)]);
    CHECK_FALSE(inherit);
  }
  CHECK(runqget(f.p0(), &inherit) == nullptr);
  CHECK(runqempty(f.p0()));
}

TEST_CASE("a new runnext kicks the old one to the tail", "[unit][runq]") {
  Fixture f;
  bool inherit;
  runqput(f.p0(), &f.gs[0], true);
  runqput(f.p0(), &f.gs[1], true);
  CHECK(runqget(f.p0(), &inherit) == &f.gs[1]);
  CHECK(runqget(f.p0(), &inherit) == &f.gs[0]);
}

TEST_CASE("a full ring moves half of itself plus the new G to the global queue", "[unit][runq]") {
  Fixture f;
  for (std::size_t i = 0; i < 256; ++i) runqput(f.p0(), &f.gs[i], false);
  CHECK(runqlen(f.p0()) == 256);
  CHECK(f.global() == 0);
  runqput(f.p0(), &f.gs[256], false);
  CHECK(runqlen(f.p0()) == 128);
  CHECK(f.global() == 129);
  // Nothing lost or duplicated: 128 local + 129 global = all 257, each once.
  std::set<G*> seen;
  bool inherit;
  while (G* g = runqget(f.p0(), &inherit)) CHECK(seen.insert(g).second);
  {
    std::lock_guard<Lock> lk(f.s.lock);
    while (G* g = f.s.runq.pop_front()) CHECK(seen.insert(g).second);
    f.s.runqsize.store(0);
  }
  CHECK(seen.size() == 257);
}

TEST_CASE("runqsteal takes half (rounded up) and returns one of them", "[unit][runq]") {
  for (std::size_t n : {1, 2, 3, 7, 100, 255, 256}) {
    Fixture f;
    for (std::size_t i = 0; i < n; ++i) runqput(f.p1(), &f.gs[i], false);
    G* got = runqsteal(f.p0(), f.p1(), false);
    REQUIRE(got != nullptr);
    std::size_t stolen = n - n / 2;
    CHECK(runqlen(f.p1()) == n - stolen);
    CHECK(runqlen(f.p0()) == stolen - 1);
    // The victim keeps the newest; the thief took the oldest, in order.
    CHECK(got == &f.gs[stolen - 1]);
    bool inherit;
    for (std::size_t i = 0; i + 1 < stolen; ++i) CHECK(runqget(f.p0(), &inherit) == &f.gs[i]);
    for (std::size_t i = stolen; i < n; ++i) CHECK(runqget(f.p1(), &inherit) == &f.gs[i]);
  }
}

TEST_CASE("runqsteal takes runnext only when asked, and only from an empty ring", "[unit][runq]") {
  Fixture f;
  runqput(f.p1(), &f.gs[0], true);
  CHECK(runqsteal(f.p0(), f.p1(), false) == nullptr);
  CHECK(runqsteal(f.p0(), f.p1(), true) == &f.gs[0]);
  CHECK(runqempty(f.p1()));
  runqput(f.p1(), &f.gs[1], true);
  runqput(f.p1(), &f.gs[2], false);
  CHECK(runqsteal(f.p0(), f.p1(), true) == &f.gs[2]);  // the ring first
  bool inherit;
  CHECK(runqget(f.p1(), &inherit) == &f.gs[1]);
}

TEST_CASE("globrunqget takes a fair batch into the ring", "[unit][runq]") {
  Fixture f;
  std::lock_guard<Lock> lk(f.s.lock);
  for (std::size_t i = 0; i < 100; ++i) globrunqput(&f.s, &f.gs[i]);
  // procs = 2: size/procs + 1 = 51, one returned and 50 into the ring.
  CHECK(globrunqget(&f.s, f.p0(), 0) == &f.gs[0]);
  CHECK(runqlen(f.p0()) == 50);
  CHECK(f.s.runq.size() == 49);
  CHECK(globrunqget(&f.s, f.p1(), 1) == &f.gs[51]);
  CHECK(runqlen(f.p1()) == 0);
  bool inherit;
  while (runqget(f.p0(), &inherit)) {
  }
  while (f.s.runq.pop_front()) {
  }
  f.s.runqsize.store(0);
}

TEST_CASE("concurrent steals never lose or duplicate a G", "[unit][runq]") {
  Fixture f;
  constexpr int kRounds = 2000;
  std::atomic<bool> stop{false};
  std::atomic<long> taken{0};
  std::vector<int> hits(f.gs.size());
  std::mutex hits_mu;
  // The owner puts and gets on p1 (as its M would); a thief steals into p0 and drains it.
  std::thread thief([&] {
    bool inherit;
    while (!stop.load()) {
      if (G* g = runqsteal(f.p0(), f.p1(), true)) {
        std::vector<G*> got{g};
        while (G* h = runqget(f.p0(), &inherit)) got.push_back(h);
        std::lock_guard<std::mutex> lk(hits_mu);
        for (G* x : got) ++hits[std::size_t(x - f.gs.data())];
        taken += long(got.size());
      }
    }
  });
  bool inherit;
  long put = 0;
  for (int r = 0; r < kRounds; ++r) {
    for (std::size_t i = 0; i < 200; ++i)
      runqput(f.p1(), &f.gs[(std::size_t(r) * 7 + i) % 600], i % 50 == 0);
    put += 200;
    while (G* g = runqget(f.p1(), &inherit)) {
      std::lock_guard<std::mutex> lk(hits_mu);
      ++hits[std::size_t(g - f.gs.data())];
      ++taken;
    }
  }
  stop.store(true);
  thief.join();
  {
    std::lock_guard<Lock> lk(f.s.lock);
    while (G* g = f.s.runq.pop_front()) ++hits[std::size_t(g - f.gs.data())], ++taken;
    f.s.runqsize.store(0);
  }
  CHECK(taken.load() == put);
  long total = 0;
  for (int h : hits) total += h;
  CHECK(total == put);
}

namespace {

// BackoffAs replaces the thief's back-off with `fn` (run as if by the victim's owner while the
// thief waits) for its lifetime.
struct BackoffAs {
  void (*saved)(P*);
  explicit BackoffAs(void (*fn)(P*)) : saved(runq_backoff) { runq_backoff = fn; }
  ~BackoffAs() { runq_backoff = saved; }
};

int backoffs = 0;

}  // namespace

TEST_CASE("a thief waits, then takes a running P's runnext that sat there (R6)", "[unit][runq]") {
  Fixture f;
  backoffs = 0;
  BackoffAs b([](P*) { ++backoffs; });
  runqput(f.p1(), &f.gs[0], true);
  f.p1()->status.store(PStatus::running);
  CHECK(runqsteal(f.p0(), f.p1(), true) == &f.gs[0]);
  CHECK(backoffs == 1);
  CHECK(runqempty(f.p1()));
  // An idle P's runnext is taken without waiting.
  f.p1()->status.store(PStatus::idle);
  runqput(f.p1(), &f.gs[1], true);
  CHECK(runqsteal(f.p0(), f.p1(), true) == &f.gs[1]);
  CHECK(backoffs == 1);
  f.p1()->status.store(PStatus::idle);
}

TEST_CASE("a thief leaves the runnext of a P that put a new one meanwhile (R6)", "[unit][runq]") {
  Fixture f;
  static Fixture* fx;
  fx = &f;
  // The owner runs its runnext and readies another during the back-off (a ping-pong pair).
  BackoffAs b([](P* victim) {
    bool inherit;
    CHECK(runqget(victim, &inherit) == &fx->gs[0]);
    runqput(victim, &fx->gs[1], true);
  });
  runqput(f.p1(), &f.gs[0], true);
  f.p1()->status.store(PStatus::running);
  CHECK(runqsteal(f.p0(), f.p1(), true) == nullptr);
  bool inherit;
  CHECK(runqget(f.p1(), &inherit) == &f.gs[1]);  // still the owner's, and next
  CHECK(inherit);
  // Even when the new runnext is the same G, readied again after it ran.
  runqput(f.p1(), &f.gs[0], true);
  {
    BackoffAs again([](P* victim) {
      bool inh;
      CHECK(runqget(victim, &inh) == &fx->gs[0]);
      runqput(victim, &fx->gs[0], true);
    });
    CHECK(runqsteal(f.p0(), f.p1(), true) == nullptr);
  }
  CHECK(runqget(f.p1(), &inherit) == &f.gs[0]);
  f.p1()->status.store(PStatus::idle);
}

TEST_CASE("runnext: a put into an empty runnext is a plain store, into a full one an exchange (R5)",
          "[unit][runq]") {
  Fixture f;
  bool inherit;
  runqput(f.p1(), &f.gs[0], true);  // empty: store
  CHECK(f.p1()->runnext.load() == &f.gs[0]);
  runqput(f.p1(), &f.gs[1], true);  // full: exchange, the old one to the tail
  CHECK(f.p1()->runnext.load() == &f.gs[1]);
  CHECK(runqlen(f.p1()) == 2);
  CHECK(runqsteal(f.p0(), f.p1(), false) == &f.gs[0]);  // the kicked one is on the ring
  CHECK(f.p1()->nextgen.load() == 2);
  CHECK(runqget(f.p1(), &inherit) == &f.gs[1]);
  CHECK(inherit);
  CHECK(runqempty(f.p1()));
  CHECK(f.p1()->runnext.load() == nullptr);
}

TEST_CASE("a solo P (procs = 1) keeps every rule without CAS (R7)", "[unit][runq]") {
  Sched s{weft::Config{.procs = 1}};
  std::vector<G> gs(300);
  P* pp = s.allp[0];
  REQUIRE(pp->solo);
  bool inherit = false;
  for (int i = 0; i < 10; ++i) runqput(pp, &gs[std::size_t(i)], false);
  runqput(pp, &gs[100], true);
  runqput(pp, &gs[101], true);  // kicks gs[100] to the tail
  CHECK(runqlen(pp) == 12);
  CHECK(runqget(pp, &inherit) == &gs[101]);
  CHECK(inherit);
  for (int i = 0; i < 10; ++i) {
    CHECK(runqget(pp, &inherit) == &gs[std::size_t(i)]);
    CHECK_FALSE(inherit);
  }
  CHECK(runqget(pp, &inherit) == &gs[100]);
  CHECK(runqget(pp, &inherit) == nullptr);
  CHECK(runqempty(pp));
  // Wrapping the ring many times, and overflowing it into the global queue.
  for (int round = 0; round < 5; ++round) {
    for (std::size_t i = 0; i < 200; ++i) runqput(pp, &gs[i], false);
    for (std::size_t i = 0; i < 200; ++i) CHECK(runqget(pp, &inherit) == &gs[i]);
  }
  for (std::size_t i = 0; i < 257; ++i) runqput(pp, &gs[i], false);
  CHECK(runqlen(pp) == 128);
  std::lock_guard<Lock> lk(s.lock);
  CHECK(s.runq.size() == 129);
  while (s.runq.pop_front()) {
  }
  s.runqsize.store(0);
}

TEST_CASE("runqget's prefetch peeks at the next Gs without taking or changing them (R8)",
          "[unit][runq]") {
  // Saved contexts pointing into a real buffer (as on a stack), null ones (never switched out),
  // rings of one to eight Gs (the peek stops at the tail), on a solo and a shared P.
  alignas(64) static char stacks[8][512];
  for (unsigned procs : {1u, 2u}) {
    Sched s{weft::Config{.procs = procs}};
    std::vector<G> gs(8);
    for (std::size_t i = 0; i < gs.size(); ++i) {
      if (i % 3 != 2) set_ctx(&gs[i], stacks[i] + 256);
    }
    P* pp = s.allp[0];
    bool inherit = false;
    for (std::size_t n = 1; n <= gs.size(); ++n) {
      for (std::size_t i = 0; i < n; ++i) runqput(pp, &gs[i], false);
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(runqget(pp, &inherit) == &gs[i]);
        CHECK(runqlen(pp) == n - i - 1);
      }
      CHECK(runqget(pp, &inherit) == nullptr);
    }
    for (std::size_t i = 0; i < gs.size(); ++i) {
      CHECK(gs[i].ctx == (i % 3 != 2 ? static_cast<Ctx>(stacks[i] + 256) : nullptr));
    }
  }
}

TEST_CASE("the global queue stays FIFO while it wraps around and grows", "[unit][runq]") {
  // A ring of G pointers that doubles when full: grow with the head in the middle of the ring
  // (the wrapped part must come out in order), then drain and refill.
  std::vector<G> gs(2000);
  GQueue q;
  CHECK(q.empty());
  CHECK(q.pop_front() == nullptr);
  std::size_t next_in = 0, next_out = 0;
  auto put = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) q.push_back(&gs[next_in++]);
  };
  auto take = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) REQUIRE(q.pop_front() == &gs[next_out++]);
  };
  put(200);
  take(150);  // head at 150 of 256
  put(200);   // wraps: 250 queued
  put(300);   // grows twice with the head mid-ring: 550 queued
  CHECK(q.size() == 550);
  take(550);
  CHECK(q.empty());
  put(1000);
  take(999);
  CHECK(q.size() == 1);
  take(1);
  CHECK(q.pop_front() == nullptr);
  CHECK(next_in == 1700);
}

TEST_CASE("GStack: LIFO through growth; batches keep their order from either end", "[unit][runq]") {
  std::vector<G> gs(400);
  GStack a;
  CHECK(a.empty());
  CHECK(a.pop() == nullptr);
  CHECK(a.top() == nullptr);
  for (int i = 0; i < 300; ++i) a.push(&gs[std::size_t(i)]);  // grows from 64 past 256
  CHECK(a.size() == 300);
  CHECK(a.top() == &gs[299]);
  REQUIRE(a.pop() == &gs[299]);  // LIFO: the most recently freed first
  // take_top moves the newest n, in order: b's top is a's old top.
  GStack b;
  b.push(&gs[399]);
  b.take_top(a, 32);  // a held 0..298: b gets 267..298 above 399
  CHECK(a.size() == 267);
  CHECK(b.size() == 33);
  for (int i = 298; i >= 267; --i) REQUIRE(b.pop() == &gs[std::size_t(i)]);
  REQUIRE(b.pop() == &gs[399]);
  // take_bottom moves the oldest n, in order, and the rest slides down intact.
  b.take_bottom(a, 100);  // b gets 0..99; a keeps 100..266
  CHECK(a.size() == 167);
  CHECK(b.size() == 100);
  for (int i = 99; i >= 0; --i) REQUIRE(b.pop() == &gs[std::size_t(i)]);
  for (int i = 266; i >= 100; --i) REQUIRE(a.pop() == &gs[std::size_t(i)]);
  CHECK(a.empty());
  // Taking nothing, or everything, from either end.
  for (int i = 0; i < 10; ++i) a.push(&gs[std::size_t(i)]);
  b.take_top(a, 0);
  b.take_bottom(a, 0);
  CHECK(b.empty());
  b.take_bottom(a, 10);
  CHECK(a.empty());
  int n = 0;
  for (G* gp : b) REQUIRE(gp == &gs[std::size_t(n++)]);
  CHECK(n == 10);
}
