// detail/spawn: what the public templates (go, spawn, block_on) need from the runtime, as
// declarations only. The runtime's private headers never leak into public ones.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

namespace weft::detail {

struct G;
struct Sched;

// ForcedUnwind is thrown inside a parked fiber when its runtime shuts down, so that its
// destructors run. Code that catches (...) must rethrow it; swallowing it ends the fiber early.
struct ForcedUnwind {};

// NewG is a G with a stack, and room for the callable: `storage` on the G's stack, or null when
// the callable is too large for it (the caller then puts it on the heap).
struct NewG {
  G* g;
  void* storage;
};

// newg allocates a G ready for newproc; g is null when the runtime is shutting down.
NewG newg(Sched* s, std::size_t stack_size, std::size_t size, std::size_t align);
// newproc makes gp runnable with the callable at obj.
void newproc(Sched* s, G* gp, void (*invoke)(void*), void (*destroy)(void*), void* obj,
             const std::source_location& loc);
// freeg_unstarted returns a G from newg whose callable could not be constructed.
void freeg_unstarted(Sched* s, G* gp);
// current_sched returns the runtime of the calling fiber; outside a fiber it is a fatal error
// naming `op`.
Sched* current_sched(const char* op);
// check_not_fiber aborts with a message naming `op` when called on a fiber of any runtime.
void check_not_fiber(const char* op);
// futex_wait blocks the thread while *addr == expected; futex_wake wakes all waiters on addr.
// The kernel tolerates an address freed after the wake's store, which std::atomic::notify does not.
void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected);
void futex_wake(std::atomic<std::uint32_t>* addr);
// BlockingScope brackets weft::blocking(): entersyscall on construction, exitsyscall on
// destruction (also when unwinding). Nested scopes and scopes off fibers do nothing.
class BlockingScope {
 public:
  BlockingScope();
  ~BlockingScope();
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  G* g_;
};

// sleep_until_ns parks the calling fiber until nanotime() >= when (CLOCK_MONOTONIC, the clock
// of std::chrono::steady_clock on Linux); steady_now_ns reads that clock.
void sleep_until_ns(std::int64_t when);
std::int64_t steady_now_ns();

// set_deadlock_detection turns weft::run's checkdead on or off.
void set_deadlock_detection(Sched* s, bool on);

// runtime_gone is thrown by block_on when the runtime shut down before its fiber finished.
[[noreturn]] void throw_runtime_gone();

template <class Fn>
void invoke_inplace(void* p) {
  Fn* f = static_cast<Fn*>(p);
  struct Destroy {
    Fn* f;
    ~Destroy() { f->~Fn(); }
  } d{f};
  std::invoke(*f);
}
template <class Fn>
void destroy_inplace(void* p) {
  static_cast<Fn*>(p)->~Fn();
}
template <class Fn>
void invoke_heap(void* p) {
  std::unique_ptr<Fn> f(static_cast<Fn*>(p));
  std::invoke(*f);
}
template <class Fn>
void destroy_heap(void* p) {
  delete static_cast<Fn*>(p);
}

template <class F>
void spawn_in(Sched* s, std::size_t stack_size, F&& f, const std::source_location& loc) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>,
                "weft: a fiber's function must be callable with no arguments");
  NewG n = newg(s, stack_size, sizeof(Fn), alignof(Fn));
  if (!n.g) return;  // runtime shutting down: the callable is dropped unrun
  try {
    if (n.storage) {
      Fn* obj = ::new (n.storage) Fn(std::forward<F>(f));
      newproc(s, n.g, &invoke_inplace<Fn>, &destroy_inplace<Fn>, obj, loc);
    } else {
      Fn* obj = new Fn(std::forward<F>(f));
      newproc(s, n.g, &invoke_heap<Fn>, &destroy_heap<Fn>, obj, loc);
    }
  } catch (...) {
    freeg_unstarted(s, n.g);
    throw;
  }
}

// BlockOn carries a fiber's result back to a thread waiting in Runtime::block_on.
template <class R>
struct BlockOn {
  using Value = std::conditional_t<std::is_void_v<R>, bool, R>;
  std::optional<Value> value;
  std::exception_ptr error;
  // state: 0 running, 1 finished, 2 unwound by shutdown. atomic: the fiber stores with release
  // and notifies; the waiting thread loads with acquire. After the store the fiber must not touch
  // this object again (the waiter may return and destroy it).
  std::atomic<std::uint32_t> state{0};

  void finish(std::uint32_t how) {
    state.store(how, std::memory_order_release);
    futex_wake(&state);
  }
  std::uint32_t wait() {
    std::uint32_t s;
    while ((s = state.load(std::memory_order_acquire)) == 0) futex_wait(&state, 0);
    return s;
  }
};

// BlockOnTask is the fiber body of Runtime::block_on. Destroyed unrun (the runtime shut down
// before it started), it still releases the waiting thread.
template <class R, class Fn>
struct BlockOnTask {
  BlockOn<R>* st;
  Fn fn;
  BlockOnTask(BlockOn<R>* s, Fn&& f) : st(s), fn(std::move(f)) {}
  BlockOnTask(BlockOnTask&& o) : st(std::exchange(o.st, nullptr)), fn(std::move(o.fn)) {}
  BlockOnTask(const BlockOnTask&) = delete;
  ~BlockOnTask() {
    if (st) st->finish(2);
  }
  void operator()() {
    BlockOn<R>* s = std::exchange(st, nullptr);
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        s->value.emplace(true);
      } else {
        s->value.emplace(fn());
      }
    } catch (const ForcedUnwind&) {
      s->finish(2);
      throw;
    } catch (...) {
      s->error = std::current_exception();
    }
    s->finish(1);
  }
};

}  // namespace weft::detail
