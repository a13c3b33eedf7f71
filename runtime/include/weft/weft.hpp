// weft: an M:N green-thread runtime for C++20 with stackful fibers, built like Go's runtime.
// This header is the public API; see docs/architecture.md for how it works underneath.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <weft/detail/spawn.hpp>

namespace weft {

// Config: how a runtime is built. Zero means "the default" for every numeric field.
struct Config {
  // procs: the number of Ps (Go's GOMAXPROCS). 0: the WEFT_PROCS environment variable, else the
  // number of hardware threads.
  unsigned procs = 0;
  // stack_size: default fiber stack size in bytes, rounded up to whole pages. 0: the build's
  // default (meson option stack_size, 128 KiB). Stacks are committed lazily: an idle fiber costs
  // the pages it touched, not this size.
  std::size_t stack_size = 0;
  // guard_pages: put a PROT_NONE page below each stack while vm.max_map_count allows it; past
  // that budget stacks come from slabs and are canary-checked at every switch-out instead.
  bool guard_pages = true;
};

// SpawnOptions: per-fiber settings for go() and Runtime::spawn().
struct SpawnOptions {
  std::size_t stack_size = 0;  // 0: the runtime's default
};

// go starts f as a new fiber in the calling fiber's runtime (Go's `go f()`). Calling it outside a
// fiber is a fatal error; use Runtime::spawn from other threads.
template <class F>
void go(F&& f, std::source_location loc = std::source_location::current()) {
  detail::spawn_in(detail::current_sched("go"), 0, std::forward<F>(f), loc);
}
template <class F>
void go(SpawnOptions opt, F&& f, std::source_location loc = std::source_location::current()) {
  detail::spawn_in(detail::current_sched("go"), opt.stack_size, std::forward<F>(f), loc);
}

// yield lets other runnable fibers run (Go's runtime.Gosched). The caller stays runnable.
void yield();

// fiber_id is the calling fiber's id (Go's goid), unique within its runtime; 0 outside a fiber.
std::uint64_t fiber_id();

// in_fiber says whether the caller runs on a weft fiber.
bool in_fiber();

// Runtime: a weft runtime embedded in an existing program. Several may live side by side.
class Runtime {
 public:
  explicit Runtime(Config cfg = {});
  // The destructor is shutdown().
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // spawn starts f as a fiber. Callable from any thread, fiber or not. After shutdown() began, f
  // is destroyed unrun.
  template <class F>
  void spawn(F&& f, std::source_location loc = std::source_location::current()) {
    detail::spawn_in(s_, 0, std::forward<F>(f), loc);
  }
  template <class F>
  void spawn(SpawnOptions opt, F&& f, std::source_location loc = std::source_location::current()) {
    detail::spawn_in(s_, opt.stack_size, std::forward<F>(f), loc);
  }

  // block_on runs f as a fiber and waits for it on the calling (non-fiber) thread, returning its
  // value or rethrowing its exception. Calling it from a fiber is a fatal error (it would block
  // the fiber's M). If the runtime shuts down before f finishes, it throws std::runtime_error.
  template <class F>
  auto block_on(F&& f, std::source_location loc = std::source_location::current())
      -> std::invoke_result_t<std::decay_t<F>&>;

  // shutdown stops accepting fibers, wakes and joins every M, then unwinds the fibers still
  // parked or queued (their destructors run) and releases their stacks. Idempotent. Calling it
  // from one of this runtime's fibers is a fatal error.
  void shutdown();

  // live_fibers counts fibers spawned and not yet finished.
  std::int64_t live_fibers() const;

 private:
  detail::Sched* s_;
};

template <class F>
auto Runtime::block_on(F&& f, std::source_location loc) -> std::invoke_result_t<std::decay_t<F>&> {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  detail::check_not_fiber("block_on");
  detail::BlockOn<R> st;
  spawn(detail::BlockOnTask<R, Fn>(&st, Fn(std::forward<F>(f))), loc);
  if (st.wait() == 2) detail::throw_runtime_gone();
  if (st.error) std::rethrow_exception(st.error);
  if constexpr (!std::is_void_v<R>) return std::move(*st.value);
}

// run is Go's main(): it starts a runtime, runs main_fn as its first fiber, and when main_fn
// returns shuts the runtime down (other fibers are unwound) and returns main_fn's int result
// (0 for void). An exception escaping main_fn propagates out of run after the shutdown.
template <class F>
int run(F&& main_fn, Config cfg = {}) {
  Runtime rt(cfg);
  using R = std::invoke_result_t<std::decay_t<F>&>;
  if constexpr (std::is_void_v<R>) {
    rt.block_on(std::forward<F>(main_fn));
    return 0;
  } else {
    return static_cast<int>(rt.block_on(std::forward<F>(main_fn)));
  }
}

}  // namespace weft
