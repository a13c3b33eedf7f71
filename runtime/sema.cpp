// sema: counting semaphores of parked fibers (Go's semacquire/semrelease); invariants in
// sema.hpp.
#include "sema.hpp"

#include <weft/detail/spawn.hpp>

#include <mutex>

#include <weft/weft.hpp>

#include "chan.hpp"
#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

namespace {

struct SudogKey {
  using type = std::uintptr_t;
  type operator()(const Sudog& s) const { return s.key; }
};
using SemaTree =
    bi::set<Sudog, bi::member_hook<Sudog, decltype(Sudog::tree_hook), &Sudog::tree_hook>,
            bi::key_of_value<SudogKey>, bi::constant_time_size<false>>;

struct alignas(64) SemaRoot {
  Lock lock;
  std::atomic<std::uint32_t> nwait{0};  // A2
  SemaTree tree;                        // A1
};

constexpr std::size_t kSemTabSize = 251;  // Go's semTabSize: a prime
SemaRoot semtable[kSemTabSize];

SemaRoot* semroot(std::atomic<std::uint32_t>* addr) {
  return &semtable[(reinterpret_cast<std::uintptr_t>(addr) >> 3) % kSemTabSize];
}

bool cansemacquire(std::atomic<std::uint32_t>* addr) {
  std::uint32_t v = addr->load();
  while (v != 0) {
    if (addr->compare_exchange_weak(v, v - 1)) return true;
  }
  return false;
}

// queue adds s as a waiter for key (A1); lifo puts it first.
void sema_queue(SemaRoot* root, std::uintptr_t key, Sudog* s, bool lifo) {
  s->key = key;
  s->waitlink = nullptr;
  s->waittail = nullptr;
  auto it = root->tree.find(key);
  if (it == root->tree.end()) {
    root->tree.insert_unique(*s);
    return;
  }
  Sudog* t = &*it;
  if (lifo) {  // s replaces t as the head; t leads the rest
    root->tree.replace_node(it, *s);
    s->waitlink = t;
    s->waittail = t->waittail ? t->waittail : t;
    t->waittail = nullptr;
  } else {
    (t->waittail ? t->waittail : t)->waitlink = s;
    t->waittail = s;
  }
}

// sema_dequeue removes and returns the first waiter for key, or null.
Sudog* sema_dequeue(SemaRoot* root, std::uintptr_t key) {
  auto it = root->tree.find(key);
  if (it == root->tree.end()) return nullptr;
  Sudog* s = &*it;
  if (Sudog* t = s->waitlink) {  // the next waiter becomes the head
    root->tree.replace_node(it, *t);
    t->waittail = t->waitlink ? s->waittail : nullptr;
  } else {
    root->tree.erase(it);
  }
  s->waitlink = nullptr;
  s->waittail = nullptr;
  return s;
}

// sema_remove takes s out of key's waiters if it is still there (a fiber unwound by shutdown).
bool sema_remove(SemaRoot* root, std::uintptr_t key, Sudog* s) {
  auto it = root->tree.find(key);
  if (it == root->tree.end()) return false;
  Sudog* head = &*it;
  if (head == s) {
    sema_dequeue(root, key);
    return true;
  }
  for (Sudog* prev = head; prev->waitlink; prev = prev->waitlink) {
    if (prev->waitlink != s) continue;
    prev->waitlink = s->waitlink;
    if (head->waittail == s) head->waittail = prev == head ? nullptr : prev;
    s->waitlink = nullptr;
    return true;
  }
  return false;
}

bool semroot_unlock(G*, void* arg) {  // A3
  static_cast<SemaRoot*>(arg)->lock.unlock();
  return true;
}

}  // namespace

void semacquire1(std::atomic<std::uint32_t>* addr, bool lifo, WaitReason reason) {
  if (cansemacquire(addr)) return;
  G* gp = current_g();
  if (!gp) fatal("%s: cannot park outside a fiber", wait_reason_name(reason));
  SemaRoot* root = semroot(addr);
  std::uintptr_t key = reinterpret_cast<std::uintptr_t>(addr);
  Sudog s;
  s.g = gp;
  for (;;) {
    root->lock.lock();
    root->nwait.fetch_add(1);  // A2: before the final check
    if (cansemacquire(addr)) {
      root->nwait.fetch_sub(1);
      root->lock.unlock();
      return;
    }
    s.ticket = 0;
    sema_queue(root, key, &s, lifo);
    try {
      gopark(semroot_unlock, root, reason);
    } catch (const ForcedUnwind&) {
      std::lock_guard<Lock> lk(root->lock);
      if (sema_remove(root, key, &s)) root->nwait.fetch_sub(1);
      throw;
    }
    if (s.ticket != 0 || cansemacquire(addr)) return;  // A4
  }
}

void semrelease1(std::atomic<std::uint32_t>* addr, bool handoff) {
  SemaRoot* root = semroot(addr);
  addr->fetch_add(1);
  if (root->nwait.load() == 0) return;  // A2: after the add
  root->lock.lock();
  if (root->nwait.load() == 0) {  // someone else woke the waiter
    root->lock.unlock();
    return;
  }
  Sudog* s = sema_dequeue(root, reinterpret_cast<std::uintptr_t>(addr));
  if (s) root->nwait.fetch_sub(1);
  root->lock.unlock();
  if (!s) return;
  bool handed = handoff && cansemacquire(addr);
  if (handed) s->ticket = 1;           // A4: the unit is the waiter's
  goready(s->g);                       // s dies once its fiber runs: no access after this
  if (handed && current_g()) yield();  // let the waiter run now, ahead of newcomers
}

}  // namespace weft::detail
