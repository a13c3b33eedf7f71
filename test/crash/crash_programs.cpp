// crash_programs: programs that must die with a weft message; crash_test runs each by name.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <weft/weft.hpp>

#include "fd_mutex.hpp"
#include "netpoll.hpp"
#include "parkslot.hpp"
#include "proc.hpp"

using namespace weft;

namespace {

// parked_fibers: how many fibers of the caller's runtime are parked — those the fiber dump shows
// with a wait reason rather than running, runnable or in a blocking call.
int parked_fibers() {
  std::ostringstream os;
  dump_fibers(os);
  std::istringstream in(os.str());
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    std::size_t at = line.find(" [");
    if (line.rfind("fiber ", 0) != 0 || at == std::string::npos) continue;
    std::string what = line.substr(at + 2);
    if (what.rfind("running", 0) != 0 && what.rfind("runnable", 0) != 0 &&
        what.rfind("blocking call", 0) != 0) {
      ++n;
    }
  }
  return n;
}

// Recursion deeper than any stack here (bounded only by an opaque limit, so the compiler can
// neither prove it infinite nor turn it into a loop).
volatile long g_limit = 1L << 40;

__attribute__((noinline)) int recurse(volatile char* prev, long depth) {
  volatile char frame[256];
  frame[0] = char(depth);
  frame[255] = prev ? prev[0] : 0;
  if (depth >= g_limit) return frame[0];
  return recurse(frame, depth + 1) + frame[0];
}

// Recursion to a fixed depth of ~1 KiB frames, then back.
__attribute__((noinline)) int dig(int depth) {
  volatile char frame[1024];
  std::memset(const_cast<char*>(frame), 0xab, sizeof frame);
  if (depth == 0) return frame[3];
  return dig(depth - 1) + frame[7];
}

int overflow_guarded() {
  return run(
      [] {
        weft::detail::ParkSlot done;
        go([&] {
          recurse(nullptr, 0);
          weft::detail::parkslot_signal(&done);
        });
        weft::detail::parkslot_wait(&done);
      },
      Config{.procs = 1, .stack_size = 64 * 1024});
}

int overflow_canary() {
  // Slab stacks, no guard page: the overflowing fiber runs ~8 KiB past its 64 KiB stack into
  // its neighbour's, returns, and is caught by its canary when it next switches out.
  return run(
      [] {
        weft::detail::ParkSlot done;
        go([&] {
          dig(64 + 8);
          yield();
          weft::detail::parkslot_signal(&done);
        });
        weft::detail::parkslot_wait(&done);
      },
      Config{.procs = 1, .stack_size = 64 * 1024, .guard_pages = false});
}

int uncaught() {
  return run(
      [] {
        weft::detail::ParkSlot done;
        go([] { throw std::runtime_error("boom"); });
        weft::detail::parkslot_wait(&done);
      },
      Config{.procs = 1});
}

int segv() {
  return run(
      [] {
        weft::detail::ParkSlot done;
        go([] {
          volatile int* p = nullptr;
          *p = 1;
        });
        weft::detail::parkslot_wait(&done);
      },
      Config{.procs = 1});
}

int double_wait() {
  return run(
      [] {
        weft::detail::ParkSlot slot;
        go([&] { weft::detail::parkslot_wait(&slot); });
        yield();
        weft::detail::parkslot_wait(&slot);
      },
      Config{.procs = 1});
}

// goready of a fiber that is not parked (here: the running caller itself) is a runtime bug; the
// status check (an owner transition since goready dropped its CAS, proc.cpp P1) reports it.
int ready_running() {
  return run([] { weft::detail::goready(weft::detail::current_g()); }, Config{.procs = 1});
}

int go_outside() {
  go([] {});
  return 0;
}

int yield_outside() {
  yield();
  return 0;
}

int shutdown_from_fiber() {
  Runtime rt(Config{.procs = 1});
  rt.block_on([&] { rt.shutdown(); });
  return 0;
}

int block_on_from_fiber() {
  Runtime rt(Config{.procs = 1});
  rt.block_on([&] { rt.block_on([] {}); });
  return 0;
}

int deadlock_main() {
  return run(
      [] {
        weft::detail::ParkSlot never;
        weft::detail::parkslot_wait(&never);
      },
      Config{.procs = 2});
}

int deadlock_pair() {
  return run(
      [] {
        weft::detail::ParkSlot a, b, done;
        go([&] {
          weft::detail::parkslot_wait(&a);
          weft::detail::parkslot_signal(&b);
        });
        go([&] {
          weft::detail::parkslot_wait(&b);
          weft::detail::parkslot_signal(&a);
        });
        weft::detail::parkslot_wait(&done);
      },
      Config{.procs = 4});
}

