// weft: an M:N green-thread runtime for C++20 with stackful fibers, built like Go's runtime.
// This header is the public API; see docs/architecture.md for how it works underneath.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <iosfwd>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <weft/detail/deadline.hpp>
#include <weft/detail/spawn.hpp>

// The rest of the toolkit: channels and select, sync, timers, contexts.
#include <weft/chan.hpp>
#include <weft/context.hpp>
#include <weft/sync.hpp>
#include <weft/time.hpp>

namespace weft {

// Config: how a runtime is built. Zero means "the default" for every numeric field.
struct Config {
  // procs: the number of Ps (Go's GOMAXPROCS). 0: the WEFT_PROCS environment variable, else the
  // number of CPUs this process may run on (its affinity mask, as Go counts them: under
  // `taskset -c 0` that is 1).
  unsigned procs = 0;
  // stack_size: default fiber stack size in bytes, rounded up to whole pages. 0: the build's
  // default (meson option stack_size, 128 KiB). Stacks are committed lazily: an idle fiber costs
  // the pages it touched, not this size.
  std::size_t stack_size = 0;
  // guard_pages: put a PROT_NONE page below each stack while vm.max_map_count allows it; past
  // that budget stacks come from slabs and are canary-checked at every switch-out instead.
  bool guard_pages = true;
  // max_threads: the most OS threads (Ms) the runtime may create (Go's SetMaxThreads); going
  // past it is a fatal error. 0: 10,000. Threads beyond procs exist only while fibers sit in
  // weft::blocking() calls (and briefly under lock_os_thread and WEFT_DEBUG=migrate=1).
  std::size_t max_threads = 0;
  // detect_deadlock: in weft::run, when every fiber is blocked and nothing can wake one, print
  // "fatal error: all fibers are asleep - deadlock!" with the fiber list and exit with status 2
  // (Go's checkdead). A program whose fibers are woken only by threads it started itself must
  // turn this off. Embedded runtimes (weft::Runtime) never check.
  bool detect_deadlock = true;
  // dump_on_sigquit: on SIGQUIT (Ctrl-\), print "SIGQUIT: quit" and every fiber of every live
  // runtime (as weft::dump_fibers) to stderr and exit the process with status 2, like Go. The
  // signal disposition is process-wide: once any runtime enables it, the handler stays
  // installed, passing the signal on as before while no live runtime wants the dump. Also
  // enabled by WEFT_DEBUG=sigquit=1.
  bool dump_on_sigquit = false;
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

// blocking runs f, a call that may block its thread (a system call, a blocking library), without
// holding up other fibers (Go's entersyscall/exitsyscall): the fiber's processor is handed to
// another thread if f takes more than ~20 µs. Returns f's result; exceptions pass through. f
// must not park (yield, wait on channels, ...). Outside a fiber it simply calls f.
template <class F>
decltype(auto) blocking(F&& f) {
  detail::BlockingScope scope;
  return std::invoke(std::forward<F>(f));
}

// lock_os_thread wires the calling fiber to its current thread: it runs only there, and the
// thread runs no other fiber, until as many unlock_os_thread calls (Go's LockOSThread). For
// thread-affine libraries. A fiber that ends while locked is unwired (Go ends the thread).
void lock_os_thread();
void unlock_os_thread();

// dump_fibers writes every fiber of the calling fiber's runtime — id, state or wait reason, how
// long it has waited, where it was spawned — like Go's goroutine dump.
void dump_fibers(std::ostream& os);

// sleep_for parks the calling fiber for at least d (Go's time.Sleep); other fibers run
// meanwhile. A zero or negative d returns at once; huge durations saturate instead of
// overflowing. Never returns early. Calling it outside a fiber is a fatal error.
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  if (d <= d.zero()) return;
  detail::sleep_until_ns(detail::deadline_after_ns(d));
}

// sleep_until parks the calling fiber until tp has passed (at once if it already has).
template <class Clock, class Duration>
void sleep_until(std::chrono::time_point<Clock, Duration> tp) {
  detail::sleep_until_ns(detail::deadline_at_ns(tp));
}

// fiber_id is the calling fiber's id (Go's goid), unique within its runtime; 0 outside a fiber.
std::uint64_t fiber_id();

// in_fiber says whether the caller runs on a weft fiber.
bool in_fiber();

template <class F>
int run(F&& main_fn, Config cfg = {}, std::source_location loc = std::source_location::current());

class Runtime;
namespace detail {
Sched* sched_of(Runtime& rt);
}

// Runtime: a weft runtime embedded in an existing program. Several may live side by side.
class Runtime {
 public:
  // Runtime(cfg) builds a runtime: its Ps (all idle), its poller and its sysmon thread. Ms
  // (threads running fibers) start on demand, with the first spawn. Non-copyable.
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

  // dump_fibers writes every fiber (see weft::dump_fibers). Callable from any thread.
  void dump_fibers(std::ostream& os) const;

 private:
  static void dump(detail::Sched* s, std::ostream& os);
  friend void weft::dump_fibers(std::ostream& os);
  template <class F>
  friend int run(F&& main_fn, Config cfg, std::source_location loc);
  friend detail::Sched* detail::sched_of(Runtime& rt);

  detail::Sched* s_;
};

// sched_of: the runtime's scheduler, for weft's own tests and tools (not a public API).
inline detail::Sched* detail::sched_of(Runtime& rt) { return rt.s_; }

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
int run(F&& main_fn, Config cfg, std::source_location loc) {
  Runtime rt(cfg);
  detail::Sched* s = rt.s_;
  if (cfg.detect_deadlock) detail::set_deadlock_detection(s, true);
  using R = std::invoke_result_t<std::decay_t<F>&>;
  auto body = [&main_fn, s]() -> R {
    struct Off {  // once main returns, fibers left waiting are not a deadlock
      detail::Sched* s;
      ~Off() { detail::set_deadlock_detection(s, false); }
    } off{s};
    return std::invoke(main_fn);
  };
  if constexpr (std::is_void_v<R>) {
    rt.block_on(body, loc);
    return 0;
  } else {
    return static_cast<int>(rt.block_on(body, loc));
  }
}

}  // namespace weft
