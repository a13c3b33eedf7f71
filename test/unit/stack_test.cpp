// stack_test: the stack pool — guarded and slab layouts, canaries, release, and the map budget.
#include <sys/mman.h>

#include <cstring>
#include <set>

#include "../support.hpp"
#include "os_linux.hpp"
#include "parkslot.hpp"
#include "proc.hpp"
#include "stack.hpp"

using namespace weft::detail;

TEST_CASE("guarded stacks have a PROT_NONE page below them", "[unit][stack]") {
  StackPool pool;
  pool.init(true);
  Stack s = pool.alloc(64 * 1024);
  CHECK(s.guarded);
  CHECK(s.size == 64 * 1024);
  CHECK(reinterpret_cast<std::uintptr_t>(s.lo) % page_size() == 0);
  // mincore/mprotect tell us nothing about protection; reading /proc/self/maps does.
  FILE* f = std::fopen("/proc/self/maps", "r");
  REQUIRE(f);
  char line[512];
  bool found_guard = false, found_stack = false;
  auto guard = reinterpret_cast<std::uintptr_t>(s.lo) - page_size();
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perms[5];
    if (std::sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (lo <= guard && guard < hi) found_guard = std::strncmp(perms, "---p", 4) == 0;
    auto sl = reinterpret_cast<std::uintptr_t>(s.lo);
    if (lo <= sl && sl < hi) found_stack = std::strncmp(perms, "rw-p", 4) == 0;
  }
  std::fclose(f);
  CHECK(found_guard);
  CHECK(found_stack);
  std::memset(s.lo, 0x5a, s.size);  // the whole usable range is writable
}

TEST_CASE("slab stacks are disjoint and their canaries live below lo", "[unit][stack]") {
  StackPool pool;
  pool.init(false);
  std::vector<Stack> ss;
  for (int i = 0; i < 200; ++i) ss.push_back(pool.alloc(32 * 1024));
  std::set<char*> los;
  for (std::size_t i = 0; i < ss.size(); ++i) {
    const Stack& s = ss[i];
    CHECK_FALSE(s.guarded);
    CHECK(s.size == 32 * 1024 - 64);
    CHECK(los.insert(s.lo).second);
    StackPool::canary_arm(s);
  }
  // Filling every stack completely leaves every canary intact: they are outside all stacks.
  for (const Stack& s : ss) std::memset(s.lo, 0xee, s.size);
  for (const Stack& s : ss) CHECK(StackPool::canary_ok(s));
  // Writing just below one stack's lo (an overflow) breaks exactly that canary.
  std::memset(ss[5].lo - 8, 0xab, 8);
  CHECK_FALSE(StackPool::canary_ok(ss[5]));
  CHECK(StackPool::canary_ok(ss[6]));
  CHECK(pool.slab_count() == 200);
  CHECK(pool.guarded_count() == 0);
}

TEST_CASE("released slab pages read as zero and a zero canary is accepted", "[unit][stack]") {
  StackPool pool;
  pool.init(false);
  Stack a = pool.alloc(32 * 1024);
  Stack b = pool.alloc(32 * 1024);  // b's canary sits in a's top page
  REQUIRE(b.lo > a.lo);
  StackPool::canary_arm(b);
  std::memset(a.lo, 1, a.size);
  StackPool::release(a);
  CHECK(a.lo[0] == 0);
  CHECK(a.lo[a.size - 1] == 0);
  CHECK(StackPool::canary_ok(b));
}

TEST_CASE("release returns touched pages to the kernel", "[unit][stack]") {
  StackPool pool;
  pool.init(true);
  Stack s = pool.alloc(8 * 1024 * 1024);
  long before = weft_test::rss_bytes();
  std::memset(s.lo, 1, s.size);
  long touched = weft_test::rss_bytes();
  StackPool::release(s);
  long after = weft_test::rss_bytes();
  CHECK(touched - before >= 7 * 1024 * 1024);
  CHECK(touched - after >= 6 * 1024 * 1024);  // of 8 MiB (ASan builds touch shadow memory too)
}

TEST_CASE("stacks of free fibers that stay unused go back to the kernel (scavenge)",
          "[unit][stack]") {
  weft::Runtime rt(weft::Config{.procs = 1});
  // TSan: live fibers count as threads, and each costs TSan a thread context (~5 ms).
  const int kFibers = weft_test::kSanitized ? 3000 : 20000;
  std::vector<ParkSlot> slots(static_cast<std::size_t>(kFibers));
  std::atomic<int> parked{0};
  long peak = 0;
  rt.block_on([&] {
    for (int i = 0; i < kFibers; ++i) {
      weft::go([&, i] {
        char touch[8192];  // dirty three pages of this stack
        std::memset(touch, 1, sizeof touch);
        asm volatile("" : : "r"(touch) : "memory");
        parked.fetch_add(1);
        parkslot_wait(&slots[std::size_t(i)]);
      });
    }
    while (parked.load() < kFibers) weft::yield();
    peak = weft_test::rss_bytes();
    for (auto& s : slots) parkslot_signal(&s);
  });
  REQUIRE(weft_test::settles(rt));
  Sched* s = weft_test::sched_of(rt);
  // Two passes with nothing reusing the free fibers in between: the first sets the low-water
  // mark, the second releases what stayed below it. sysmon's own passes may do part of it; one
  // in progress finishes (and counts) before ours start (Sched::scavlock).
  scavenge_stacks(s);
  scavenge_stacks(s);
  long after = weft_test::rss_bytes();
  std::size_t released = s->nscavenged.load();
  INFO("released " << released << ", RSS " << peak / 1048576 << " -> " << after / 1048576
                   << " MiB");
  CHECK(released >= std::size_t(kFibers - 2048 - 64));
  if (!weft_test::kSanitized) {  // sanitizers' shadow memory grows RSS on its own
    CHECK(peak - after >= long(kFibers - 4096) * 8192);  // at least two of three pages each
  }
}
