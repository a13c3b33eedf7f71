// context: cancellation trees with deadlines (weft/context.hpp). Follows Go's
// src/context/context.go (cancelCtx, timerCtx, propagateCancel).
//
// Invariants (guarded by ContextImpl::mu):
//  X1. err goes from empty to set once; done is closed in the same critical section, so a reader
//      that sees done closed and then reads err sees it set.
//  X2. A live child is listed in its parent's children (weak: a child nobody holds can go) until
//      it is canceled; cancelling a parent takes the list under the parent's lock and cancels
//      each child after unlocking, so locks are only ever held one at a time.
//  X3. A context with a deadline owns a runtime timer holding a reference to it; cancel stops and
//      releases the timer, so an early cancel frees the context at once.
#include <weft/context.hpp>

#include <mutex>
#include <unordered_map>

#include "lock_futex.hpp"
#include "proc.hpp"
#include "time.hpp"

namespace weft {

namespace detail {

struct ContextImpl : std::enable_shared_from_this<ContextImpl> {
  Chan<std::monostate> done{0};       // immutable handle; closed on cancel (X1)
  std::int64_t deadline = 0;          // immutable; 0: none
  std::weak_ptr<ContextImpl> parent;  // immutable
  Lock mu;
  std::error_code err;                                                    // X1
  std::unordered_map<ContextImpl*, std::weak_ptr<ContextImpl>> children;  // X2
  TimerState* timer = nullptr;                                            // X3
};

namespace {

void cancel(ContextImpl* c, std::error_code why, bool remove_from_parent) {
  std::unordered_map<ContextImpl*, std::weak_ptr<ContextImpl>> children;
  TimerState* timer;
  {
    std::lock_guard<Lock> lk(c->mu);
    if (c->err) return;  // already canceled
    c->err = why;
    c->done.close();
    children.swap(c->children);
    timer = std::exchange(c->timer, nullptr);
  }
  for (auto& [raw, weak] : children) {
    if (auto child = weak.lock()) cancel(child.get(), why, false);
  }
  if (remove_from_parent) {
    if (auto p = c->parent.lock()) {
      std::lock_guard<Lock> lk(p->mu);
      p->children.erase(c);
    }
  }
  if (timer) timer_free(timer);  // X3 (from the timer's own fire, it is simply recycled)
}

void deadline_fire(void* owner) {
  cancel(static_cast<ContextImpl*>(owner), context_errc::deadline_exceeded, true);
}

// make_child creates a child of parent and links it (Go's propagateCancel).
std::shared_ptr<ContextImpl> make_child(const std::shared_ptr<ContextImpl>& parent,
                                        std::int64_t deadline) {
  auto c = std::make_shared<ContextImpl>();
  c->deadline = deadline;
  if (!parent) return c;
  c->parent = parent;
  std::error_code perr;
  {
    std::lock_guard<Lock> lk(parent->mu);
    perr = parent->err;
    if (!perr) parent->children.emplace(c.get(), c);
  }
  if (perr) cancel(c.get(), perr, false);  // the parent is already done
  return c;
}

class ContextCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "weft.context"; }
  std::string message(int ev) const override {
    switch (static_cast<context_errc>(ev)) {
      case context_errc::canceled:
        return "context canceled";
      case context_errc::deadline_exceeded:
        return "context deadline exceeded";
    }
    return "unknown context error";
  }
};

}  // namespace

}  // namespace detail

const std::error_category& context_category() noexcept {
  static const detail::ContextCategory cat;
  return cat;
}

Chan<std::monostate> Context::done() const { return impl_ ? impl_->done : Chan<std::monostate>(); }

std::error_code Context::err() const {
  if (!impl_) return {};
  std::lock_guard<detail::Lock> lk(impl_->mu);
  return impl_->err;
}

std::optional<std::chrono::steady_clock::time_point> Context::deadline() const {
  if (!impl_ || impl_->deadline == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(impl_->deadline));
}

void CancelFunc::operator()() const {
  if (impl) detail::cancel(impl.get(), context_errc::canceled, true);
}

WithCancel with_cancel(const Context& parent) {
  auto c = detail::make_child(parent.impl_, parent.impl_ ? parent.impl_->deadline : 0);
  return {Context(c), CancelFunc{c}};
}

WithCancel with_deadline_ns(const Context& parent, std::int64_t when) {
  if (when <= 0) when = 1;
  std::int64_t pd = parent.impl_ ? parent.impl_->deadline : 0;
  if (pd != 0 && pd <= when) return with_cancel(parent);  // the parent's deadline comes first
  auto c = detail::make_child(parent.impl_, when);
  if (when <= detail::nanotime()) {
    detail::cancel(c.get(), context_errc::deadline_exceeded, true);
    return {Context(c), CancelFunc{c}};
  }
  detail::Sched* s = detail::current_sched("weft::with_deadline");
  std::lock_guard<detail::Lock> lk(c->mu);
  if (!c->err) {  // not canceled by its parent meanwhile
    c->timer = detail::timer_start_fn(s, c, detail::deadline_fire, when);
  }
  return {Context(c), CancelFunc{c}};
}

}  // namespace weft
