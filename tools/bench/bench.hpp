// bench: what the weft benchmark programs share — Go-style flags (-n, -procs), the result line
// (`name=<x> value=<number> unit=<unit>`, the same as the Go twins print), a latch and RSS.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <weft/weft.hpp>

#include "parkslot.hpp"

namespace bench {

struct Flags {
  long n;
  unsigned procs = 1;
};

// parse reads -n N and -procs P (also --n=N style), exiting 2 with a message on anything else.
inline Flags parse(int argc, char** argv, long default_n) {
  Flags f{default_n};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    while (*a == '-') ++a;
    const char* v = std::strchr(a, '=');
    std::size_t len = v ? std::size_t(v - a) : std::strlen(a);
    if (!v)
      v = i + 1 < argc ? argv[++i] : nullptr;
    else
      ++v;
    char* end = nullptr;
    long x = v ? std::strtol(v, &end, 10) : 0;
    if (!v || *end != '\0' || x <= 0) {
      std::fprintf(stderr, "%s: bad value for -%.*s (want a positive integer)\n", argv[0], int(len),
                   a);
      std::exit(2);
    }
    if (len == 1 && a[0] == 'n')
      f.n = x;
    else if (len == 5 && std::strncmp(a, "procs", 5) == 0)
      f.procs = unsigned(x);
    else {
      std::fprintf(stderr, "%s: unknown flag -%.*s (flags: -n N, -procs P)\n", argv[0], int(len),
                   a);
      std::exit(2);
    }
  }
  return f;
}

inline void report(const char* name, double value, const char* unit) {
  std::printf("name=%s value=%.1f unit=%s\n", name, value, unit);
  std::fflush(stdout);
}

inline double since_ns(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

// Latch: Go's WaitGroup as these programs use it (one waiter). wait() consumes the final
// done()'s signal, so the Latch may die as soon as wait() returns.
class Latch {
 public:
  explicit Latch(std::int64_t n) : n_(n), armed_(n > 0) {}
  void done() {
    if (n_.fetch_sub(1, std::memory_order_acq_rel) == 1) weft::detail::parkslot_signal(&slot_);
  }
  void wait() {
    if (armed_) weft::detail::parkslot_wait(&slot_);
  }

 private:
  std::atomic<std::int64_t> n_;
  bool armed_;
  weft::detail::ParkSlot slot_;
};

inline long rss_bytes() {
  long pages = 0, rss = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4096;
}

}  // namespace bench
