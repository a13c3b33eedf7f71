// sema: a FIFO counting semaphore of parked fibers (Go's semacquire/semrelease); invariants in
// sema.hpp.
#include "sema.hpp"

#include <weft/detail/spawn.hpp>

#include <mutex>

#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

bool sema_unlock(G*, void* arg) {  // S2: the waiter is parked now; releasers may see it
  static_cast<Sema*>(arg)->lock.unlock();
  return true;
}

}  // namespace

void semacquire(Sema* s, WaitReason reason) {
  G* gp = current_g();
  if (!gp) fatal("%s: cannot park outside a fiber", wait_reason_name(reason));
  s->lock.lock();
  if (s->count > 0) {
    --s->count;
    s->lock.unlock();
    return;
  }
  s->waiters.push_back(*gp);
  try {
    gopark(sema_unlock, s, reason);  // S2: the lock is released on g0, after the switch
  } catch (const ForcedUnwind&) {
    // Unwound while parked (shutdown): leave the queue, so no release readies a gone waiter.
    std::lock_guard<Lock> lk(s->lock);
    for (auto prev = s->waiters.before_begin(), it = s->waiters.begin(); it != s->waiters.end();
         prev = it++) {
      if (&*it == gp) {
        s->waiters.erase_after(prev);
        break;
      }
    }
    throw;
  }
}

void semrelease(Sema* s) {
  s->lock.lock();
  if (s->waiters.empty()) {
    ++s->count;
    s->lock.unlock();
    return;
  }
  G* gp = &s->waiters.front();
  s->waiters.pop_front();
  s->lock.unlock();
  goready(gp);
}

}  // namespace weft::detail
