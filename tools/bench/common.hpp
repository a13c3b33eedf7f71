// common: what every benchmark program shares, whatever it runs on (weft, Boost.Fiber) —
// Go-style flags (-n, -procs), the result line (`name=<x> value=<number> unit=<unit>`, the same
// as the Go twins print), a clock, RSS and page-table size.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

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

inline long rss_bytes() {
  long pages = 0, rss = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4096;
}

// vmpte is the VmPTE line of /proc/self/status (page-table memory, not part of RSS).
inline std::string vmpte() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmPTE:", 0) == 0) return line;
  }
  return "VmPTE: ?";
}

}  // namespace bench
