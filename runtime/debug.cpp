// debug: fatal errors (Go's throw), WEFT_DEBUG settings, the list of live runtimes, SIGQUIT.
// Follows Go's src/runtime/panic.go (throw), runtime1.go (parsedebugvars) and signal_unix.go.
#include "debug.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "proc.hpp"

namespace weft::detail {

void fatal(const char* fmt, ...) {
  char buf[1024];
  int n;
  std::uint64_t id = current_goid();
  if (id != 0) {
    n = std::snprintf(buf, sizeof buf, "weft: fiber %llu: ", static_cast<unsigned long long>(id));
  } else {
    n = std::snprintf(buf, sizeof buf, "weft: ");
  }
  va_list ap;
  va_start(ap, fmt);
  n += std::vsnprintf(buf + n, sizeof buf - std::size_t(n) - 2, fmt, ap);
  va_end(ap);
  if (n > int(sizeof buf) - 2) n = int(sizeof buf) - 2;
  buf[n++] = '\n';
  std::fflush(stdout);
  ssize_t unused = ::write(2, buf, std::size_t(n));
  (void)unused;
  std::abort();
}

char* put_u64(char* p, unsigned long long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

DebugSettings read_debug_settings() {
  DebugSettings d;
  const char* v = std::getenv("WEFT_DEBUG");
  if (!v) return d;
  // name=value pairs separated by commas; unknown names are ignored, as GODEBUG does.
  const char* p = v;
  while (*p) {
    const char* end = std::strchr(p, ',');
    std::size_t len = end ? std::size_t(end - p) : std::strlen(p);
    const char* eq = static_cast<const char*>(std::memchr(p, '=', len));
    if (eq) {
      std::size_t nlen = std::size_t(eq - p);
      int val = std::atoi(eq + 1);
      if (nlen == 7 && std::strncmp(p, "migrate", 7) == 0) d.migrate = val != 0;
      if (nlen == 10 && std::strncmp(p, "schedtrace", 10) == 0) d.schedtrace = val;
      if (nlen == 7 && std::strncmp(p, "sigquit", 7) == 0) d.sigquit = val != 0;
    }
    p += len;
    if (*p == ',') ++p;
  }
  return d;
}

Sched* allsched = nullptr;
std::mutex allsched_lock;

void sched_register(Sched* s) {
  std::lock_guard<std::mutex> lk(allsched_lock);
  s->allsched_next = allsched;
  allsched = s;
}

void sched_unregister(Sched* s) {
  std::lock_guard<std::mutex> lk(allsched_lock);
  for (Sched** ps = &allsched; *ps; ps = &(*ps)->allsched_next) {
    if (*ps == s) {
      *ps = s->allsched_next;
      break;
    }
  }
}

namespace {

// Runtimes that want the SIGQUIT dump; read by the handler (async-signal-safe: a lock-free
// atomic). seq_cst: no pairing subtleties worth saving on for a once-per-runtime counter.
std::atomic<int> g_sigquit_users{0};
// Set by the handler, consumed by the sysmon that claims it (exchange).
std::atomic<bool> g_sigquit_pending{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);
struct sigaction g_old_quit;
std::once_flag g_quit_once;

void on_sigquit(int sig) {
  if (g_sigquit_users.load() == 0) {
    // Nobody asked for the dump (any more): behave as if weft had never installed us.
    sigaction(SIGQUIT, &g_old_quit, nullptr);
    raise(sig);
    return;
  }
  g_sigquit_pending.store(true);
}

}  // namespace

void sigquit_enable() {
  std::call_once(g_quit_once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_sigquit;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGQUIT, &sa, &g_old_quit) != 0) {
      fatal("cannot install the SIGQUIT handler: %s", std::strerror(errno));
    }
  });
  g_sigquit_users.fetch_add(1);
}

void sigquit_disable() { g_sigquit_users.fetch_sub(1); }

void sigquit_check() {
  if (!g_sigquit_pending.load(std::memory_order_relaxed)) return;
  if (!g_sigquit_pending.exchange(false)) return;  // another runtime's sysmon took it
  std::fflush(stdout);
  std::fputs("SIGQUIT: quit\n\n", stderr);
  {
    std::lock_guard<std::mutex> lk(allsched_lock);
    int n = 0;
    for (Sched* s = allsched; s; s = s->allsched_next) ++n;
    int i = 0;
    for (Sched* s = allsched; s; s = s->allsched_next) {
      if (n > 1) std::fprintf(stderr, "runtime %d of %d:\n\n", ++i, n);
      dump_fibers_to(s, stderr);
    }
  }
  std::fflush(stderr);
  std::_Exit(2);  // Go's exit status after a SIGQUIT dump
}

}  // namespace weft::detail
