// ctx_test: the context-switch backend on its own (context.hpp: ctx_make, ctx_jump,
// ctx_ontop), below the scheduler — the contract both backends (Boost.Context, asm/) keep.
#include <pthread.h>
#include <unwind.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "context.hpp"
#include "sanitizer.hpp"

using weft::detail::Ctx;
using weft::detail::ctx_jump;
using weft::detail::ctx_make;
using weft::detail::ctx_ontop;
using weft::detail::Transfer;
namespace san = weft::detail::san;

namespace {

// Side: one stack that contexts run on, as the sanitizers must be told about it (sanitizer.hpp).
struct Side {
  const void* lo = nullptr;
  std::size_t size = 0;
  void* tsan = nullptr;
  void* fake = nullptr;  // ASan fake stack of the context suspended on this side
};

// ThreadSide: the calling thread's own stack.
Side thread_side() {
  Side s;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* lo = nullptr;
    pthread_attr_getstack(&attr, &lo, &s.size);
    pthread_attr_destroy(&attr);
    s.lo = lo;
  }
  s.tsan = san::fiber_current();
  return s;
}

// Stack: heap memory for one context. poison_above_top fills the bytes from top() rounded down
// to 16 (where a context's first frame begins) to the end with a code address, so an unwinder
// that walks past that frame finds plausible return addresses instead of stopping (see the
// backtrace test).
struct Stack {
  static constexpr std::size_t kSize = 64 * 1024;
  static constexpr std::size_t kPoison = 512;
  std::unique_ptr<char[]> mem{new char[kSize]};
  Side side;
  Stack() {
    side.lo = mem.get();
    side.size = kSize - kPoison;
    side.tsan = san::fiber_create();
  }
  ~Stack() {
    san::fiber_destroy(side.tsan);
    san::unpoison(mem.get(), kSize);  // frames abandoned by the context's last switch
  }
  // top: the highest usable address, deliberately not 16-byte aligned (ctx_make aligns it).
  void* top() { return mem.get() + kSize - kPoison - 8 - 3; }
  void poison_above_top(std::uintptr_t value) {
    auto top16 = reinterpret_cast<std::uintptr_t>(top()) & ~std::uintptr_t(15);
    char* end = mem.get() + kSize;
    for (char* p = reinterpret_cast<char*>(top16); p + sizeof value <= end; p += sizeof value)
      std::memcpy(p, &value, sizeof value);
  }
  Ctx make(void (*fn)(Transfer)) { return ctx_make(top(), kSize - kPoison - 16, fn); }
};

// arrived: set by an ontop function, which arrives on the target's stack (sanitizer.hpp) before
// the target's own suspension point would (proc.cpp's M::arrived). One thread runs these tests.
bool arrived = false;

// jump: a switch from `from` to `to`, bracketed for the sanitizers as proc.cpp does it.
Transfer jump(Side& from, const Side& to, Ctx ctx, void* data) {
  san::leave(&from.fake, to.lo, to.size, to.tsan, &to);
  Transfer t = ctx_jump(ctx, data);
  if (!std::exchange(arrived, false)) san::arrive(from.fake);
  return t;
}

// ontop: ctx_ontop from `from` to `to`; fn arrives on `to` (see `arrived`), `from` arrives here.
Transfer ontop(Side& from, const Side& to, Ctx ctx, void* data, Transfer (*fn)(Transfer)) {
  san::leave(&from.fake, to.lo, to.size, to.tsan, &to);
  Transfer t = ctx_ontop(ctx, data, fn);
  san::arrive(from.fake);
  return t;
}

// exit_to: the last switch of a context that will never run again.
[[noreturn]] void exit_to(const Side& to, Ctx ctx, void* data) {
  san::leave(nullptr, to.lo, to.size, to.tsan, &to);
  ctx_jump(ctx, data);
  __builtin_trap();
}

// ---- ping-pong: data both ways, the suspended context named each time ----

