// sync_test: Mutex, RWMutex, WaitGroup, Cond, Once, Semaphore — Go's sync tests (HammerMutex,
// TestMutexFairness, HammerRWMutex, TestParallelReaders, TestWaitGroup, TestCondSignal,
// TestCondSignalGenerations, TestCondBroadcast, TestCondSignalStealing, TestOnce, TestOncePanic)
// at procs = 1, 2, 4.
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::each_procs;

using weft_test::rounds;

TEST_CASE("Mutex: std lockables, try_lock", "[unit][sync]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    Mutex m;
    CHECK(m.try_lock());
    CHECK_FALSE(m.try_lock());
    m.unlock();
    {
      std::lock_guard<Mutex> g(m);
      CHECK_FALSE(m.try_lock());
    }
    {
      std::unique_lock<Mutex> u(m);
      CHECK(u.owns_lock());
    }
    Mutex m2;
    {
      std::scoped_lock both(m, m2);
      CHECK_FALSE(m2.try_lock());
    }
    CHECK(m.try_lock());
    m.unlock();
  });
}

TEST_CASE("Mutex: mutual exclusion under contention (Go's HammerMutex)", "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    long counter = 0;  // deliberately not atomic: the mutex must protect it
    const int fibers = 10, iters = rounds(10000);
    rt.block_on([&] {
      Mutex m;
      WaitGroup wg;
      wg.add(fibers);
      for (int f = 0; f < fibers; ++f) {
        go([&] {
          for (int i = 0; i < iters; ++i) {
            std::lock_guard<Mutex> g(m);
            long v = counter;
            if (i % 64 == 0) yield();  // hold it across a reschedule now and then
            counter = v + 1;
          }
          wg.done();
        });
      }
      wg.wait();
    });
    CHECK(counter == long(fibers) * iters);
  });
}

TEST_CASE("Mutex: a fiber that waits gets the lock from a hog (Go's TestMutexFairness)",
          "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Mutex mu;
      Chan<bool> stop(0);
      WaitGroup hog_done;
      hog_done.add(1);
      go([&] {
        for (;;) {
          mu.lock();
          sleep_for(100us);
          mu.unlock();
          if (select(on_recv(stop), on_default()) == 0) break;
        }
        hog_done.done();
      });
      Chan<bool> done(1);
      go([&] {
        for (int i = 0; i < 10; ++i) {
          sleep_for(100us);
          mu.lock();
          mu.unlock();
        }
        done.send(true);
      });
      // Go's bound: 10 s (starvation mode makes it a few ms).
      CHECK(select(on_recv(done), on_after(10s)) == 0);
      stop.close();
      hog_done.wait();
    });
  });
}

TEST_CASE("Mutex: usable from a foreign thread when uncontended", "[unit][sync]") {
  Runtime rt(Config{.procs = 2});
  Mutex m;
  int shared = 0;
  m.lock();  // not a fiber: the free fast path
  shared = 1;
  m.unlock();
  rt.block_on([&] {
    std::lock_guard<Mutex> g(m);
    shared += 1;
  });
  CHECK(m.try_lock());
  CHECK(shared == 2);
  m.unlock();
}

TEST_CASE("RWMutex: readers share, writers exclude (Go's HammerRWMutex)", "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> violations{0};
    rt.block_on([&] {
      RWMutex rw;
      std::atomic<int> activity{0};
      const int readers = 10, iters = rounds(2000);
      WaitGroup wg;
      wg.add(readers + 2);
      auto writer = [&] {
        for (int i = 0; i < iters; ++i) {
          std::lock_guard<RWMutex> g(rw);
          int n = activity.fetch_add(10000) + 10000;
          if (n != 10000) ++violations;
          for (int k = 0; k < 10; ++k) yield();
          activity.fetch_sub(10000);
        }
        wg.done();
      };
      auto reader = [&] {
        for (int i = 0; i < iters; ++i) {
          std::shared_lock<RWMutex> g(rw);
          int n = activity.fetch_add(1) + 1;
          if (n < 1 || n >= 10000) ++violations;
          for (int k = 0; k < 3; ++k) yield();
          activity.fetch_sub(1);
        }
        wg.done();
      };
      go(writer);
      for (int r = 0; r < readers; ++r) go(reader);
      go(writer);
      wg.wait();
    });
    CHECK(violations.load() == 0);
  });
}

