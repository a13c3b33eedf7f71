// context: Go's context package — cancellation and deadlines that flow down a tree of work.
// Implemented in runtime/context.cpp (Go's context/context.go).
//
//   auto [ctx, cancel] = weft::with_timeout(weft::background(), 2s);
//   weft::select(weft::on_recv(ctx.done(), [] { /* canceled or timed out */ }),
//                weft::on_recv(results, [](std::optional<int> v) { ... }));
//   cancel();   // always call it when done: it frees the context's timer and its parent's link
//
// Cancelling a context closes its done() channel, sets err(), and cancels every context derived
// from it; a child never affects its parent. All members are safe from any thread; with_* need a
// fiber only for deadlines (their timer runs on the calling fiber's runtime).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <variant>

#include <weft/chan.hpp>
#include <weft/detail/deadline.hpp>

namespace weft {

// context_errc: why a context ended — err() values, like Go's context.Canceled and
// context.DeadlineExceeded ("context canceled", "context deadline exceeded").
enum class context_errc { canceled = 1, deadline_exceeded = 2 };
// context_category: the error category of context_errc (name "weft.context"); make_error_code makes
// `err == weft::context_errc::canceled` work.
const std::error_category& context_category() noexcept;
inline std::error_code make_error_code(context_errc e) noexcept {
  return {static_cast<int>(e), context_category()};
}

}  // namespace weft

template <>
struct std::is_error_code_enum<weft::context_errc> : std::true_type {};

namespace weft {

namespace detail {
struct ContextImpl;
}

class Context;
struct CancelFunc;
struct WithCancel;
// with_cancel: a child of parent, canceled by its cancel function (err() = canceled) or when
// parent is (Go's context.WithCancel). Needs no fiber.
WithCancel with_cancel(const Context& parent);
// with_deadline_ns: with_deadline at `when` on the runtime's clock (CLOCK_MONOTONIC ns), what
// the templates below call (not a public API).
WithCancel with_deadline_ns(const Context& parent, std::int64_t when);

// Context carries a cancellation signal and maybe a deadline. Copies share one context. A
// default-constructed Context is background(): never canceled, no deadline, done() is nil.
class Context {
 public:
  // Context(): background().
  Context() = default;

  // done: a channel closed when the context is canceled (nil for background: never ready).
  Chan<std::monostate> done() const;
  // err: empty while the context is live; context_errc::canceled or ::deadline_exceeded after.
  std::error_code err() const;
  // deadline: when the context will be canceled by itself, if ever.
  std::optional<std::chrono::steady_clock::time_point> deadline() const;

 private:
  friend WithCancel with_cancel(const Context& parent);
  friend WithCancel with_deadline_ns(const Context& parent, std::int64_t when);
  explicit Context(std::shared_ptr<detail::ContextImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<detail::ContextImpl> impl_;
};

// CancelFunc cancels its context (err() = canceled) and releases its resources; idempotent,
// callable from any thread.
struct CancelFunc {
  // impl: the context it cancels (not a public API).
  std::shared_ptr<detail::ContextImpl> impl;
  // cancel(): cancel the context.
  void operator()() const;
};

// WithCancel: what with_cancel, with_deadline and with_timeout return, for
// `auto [ctx, cancel] = weft::with_timeout(parent, 2s);`.
struct WithCancel {
  Context ctx;
  CancelFunc cancel;
};

// background: the root of every context tree (Go's context.Background()).
inline Context background() { return Context(); }

// with_deadline: a child canceled at tp (err() = deadline_exceeded) or when parent is, or by
// its cancel function. A parent's earlier deadline wins.
template <class Clock, class Duration>
WithCancel with_deadline(const Context& parent, std::chrono::time_point<Clock, Duration> tp) {
  return with_deadline_ns(parent, detail::deadline_at_ns(tp));
}

// with_timeout: with_deadline(parent, now + d).
template <class Rep, class Period>
WithCancel with_timeout(const Context& parent, std::chrono::duration<Rep, Period> d) {
  return with_deadline_ns(parent, detail::deadline_after_ns(d));
}

}  // namespace weft