struct PingPong {
  Side* main;
  Stack* stack;
  int rounds;
  long sum = 0;      // what the context received
  bool bad = false;  // the context saw a wrong transfer
};

void pingpong_entry(Transfer t) {
  san::arrive(nullptr);
  auto* pp = static_cast<PingPong*>(t.data);
  Ctx main = t.ctx;
  for (long i = 1; i <= pp->rounds; ++i) {
    t = jump(pp->stack->side, *pp->main, main, reinterpret_cast<void*>(i * 10));
    if (t.data != reinterpret_cast<void*>(i)) pp->bad = true;
    pp->sum += reinterpret_cast<long>(t.data);
    main = t.ctx;
  }
  exit_to(*pp->main, main, nullptr);
}

// ---- callee-saved state: both sides keep many values live across every switch ----

struct Churn {
  Side* main;
  Stack* stack;
  Ctx peer = nullptr;
  bool ok_fiber = false;
};

// churn keeps 12 integers and 8 doubles, seeded differently on each side, live across n
// switches: the compiler holds what it can in callee-saved registers (RBX, RBP, R12-R15 on
// x86-64; X19-X28 and D8-D15 on AArch64). A switch that failed to restore one would hand this
// side the other side's value.
__attribute__((noinline)) bool churn(std::uint64_t seed, Side& self, const Side& other, Ctx* peer,
                                     int n) {
  volatile std::uint64_t vs = seed;
  std::uint64_t s = vs;
  std::uint64_t a0 = s + 1, a1 = s * 3, a2 = s ^ 0x55, a3 = s + 7, a4 = s * 11, a5 = s ^ 0x1234;
  std::uint64_t a6 = s + 13, a7 = s * 17, a8 = s ^ 0xabcd, a9 = s + 19, a10 = s * 23, a11 = ~s;
  double ds = double(s & 0xffff);  // small: every sum below is exact
  double d0 = ds * 0.5, d1 = ds + 0.25, d2 = ds * 1.5, d3 = ds - 3;
  double d4 = ds * 2.5, d5 = ds + 5.5, d6 = ds * 3.5, d7 = ds - 7;
  for (int i = 0; i < n; ++i) {
    Transfer t = jump(self, other, *peer, nullptr);
    *peer = t.ctx;
    a0 += 1, a1 += 2, a2 += 3, a3 += 4, a4 += 5, a5 += 6, a6 += 7, a7 += 8, a8 += 9, a9 += 10;
    a10 += 11, a11 += 12;
    d0 += 1, d1 += 2, d2 += 3, d3 += 4, d4 += 5, d5 += 6, d6 += 7, d7 += 8;
  }
  std::uint64_t m = std::uint64_t(n);
  bool ok = a0 == s + 1 + m && a1 == s * 3 + 2 * m && a2 == (s ^ 0x55) + 3 * m &&
            a3 == s + 7 + 4 * m && a4 == s * 11 + 5 * m && a5 == (s ^ 0x1234) + 6 * m &&
            a6 == s + 13 + 7 * m && a7 == s * 17 + 8 * m && a8 == (s ^ 0xabcd) + 9 * m &&
            a9 == s + 19 + 10 * m && a10 == s * 23 + 11 * m && a11 == ~s + 12 * m;
  double dm = double(n);
  ok = ok && d0 == ds * 0.5 + dm && d1 == ds + 0.25 + 2 * dm && d2 == ds * 1.5 + 3 * dm &&
       d3 == ds - 3 + 4 * dm && d4 == ds * 2.5 + 5 * dm && d5 == ds + 5.5 + 6 * dm &&
       d6 == ds * 3.5 + 7 * dm && d7 == ds - 7 + 8 * dm;
  return ok;
}

constexpr int kChurnRounds = 1000;