TEST_CASE("RWMutex: many readers hold it at once (Go's TestParallelReaders)", "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      RWMutex rw;
      const int n = 10;
      Chan<int> locked(n), release(0);
      WaitGroup wg;
      wg.add(n);
      for (int i = 0; i < n; ++i) {
        go([&] {
          rw.lock_shared();
          locked.send(1);
          release.recv();
          rw.unlock_shared();
          wg.done();
        });
      }
      for (int i = 0; i < n; ++i) locked.recv();  // all n inside together
      CHECK_FALSE(rw.try_lock());
      CHECK(rw.try_lock_shared());
      rw.unlock_shared();
      release.close();
      wg.wait();
      CHECK(rw.try_lock());
      CHECK_FALSE(rw.try_lock_shared());
      rw.unlock();
    });
  });
}

TEST_CASE("RWMutex: a waiting writer holds off new readers", "[unit][sync]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([&rt] {
    RWMutex rw;
    rw.lock_shared();
    std::vector<int> order;
    WaitGroup wg;
    wg.add(2);
    go([&] {
      rw.lock();
      order.push_back(1);
      rw.unlock();
      wg.done();
    });
    REQUIRE(weft_test::wait_until_waiting(rt, "sync.RWMutex.Lock", 1));
    go([&] {
      rw.lock_shared();  // must wait for the writer queued before it
      order.push_back(2);
      rw.unlock_shared();
      wg.done();
    });
    REQUIRE(weft_test::wait_until_waiting(rt, "sync.RWMutex.RLock", 1));
    rw.unlock_shared();
    wg.wait();
    CHECK(order == std::vector<int>{1, 2});
  });
}

TEST_CASE(
    "WaitGroup: wait returns after every done, and the group can be reused (Go's "
    "TestWaitGroup)",
    "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> early{0};
    rt.block_on([&] {
      WaitGroup wg1, wg2;
      const int n = 16;
      for (int round = 0; round < 8; ++round) {  // reuse, as Go's test does
        wg1.add(n);
        wg2.add(n);
        Chan<bool> exited(n);
        for (int i = 0; i < n; ++i) {
          go([&] {
            wg1.done();
            wg2.wait();
            exited.send(true);
          });
        }
        wg1.wait();
        for (int i = 0; i < n; ++i) {
          if (exited.try_recv()) ++early;  // nobody may pass wg2 yet
          wg2.done();
        }
        for (int i = 0; i < n; ++i) exited.recv();
      }
      WaitGroup zero;
      zero.wait();  // zero counter: returns at once
    });
    CHECK(early.load() == 0);
  });
}

TEST_CASE("WaitGroup: done from foreign threads releases a waiting fiber", "[unit][sync]") {
  Runtime rt(Config{.procs = 2});
  WaitGroup wg;
  wg.add(4);
  std::atomic<bool> passed{false};
  rt.spawn([&] {
    wg.wait();
    passed = true;
  });
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) ts.emplace_back([&] { wg.done(); });
  for (auto& t : ts) t.join();
  REQUIRE(weft_test::settles(rt));
  CHECK(passed.load());
}

TEST_CASE(
    "Cond: signal wakes one waiter; waiters wake in order (Go's TestCondSignal, "
    "TestCondSignalGenerations)",
    "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::vector<int> wrong;
    rt.block_on([&] {
      Mutex m;
      Cond c;
      const int n = 100;
      Chan<bool> running(n);
      Chan<int> awake(n);
      WaitGroup wg;
      wg.add(n);
      for (int i = 0; i < n; ++i) {
        go([&, i] {
          std::unique_lock<Mutex> lk(m);
          running.send(true);
          c.wait(lk);
          awake.send(i);
          lk.unlock();  // before done(): m dies when the test body returns
          wg.done();
        });
        if (i > 0) {
          int a = *awake.recv();
          if (a != i - 1) wrong.push_back(a);
        }
        running.recv();
        std::lock_guard<Mutex> g(m);
        c.signal();
      }
      int last = *awake.recv();
      if (last != n - 1) wrong.push_back(last);
      wg.wait();
    });
    CHECK(wrong.empty());
  });
}

TEST_CASE("Cond: broadcast wakes every waiter (Go's TestCondBroadcast)", "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Mutex m;
      Cond c;
      const int n = 50;
      int generation = 0;
      Chan<int> awake(n);
      Chan<bool> running(n);
      WaitGroup wg;
      wg.add(n);
      for (int i = 0; i < n; ++i) {
        go([&] {
          std::unique_lock<Mutex> lk(m);
          running.send(true);
          int g = generation;
          c.wait(lk, [&] { return generation != g; });
          awake.send(generation);
          lk.unlock();  // before done(): m dies when the test body returns
          wg.done();
        });
      }
      for (int i = 0; i < n; ++i) running.recv();
      {
        std::lock_guard<Mutex> g(m);
        ++generation;
        c.broadcast();
      }
      wg.wait();
      int total = 0;
      for (int i = 0; i < n; ++i) total += *awake.recv();
      CHECK(total == n);
    });
  });
}

