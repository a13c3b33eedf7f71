// lock_test: the scheduler's spin-then-futex Lock — mutual exclusion under contention, wakeup
// of sleepers, try_lock.
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "lock_futex.hpp"

using weft::detail::Lock;

TEST_CASE("Lock excludes: 4 threads x 200,000 non-atomic increments", "[unit][lock]") {
  Lock mu;
  long counter = 0;  // guarded by mu
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 200000; ++i) {
        std::lock_guard<Lock> lk(mu);
        ++counter;
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(counter == 800000);
}

TEST_CASE("Lock wakes a thread that went to sleep on it", "[unit][lock]") {
  Lock mu;
  mu.lock();
  std::atomic<bool> got{false};
  std::thread t([&] {
    mu.lock();  // spins, then sleeps on the futex: the holder keeps it for 50 ms
    got = true;
    mu.unlock();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(got.load());
  mu.unlock();
  t.join();
  CHECK(got.load());
}

TEST_CASE("Lock::try_lock fails while held and succeeds after", "[unit][lock]") {
  Lock mu;
  CHECK(mu.try_lock());
  CHECK_FALSE(mu.try_lock());
  mu.unlock();
  CHECK(mu.try_lock());
  mu.unlock();
}
