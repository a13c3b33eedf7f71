// chan: Go's channels and select for fibers — weft::Chan<T>, weft::select and its cases.
// The machinery is runtime/chan.cpp and runtime/select.cpp (Go's chan.go and select.go).
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <weft/detail/chan.hpp>
#include <weft/detail/deadline.hpp>

namespace weft {

// Chan<T> is a channel of T with Go's semantics and reference semantics: copies share one
// channel, which lives while any copy (or a fiber blocked on it) does; operations are const, as
// on a shared_ptr, since they change the channel, not the handle. A default-constructed Chan
// is Go's nil channel: sends and receives on it block forever and select never picks it.
//
//   Chan<int> ch(10);            // capacity 10; Chan<int>(0) is unbuffered
//   ch.send(1);                  // blocks while full; throws closed_channel if closed
//   std::optional<int> v = ch.recv();   // blocks while empty; nullopt once closed and drained
//   ch.close();
//
// Blocking operations park the calling fiber (never its thread); called outside a fiber they are
// a fatal error. try_send, try_recv, close, len and cap work from any thread. T needs only to be
// move-constructible; moves happen with the channel locked, so T's move constructor must not
// throw (if it does, the program ends).
template <class T>
class Chan {
  static_assert(std::is_move_constructible_v<T>, "weft::Chan<T>: T must be move-constructible");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>,
                "weft::Chan<T>: T must be a non-const object type");

 public:
  // value_type: the element type, T.
  using value_type = T;

  // A nil channel.
  Chan() noexcept = default;
  // A channel holding up to cap values; cap 0 makes every send wait for a receiver. A buffer
  // beyond 1 TiB throws std::length_error.
  explicit Chan(std::size_t cap)
      : c_(detail::makechan(&detail::ElemOpsFor<T>::ops, sizeof(T), alignof(T), cap)) {}

  // Copies share the channel (reference counted); a moved-from Chan is nil.
  Chan(const Chan& o) noexcept : c_(o.c_) {
    if (c_) detail::chan_retain(c_);
  }
  Chan(Chan&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Chan& operator=(Chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~Chan() {
    if (c_) detail::chan_release(c_);
  }

  // send delivers v: straight to a waiting receiver, else into the buffer, else it parks until a
  // receiver takes it. Throws closed_channel if the channel is closed (also if it gets closed
  // while this send waits); v is then left as it was.
  void send(T&& v) const { detail::chansend(c_, &v, true); }
  void send(const T& v) const requires std::copy_constructible<T> {
    T copy(v);
    detail::chansend(c_, &copy, true);
  }

  // recv takes the next value, parking while there is none. nullopt: closed and drained.
  std::optional<T> recv() const { return take(true).second; }

  // try_send sends only if that needs no wait; false (v untouched) otherwise. Throws
  // closed_channel on a closed channel.
  bool try_send(T&& v) const { return detail::chansend(c_, &v, false); }
  bool try_send(const T& v) const requires std::copy_constructible<T> {
    T copy(v);
    return detail::chansend(c_, &copy, false);
  }

  // try_recv takes a value only if one is available now; nullopt when none is (or the channel
  // is closed and drained: see try_recv_status for telling the two apart).
  std::optional<T> try_recv() const { return take(false).second; }

  // RecvStatus: Go's `v, ok := <-ch` for the non-blocking case.
  enum class RecvStatus { received, empty, closed };
  // try_recv_status is try_recv that also says why nothing came: empty now, or closed and
  // drained.
  std::pair<RecvStatus, std::optional<T>> try_recv_status() const {
    auto [selected, v] = take(false);
    if (v) return {RecvStatus::received, std::move(v)};
    return {selected ? RecvStatus::closed : RecvStatus::empty, std::nullopt};
  }

  // close: no more sends; receivers drain the buffer, then get nullopt. Closing a closed or a
  // nil channel throws closed_channel.
  void close() const { detail::closechan(c_); }

  // len: values buffered now (racy, like Go's len(ch)); cap: the capacity.
  std::size_t len() const noexcept { return detail::chanlen(c_); }
  std::size_t cap() const noexcept { return detail::chancap(c_); }

  // A Chan is true unless it is nil; two Chans are equal when they are the same channel.
  explicit operator bool() const noexcept { return c_ != nullptr; }
  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.c_ == b.c_; }

  // For select (not a public API).
  detail::Hchan* hchan() const noexcept { return c_; }

 private:
  std::pair<bool, std::optional<T>> take(bool block) const {
    alignas(T) unsigned char buf[sizeof(T)];
    detail::RecvResult r = detail::chanrecv(c_, buf, block);
    if (!r.received) return {r.selected, std::nullopt};
    T* p = std::launder(reinterpret_cast<T*>(buf));
    std::pair<bool, std::optional<T>> out{true, std::optional<T>(std::move(*p))};
    p->~T();
    return out;
  }

  detail::Hchan* c_ = nullptr;
};

namespace detail {

struct NoOp {
  void operator()() const noexcept {}
};

template <class T, class F>
struct RecvCase {
  Chan<T> ch;
  F f;
  alignas(T) unsigned char buf[sizeof(T)];
  static constexpr bool kChannel = true;