void churn_entry(Transfer t) {
  san::arrive(nullptr);
  auto* c = static_cast<Churn*>(t.data);
  c->peer = t.ctx;
  // The first switch back starts the main side's loop; then both loop kChurnRounds times.
  Transfer back = jump(c->stack->side, *c->main, c->peer, nullptr);
  c->peer = back.ctx;
  c->ok_fiber = churn(0x0123456789abcdefULL, c->stack->side, *c->main, &c->peer, kChurnRounds);
  exit_to(*c->main, c->peer, nullptr);
}

// ---- ontop: fn runs on the target's stack and its result is the target's switch result ----

struct Ontop {
  Side* main;
  Stack* stack;
  Ctx target = nullptr;          // the context, suspended in its first jump back
  void* fn_local = nullptr;      // an address on the stack fn ran on
  void* fn_data = nullptr;       // what fn received
  Ctx fn_from = nullptr;         // fn's t.ctx: the context that called ctx_ontop
  void* resumed_data = nullptr;  // what the target's pending jump returned
  Ctx resumed_ctx = nullptr;     // and the context it named
  std::string caught{};          // what() of the exception the target caught (throwing test)
};

void ontop_entry(Transfer t) {
  san::arrive(nullptr);
  auto* o = static_cast<Ontop*>(t.data);
  t = jump(o->stack->side, *o->main, t.ctx, nullptr);  // suspended here when ontop comes
  o->resumed_data = t.data;
  o->resumed_ctx = t.ctx;
  exit_to(*o->main, t.ctx, nullptr);
}

Ontop* g_ontop = nullptr;  // the test's state, for the ontop functions (one thread)

Transfer record_on_target(Transfer t) {
  san::arrive(g_ontop->stack->side.fake);
  arrived = true;
  volatile char local = 0;
  g_ontop->fn_local = const_cast<char*>(&local);
  g_ontop->fn_data = t.data;
  g_ontop->fn_from = t.ctx;
  return {t.ctx, reinterpret_cast<void*>(std::uintptr_t(0x5eed))};
}

void throwing_entry(Transfer t) {
  san::arrive(nullptr);
  auto* o = static_cast<Ontop*>(t.data);
  Ctx main = t.ctx;
  try {
    t = jump(o->stack->side, *o->main, main, nullptr);  // the ontop function throws from here
    o->resumed_data = t.data;
  } catch (const std::runtime_error& e) {
    o->caught = e.what();  // copied: the exception dies with the catch block
  }
  exit_to(*o->main, o->fn_from, nullptr);
}

Transfer throw_on_target(Transfer t) {
  san::arrive(g_ontop->stack->side.fake);
  g_ontop->fn_from = t.ctx;
  throw std::runtime_error("thrown on top of the target");
}

// ---- backtrace: an unwinder stops at the context's first frame ----

struct Backtrace {
  Side* main;
  Stack* stack;
  int frames = 0;
  _Unwind_Reason_Code end = _URC_NO_REASON;
  std::uintptr_t misaligned = 0;  // a 16-aligned local's address mod 16 (0 if the ABI holds)
};

_Unwind_Reason_Code count_frame(_Unwind_Context*, void* arg) {
  int& frames = *static_cast<int*>(arg);
  return ++frames > 64 ? _URC_NORMAL_STOP : _URC_NO_REASON;
}

__attribute__((noinline)) void backtrace_here(Backtrace* b) {
  alignas(16) volatile char probe[16] = {};
  // Through a volatile, or the compiler folds the remainder to 0: it trusts the alignment.
  volatile char* volatile where = &probe[0];
  b->misaligned = reinterpret_cast<std::uintptr_t>(where) % 16;
  b->end = _Unwind_Backtrace(count_frame, &b->frames);
}

void backtrace_entry(Transfer t) {
  san::arrive(nullptr);
  auto* b = static_cast<Backtrace*>(t.data);
  backtrace_here(b);
  exit_to(*b->main, t.ctx, nullptr);
}

}  // namespace