int no_deadlock_blocking() {
  // main sits in a blocking call while another fiber waits forever: not a deadlock.
  return run(
      [] {
        static weft::detail::ParkSlot never;
        go([] { weft::detail::parkslot_wait(&never); });
        blocking([] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); });
        std::printf("main returned\n");
        return 0;
      },
      Config{.procs = 1});
}

int no_deadlock_after_main() {
  // fibers left waiting when main returns are abandoned, as in Go: exit status 0.
  return run(
      [] {
        static weft::detail::ParkSlot never[10];
        for (int i = 0; i < 10; ++i) go([i] { weft::detail::parkslot_wait(&never[i]); });
        for (int i = 0; i < 10; ++i) yield();
        return 0;
      },
      Config{.procs = 2});
}

int no_deadlock_sleeping() {
  // main sleeps while another fiber waits forever: a pending timer is a waker, not a deadlock.
  return run(
      [] {
        static weft::detail::ParkSlot never;
        go([] { weft::detail::parkslot_wait(&never); });
        sleep_for(std::chrono::milliseconds(300));
        std::printf("main returned\n");
        return 0;
      },
      Config{.procs = 2});
}

int deadlock_after_sleep() {
  // once main's sleep is over and it waits on nothing that can come, it is a deadlock.
  return run(
      [] {
        sleep_for(std::chrono::milliseconds(50));
        weft::detail::ParkSlot never;
        weft::detail::parkslot_wait(&never);
      },
      Config{.procs = 1});
}

int sleep_outside() {
  sleep_for(std::chrono::milliseconds(1));
  return 0;
}

int netpoll_double_wait() {
  return run(
      [] {
        int fds[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds);
        std::error_code err;
        auto* pd = weft::detail::poll_open(weft::detail::current_g()->sched, fds[0], err);
        go([pd] { weft::detail::poll_wait(pd, 'r'); });
        yield();
        weft::detail::poll_wait(pd, 'r');
      },
      Config{.procs = 1});
}

int no_deadlock_io_wait() {
  // main waits on a socket nobody in the program writes to; a thread it started writes later.
  // Fibers waiting on I/O are not deadlocked: the poller may still wake them.
  int fds[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds);
  std::thread peer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (write(fds[1], "x", 1) != 1) std::abort();
  });
  int rc = run(
      [&] {
        std::error_code err;
        auto* pd = weft::detail::poll_open(weft::detail::current_g()->sched, fds[0], err);
        char c;
        while (read(fds[0], &c, 1) != 1) weft::detail::poll_wait(pd, 'r');
        weft::detail::poll_unblock(pd);
        weft::detail::poll_close(weft::detail::current_g()->sched, pd);
        std::printf("read it\n");
        return 0;
      },
      Config{.procs = 2});
  peer.join();
  return rc;
}

int fdmutex_bad_unlock() {
  return run(
      [] {
        weft::net::detail::FdMutex mu;
        mu.rwunlock(true);
      },
      Config{.procs = 1});
}

int fdmutex_overflow() {
  return run(
      [] {
        weft::net::detail::FdMutex mu;
        for (long i = 0; i < (1L << 20); ++i) mu.incref();
      },
      Config{.procs = 1});
}

int schedtrace() {
  setenv("WEFT_DEBUG", "schedtrace=20", 1);  // read when the runtime starts
  return run(
      [] {
        for (int i = 0; i < 4; ++i) go([] { sleep_for(std::chrono::milliseconds(100)); });
        sleep_for(std::chrono::milliseconds(300));
        return 0;
      },
      Config{.procs = 2});
}

// sigquit_program: fibers parked for reasons the dump must show, then SIGQUIT to itself. With
// the dump enabled the process prints it and exits 2 within a sysmon tick; main's sleep is only
// the upper bound after which the test fails for want of a dump.
int sigquit_program(Config cfg) {
  return run(
      [] {
        static weft::detail::ParkSlot never[2];
        go([] { weft::detail::parkslot_wait(&never[0]); });
        go([] { sleep_for(std::chrono::hours(1)); });
        go([] {
          lock_os_thread();
          weft::detail::parkslot_wait(&never[1]);
        });
        // The dump must find all three parked; after 10 s it goes ahead and the test fails on
        // the missing reason instead of hanging.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (parked_fibers() < 3 && std::chrono::steady_clock::now() < deadline) yield();
        raise(SIGQUIT);
        sleep_for(std::chrono::seconds(10));
        std::printf("no dump\n");
        return 0;
      },
      cfg);
}

