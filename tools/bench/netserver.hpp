// netserver: what the C++ network benchmark servers (net_echo_server.cpp on weft,
// epoll_echo_server.cpp on raw epoll) share — flags, the fd limit, the CPU count, the HTTP reply.
// (No Go file: the Go twin is tools/bench/go/echo_server.)
#pragma once

#include <sched.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace bench::netserver {

enum class Mode { echo, http };

struct Flags {
  Mode mode = Mode::echo;
  unsigned procs = 0;  // 0: the CPUs this process may run on (sched_getaffinity)
  std::string addr = "127.0.0.1:0";
};

// affinity_cpus is the number of CPUs in this process's affinity mask (what `taskset` allows),
// the count Go's runtime uses for its default GOMAXPROCS.
inline unsigned affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? unsigned(n) : 1;
}

// parse reads -mode echo|http, -procs P and -addr HOST:PORT (also --flag=value), exiting 2 with
// a message on anything else.
inline Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::size_t dash = a.find_first_not_of('-');
    if (dash == 0 || dash == std::string::npos) {
      std::fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[i]);
      std::exit(2);
    }
    a.erase(0, dash);
    std::string v;
    if (std::size_t eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a.erase(eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      std::fprintf(stderr, "%s: flag -%s needs a value\n", argv[0], a.c_str());
      std::exit(2);
    }
    if (a == "mode" && (v == "echo" || v == "http")) {
      f.mode = v == "echo" ? Mode::echo : Mode::http;
    } else if (a == "procs") {
      char* end = nullptr;
      long x = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || x <= 0 || x > 1024) {
        std::fprintf(stderr, "%s: bad value for -procs (want 1..1024)\n", argv[0]);
        std::exit(2);
      }
      f.procs = unsigned(x);
    } else if (a == "addr" && !v.empty()) {
      f.addr = v;
    } else {
      std::fprintf(stderr, "%s: bad flag -%s %s (flags: -mode echo|http, -procs P, -addr A)\n",
                   argv[0], a.c_str(), v.c_str());
      std::exit(2);
    }
  }
  if (f.procs == 0) f.procs = affinity_cpus();
  return f;
}

// raise_nofile lifts the soft RLIMIT_NOFILE to the hard limit (the idle-connections benchmark
// holds 10,000 sockets; the soft limit is often 1,024).
inline void raise_nofile() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) std::perror("setrlimit(RLIMIT_NOFILE)");
  }
}

// announce prints the line tools/bench/netbench.py waits for: `listening HOST:PORT`.
inline void announce(const std::string& addr) {
  std::printf("listening %s\n", addr.c_str());
  std::fflush(stdout);
}

// The HTTP/1.1 answer to every request: "Hello, world!" with its length, kept alive.
inline constexpr std::string_view kHttpOk =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";
inline constexpr std::string_view kHttpOkClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: "
    "13\r\n\r\nHello, world!";
inline constexpr std::string_view kHttpBad =
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
inline constexpr std::size_t kMaxHeader = 8192;

// http_answer appends to `out` one answer per complete request (headers up to CRLFCRLF; GET
// only, no bodies) at the front of `in`, so pipelined requests are answered in order, and
// returns how many bytes of `in` it consumed. Sets *close when the connection must be closed
// after `out` is written: the client asked for it, or sent something that is not a GET, or a
// header block longer than kMaxHeader.
inline std::size_t http_answer(std::string_view in, std::string& out, bool* close) {
  std::size_t at = 0;
  while (!*close) {
    std::size_t end = in.find("\r\n\r\n", at);
    if (end == std::string_view::npos) {
      if (in.size() - at > kMaxHeader) {
        out += kHttpBad;
        *close = true;
      }
      break;
    }
    std::string_view req = in.substr(at, end - at);
    at = end + 4;
    if (req.substr(0, 4) != "GET ") {
      out += kHttpBad;
      *close = true;
    } else if (req.find("\r\nConnection: close") != std::string_view::npos) {
      out += kHttpOkClose;
      *close = true;
    } else {
      out += kHttpOk;
    }
  }
  return at;
}

}  // namespace bench::netserver