TEST_CASE("ctx_jump passes data both ways and names the suspended context", "[unit][ctx]") {
  Side main = thread_side();
  Stack stack;
  PingPong pp{&main, &stack, 1000};
  Transfer t = jump(main, stack.side, stack.make(pingpong_entry), &pp);
  long got = 0;
  bool bad = false;
  for (long i = 1; i <= pp.rounds; ++i) {
    if (t.data != reinterpret_cast<void*>(i * 10)) bad = true;
    got += reinterpret_cast<long>(t.data);
    t = jump(main, stack.side, t.ctx, reinterpret_cast<void*>(i));
  }
  CHECK_FALSE(bad);
  CHECK_FALSE(pp.bad);
  CHECK(got == 10L * pp.rounds * (pp.rounds + 1) / 2);
  CHECK(pp.sum == long(pp.rounds) * (pp.rounds + 1) / 2);
  CHECK(t.data == nullptr);  // the context's exit_to
}

TEST_CASE("callee-saved registers survive switches on both sides", "[unit][ctx]") {
  Side main = thread_side();
  Stack stack;
  Churn c{&main, &stack};
  Transfer t = jump(main, stack.side, stack.make(churn_entry), &c);
  Ctx peer = t.ctx;
  bool ok_main = churn(0xfedcba9876543210ULL, main, stack.side, &peer, kChurnRounds);
  // The context's loop ends one switch after ours: let it finish and exit.
  jump(main, stack.side, peer, nullptr);
  CHECK(ok_main);
  CHECK(c.ok_fiber);
}

TEST_CASE("ctx_ontop runs fn on the target's stack and fn's result is the target's",
          "[unit][ctx]") {
  Side main = thread_side();
  Stack stack;
  Ontop o{&main, &stack};
  g_ontop = &o;
  Transfer t = jump(main, stack.side, stack.make(ontop_entry), &o);
  o.target = t.ctx;
  int marker = 0;
  Transfer r = ontop(main, stack.side, o.target, &marker, record_on_target);
  char* lo = static_cast<char*>(const_cast<void*>(stack.side.lo));
  char* local = static_cast<char*>(o.fn_local);
  CHECK((local >= lo && local < lo + stack.side.size));
  CHECK(o.fn_data == &marker);
  CHECK(o.fn_from != nullptr);
  CHECK(o.resumed_ctx == o.fn_from);  // fn's result, delivered to the target's pending jump
  CHECK(o.resumed_data == reinterpret_cast<void*>(std::uintptr_t(0x5eed)));
  CHECK(r.ctx != nullptr);  // the target, suspended in its exit_to
  CHECK(r.data == nullptr);
  g_ontop = nullptr;
}

TEST_CASE("an exception thrown by an ontop function unwinds into the target's frames",
          "[unit][ctx]") {
  Side main = thread_side();
  Stack stack;
  Ontop o{&main, &stack};
  g_ontop = &o;
  Transfer t = jump(main, stack.side, stack.make(throwing_entry), &o);
  Transfer r = ontop(main, stack.side, t.ctx, nullptr, throw_on_target);
  CHECK(o.caught == "thrown on top of the target");
  CHECK(o.resumed_data == nullptr);  // the jump never returned normally
  CHECK(r.data == nullptr);
  g_ontop = nullptr;
}

TEST_CASE("a backtrace in a context ends at its first frame; its stack is ABI-aligned",
          "[unit][ctx]") {
  Side main = thread_side();
  Stack stack;
  // Return-address-like values above the top: an unwinder that does not stop at the context's
  // first frame reads these and walks on into (and past) this function's frames.
  stack.poison_above_top(reinterpret_cast<std::uintptr_t>(&backtrace_here) + 16);
  Backtrace b{&main, &stack};
  jump(main, stack.side, stack.make(backtrace_entry), &b);
  CHECK(b.end == _URC_END_OF_STACK);
  // count_frame, backtrace_here, backtrace_entry, and at most the context's entry routine.
  CHECK(b.frames >= 2);
  CHECK(b.frames <= 5);
  CHECK(b.misaligned == 0);
}