int thread_limit() {
  return run(
      [] {
        weft::detail::ParkSlot done;
        for (int i = 0; i < 8; ++i) {
          go([] { blocking([] { std::this_thread::sleep_for(std::chrono::milliseconds(500)); }); });
        }
        weft::detail::parkslot_wait(&done);
      },
      Config{.procs = 1, .max_threads = 3});
}

int yield_in_blocking() {
  return run([] { blocking([] { yield(); }); }, Config{.procs = 1});
}

}  // namespace

// ---- channels and sync (issue "Go's concurrency toolkit") ----

int mutex_unlock_unlocked() {
  return run([] {
    Mutex m;
    m.unlock();
  });
}

int rwmutex_runlock_unlocked() {
  return run([] {
    RWMutex m;
    m.unlock_shared();
  });
}

int rwmutex_unlock_unlocked() {
  return run([] {
    RWMutex m;
    m.unlock();
  });
}

int waitgroup_negative() {
  return run([] {
    WaitGroup wg;
    wg.add(1);
    wg.done();
    wg.done();
  });
}

int chan_recv_outside() {
  Runtime rt(Config{.procs = 1});
  Chan<int> c(0);
  c.recv();  // not a fiber: fatal
  return 0;
}

int select_outside() {
  Runtime rt(Config{.procs = 1});
  Chan<int> c(0);
  select(on_recv(c));
  return 0;
}

int deadlock_chan() {
  return run([] {
    Chan<int> a(0), b(0);
    go([=] { b.send(*a.recv()); });
    b.recv();  // both wait: nobody sends on a
  });
}

int deadlock_select_nil() {
  return run([] {
    Chan<int> nil;
    Chan<int> locked(1);
    Mutex m;
    go([&] {
      m.lock();
      locked.send(1);
      select(on_recv(nil));
    });
    // Not a yield(): on two Ps the fiber may be stolen and not yet have run when main resumes
    // (seen under TSan on a loaded machine: main took m, and both then waited in Mutex.Lock).
    locked.recv();
    m.lock();  // held forever by a fiber blocked on a nil channel
  });
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: crash_programs MODE\n");
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "overflow_guarded") return overflow_guarded();
  if (mode == "overflow_canary") return overflow_canary();
  if (mode == "uncaught") return uncaught();
  if (mode == "segv") return segv();
  if (mode == "double_wait") return double_wait();
  if (mode == "go_outside") return go_outside();
  if (mode == "ready_running") return ready_running();
  if (mode == "yield_outside") return yield_outside();
  if (mode == "shutdown_from_fiber") return shutdown_from_fiber();
  if (mode == "block_on_from_fiber") return block_on_from_fiber();
  if (mode == "deadlock_main") return deadlock_main();
  if (mode == "deadlock_pair") return deadlock_pair();
  if (mode == "no_deadlock_blocking") return no_deadlock_blocking();
  if (mode == "no_deadlock_after_main") return no_deadlock_after_main();
  if (mode == "thread_limit") return thread_limit();
  if (mode == "schedtrace") return schedtrace();
  if (mode == "fdmutex_bad_unlock") return fdmutex_bad_unlock();
  if (mode == "fdmutex_overflow") return fdmutex_overflow();
  if (mode == "netpoll_double_wait") return netpoll_double_wait();
  if (mode == "no_deadlock_io_wait") return no_deadlock_io_wait();
  if (mode == "no_deadlock_sleeping") return no_deadlock_sleeping();
  if (mode == "deadlock_after_sleep") return deadlock_after_sleep();
  if (mode == "sleep_outside") return sleep_outside();
  if (mode == "yield_in_blocking") return yield_in_blocking();
  if (mode == "mutex_unlock_unlocked") return mutex_unlock_unlocked();
  if (mode == "rwmutex_runlock_unlocked") return rwmutex_runlock_unlocked();
  if (mode == "rwmutex_unlock_unlocked") return rwmutex_unlock_unlocked();
  if (mode == "waitgroup_negative") return waitgroup_negative();
  if (mode == "chan_recv_outside") return chan_recv_outside();
  if (mode == "select_outside") return select_outside();
  if (mode == "deadlock_chan") return deadlock_chan();
  if (mode == "deadlock_select_nil") return deadlock_select_nil();
  if (mode == "sigquit") return sigquit_program(Config{.procs = 2, .dump_on_sigquit = true});
  if (mode == "sigquit_env") {
    setenv("WEFT_DEBUG", "sigquit=1", 1);  // read when the runtime starts
    return sigquit_program(Config{.procs = 2});
  }
  if (mode == "sigquit_off") return sigquit_program(Config{.procs = 2});
  std::fprintf(stderr, "crash_programs: unknown mode %s\n", argv[1]);
  return 2;
}