TEST_CASE(
    "Cond: a later waiter cannot steal a broadcast from an earlier one (Go's "
    "TestCondSignalStealing)",
    "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    std::atomic<int> missed{0};
    rt.block_on([&] {
      for (int iter = 0; iter < rounds(300); ++iter) {
        Mutex m;
        Cond cond;
        Chan<bool> ch(0);
        // ch by value: main's select takes the second send and readies this fiber, which may
        // not have run again when the last iteration's ch dies and the runtime shuts down;
        // shutdown then unwinds it out of its send, which locks the channel to unlink its wait
        // record. A fiber parked on a channel must hold a Chan of its own (chan.cpp). m and
        // cond are not touched after lk.unlock().
        go([&, ch] {
          std::unique_lock<Mutex> lk(m);
          ch.send(true);
          cond.wait(lk);
          lk.unlock();
          ch.send(true);
        });
        ch.recv();
        m.lock();  // the waiter is inside wait() once we get the mutex it held
        m.unlock();
        bool done = false;
        WaitGroup wg;
        wg.add(2);
        go([&] {
          cond.broadcast();
          wg.done();
        });
        go([&] {
          std::unique_lock<Mutex> lk(m);
          while (!done) cond.wait(lk);
          lk.unlock();  // before done(): m dies with this iteration
          wg.done();
        });
        if (select(on_recv(ch), on_after(2s)) != 0) ++missed;
        {
          std::lock_guard<Mutex> g(m);
          done = true;
        }
        cond.broadcast();
        wg.wait();
      }
    });
    CHECK(missed.load() == 0);
  });
}

TEST_CASE(
    "Once: runs once under concurrency; a throwing function still counts (Go's TestOnce, "
    "TestOncePanic)",
    "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Once once;
      std::atomic<int> calls{0};
      std::atomic<int> saw_unset{0};
      WaitGroup wg;
      wg.add(10);
      for (int i = 0; i < 10; ++i) {
        go([&] {
          once.call([&] {
            yield();  // others arrive meanwhile and must wait
            ++calls;
          });
          if (calls.load() != 1) ++saw_unset;  // call returns only after f finished
          wg.done();
        });
      }
      wg.wait();
      CHECK(calls.load() == 1);
      CHECK(saw_unset.load() == 0);
      CHECK(once.done());

      Once p;
      CHECK_THROWS_AS(p.call([] { throw std::runtime_error("boom"); }), std::runtime_error);
      bool ran = false;
      p.call([&] { ran = true; });
      CHECK_FALSE(ran);
    });
  });
}

TEST_CASE("Semaphore: counts, try_acquire, FIFO waiters", "[unit][sync]") {
  each_procs([](unsigned procs) {
    Runtime rt(Config{.procs = procs});
    rt.block_on([] {
      Semaphore s(2);
      CHECK(s.try_acquire());
      CHECK(s.try_acquire());
      CHECK_FALSE(s.try_acquire());
      s.release(2);
      CHECK(s.available() == 2);
      // At most 3 of 20 fibers inside at once.
      Semaphore limit(3);
      std::atomic<int> inside{0}, peak{0};
      WaitGroup wg;
      wg.add(20);
      for (int i = 0; i < 20; ++i) {
        go([&] {
          limit.acquire();
          int n = ++inside;
          int p = peak.load();
          while (n > p && !peak.compare_exchange_weak(p, n)) {
          }
          sleep_for(200us);
          --inside;
          limit.release();
          wg.done();
        });
      }
      wg.wait();
      CHECK(peak.load() <= 3);
      CHECK(peak.load() >= 1);
      CHECK(limit.available() == 3);
    });
  });
}

TEST_CASE("Semaphore: waiters are served in arrival order", "[unit][sync]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([&rt] {
    Semaphore s(0);
    std::vector<int> order;
    WaitGroup wg;
    wg.add(5);
    for (int i = 0; i < 5; ++i) {
      go([&, i] {
        s.acquire();
        order.push_back(i);
        wg.done();
      });
      REQUIRE(weft_test::wait_until_waiting(rt, "semacquire", i + 1));
    }
    // One unit at a time, so the order of grants shows (a burst of readies runs LIFO through
    // runnext, as in Go).
    for (std::size_t i = 0; i < 5; ++i) {
      s.release();
      while (order.size() == i) yield();
    }
    wg.wait();
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  });
}