  SelectCase make() { return {ch.hchan(), buf, false}; }
  void finish(bool received) {
    std::optional<T> v;
    if (received) {
      T* p = std::launder(reinterpret_cast<T*>(buf));
      v.emplace(std::move(*p));
      p->~T();
    }
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      std::invoke(f, std::move(v));
    } else {
      static_assert(std::is_invocable_v<F&>,
                    "weft::on_recv: the callback takes std::optional<T> or nothing");
      std::invoke(f);
    }
  }
};

template <class T, class F>
struct SendCase {
  Chan<T> ch;
  T v;
  F f;
  static constexpr bool kChannel = true;

  SelectCase make() { return {ch.hchan(), &v, true}; }
  void finish(bool) { std::invoke(f); }
};

template <class F>
struct AfterCase {
  std::int64_t when;
  F f;
  static constexpr bool kChannel = false;
  void finish(bool) { std::invoke(f); }
};

template <class F>
struct DefaultCase {
  F f;
  static constexpr bool kChannel = false;
  void finish(bool) { std::invoke(f); }
};

template <class C>
struct IsAfter : std::false_type {};
template <class F>
struct IsAfter<AfterCase<F>> : std::true_type {};
template <class C>
struct IsDefault : std::false_type {};
template <class F>
struct IsDefault<DefaultCase<F>> : std::true_type {};

}  // namespace detail

// on_recv(ch, f): a select case receiving from ch; f gets std::optional<T> (nullopt: ch is
// closed and drained), or nothing.
template <class T, class F = detail::NoOp>
detail::RecvCase<T, std::decay_t<F>> on_recv(const Chan<T>& ch, F&& f = {}) {
  return {ch, std::forward<F>(f), {}};
}

// on_send(ch, v, f): a select case sending v on ch; f runs if it is chosen. A send case on a
// closed channel makes select throw closed_channel (when chosen, as in Go).
template <class T, class U, class F = detail::NoOp>
requires std::constructible_from<T, U&&> detail::SendCase<T, std::decay_t<F>> on_send(
    const Chan<T>& ch, U&& v, F&& f = {}) {
  return {ch, T(std::forward<U>(v)), std::forward<F>(f)};
}

// on_after(d, f): a select case ready once d has passed since select began (Go's
// `case <-time.After(d)`, without the channel). d <= 0 is ready at once.
template <class Rep, class Period, class F = detail::NoOp>
detail::AfterCase<std::decay_t<F>> on_after(std::chrono::duration<Rep, Period> d, F&& f = {}) {
  return {detail::deadline_after_ns(d), std::forward<F>(f)};
}

// on_default(f): makes select non-blocking; f runs when no other case is ready.
template <class F = detail::NoOp>
detail::DefaultCase<std::decay_t<F>> on_default(F&& f = {}) {
  return {std::forward<F>(f)};
}

// select waits until one of its cases can proceed, runs it and its callback, and returns the
// case's position in the argument list (Go's select statement). Ready cases are chosen uniformly
// at random; nil channels are never ready; the same channel may appear in several cases; with
// on_default nothing waits. At most one on_after and one on_default. select() with no cases (or
// only nil channels) blocks forever, like Go's `select {}`.
template <class... Cases>
int select(Cases&&... cases) {
  using namespace detail;
  constexpr int kAfters = (0 + ... + int(IsAfter<std::decay_t<Cases>>::value));
  constexpr int kDefaults = (0 + ... + int(IsDefault<std::decay_t<Cases>>::value));
  static_assert(kAfters <= 1, "weft::select: at most one on_after case");
  static_assert(kDefaults <= 1, "weft::select: at most one on_default case");
  constexpr int kChans = (0 + ... + int(std::decay_t<Cases>::kChannel));
  static_assert(kChans < 32768, "weft::select: too many cases");

  SelectCase sc[kChans > 0 ? kChans : 1];
  std::uint16_t scratch[kChans > 0 ? 2 * kChans : 2];
  int arg_of[kChans > 0 ? kChans : 1] = {};  // channel case -> argument position
  std::int64_t when = 0;
  int after_arg = -1, default_arg = -1;
  {
    int k = 0, pos = 0;
    auto add = [&](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (C::kChannel) {
        sc[k] = c.make();
        arg_of[k++] = pos;
      } else if constexpr (IsAfter<C>::value) {
        when = c.when > 0 ? c.when : 1;
        after_arg = pos;
      } else {
        default_arg = pos;
      }
      ++pos;
    };
    (add(cases), ...);
  }
  SelectResult r = selectgo(sc, kChans, scratch, when, default_arg < 0);
  int chosen = r.index < 0 ? default_arg : after_arg;
  if constexpr (kChans > 0) {
    if (r.index >= 0 && r.index < kChans) chosen = arg_of[r.index];
  }
  {
    int pos = 0;
    auto fin = [&](auto& c) {
      if (pos++ == chosen) c.finish(r.received);
    };
    (fin(cases), ...);
  }
  return chosen;
}

}  // namespace weft
