// demo_net: the network demo — an echo server and an HTTP/1.1 keep-alive "hello" server on
// loopback, loaded by 1,000 connections from fibers of a second weft process (this program
// again, with --client), so that the server's CPU time can be measured alone. Prints req/s,
// p50/p99 latency and server CPU µs per request for each. Run by `tools/run demo`.
//
// With WEFT_DEMO_SUMMARY=FILE set, each phase also appends a line to FILE: name, req/s, p50 ms,
// p99 ms, server CPU µs per request, tab-separated (tools/demo/kv.py prints the table).
//
// The servers' accept loops back off on EMFILE/ENFILE like Go's net/http: 5 ms, doubling up
// to 1 s, reset by the next success (weft's accept returns those errors instead of retrying).
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

extern char** environ;

using namespace weft;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

namespace {

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

// ---------------------------------------------------------------------------- the servers

// temporary: out of descriptors or memory — worth retrying after a pause.
bool temporary(std::error_code e) {
  return e == std::errc::too_many_files_open || e == std::errc::too_many_files_open_in_system ||
         e == std::errc::no_buffer_space || e == std::errc::not_enough_memory;
}

// serve accepts until the listener closes, a fiber per connection, backing off on EMFILE/ENFILE
// (Go's net/http Server.Serve: 5 ms, doubling, at most 1 s).
template <class Handler>
void serve(net::Listener ln, const char* name, Handler handle) {
  std::chrono::milliseconds delay{0};
  for (;;) {
    auto [c, err] = ln.accept();
    if (err == net::errc::closed) return;
    if (err) {
      if (!temporary(err)) {
        std::fprintf(stderr, "%s server: accept: %s; stopping\n", name, err.message().c_str());
        return;
      }
      delay = delay == 0ms ? 5ms : std::min(delay * 2, std::chrono::milliseconds(1000));
      std::fprintf(stderr, "%s server: accept: %s; retrying in %lld ms\n", name,
                   err.message().c_str(), static_cast<long long>(delay.count()));
      sleep_for(delay);
      continue;
    }
    delay = 0ms;
    go([c, handle]() mutable { handle(std::move(c)); });
  }
}

void echo_conn(net::Conn c) {
  std::byte buf[4096];
  for (;;) {
    auto r = c.read(buf);
    if (r.err || c.write(std::span(buf, r.n)).err) break;
  }
  c.close();
}

constexpr std::string_view kHello = "Hello, world!";

// http_conn: HTTP/1.1 with keep-alive and pipelining; answers every request with kHello.
void http_conn(net::Conn c) {
  static const std::string ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                std::to_string(kHello.size()) + "\r\n\r\n" + std::string(kHello);
  static const std::string ok_close =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
      std::to_string(kHello.size()) + "\r\n\r\n" + std::string(kHello);
  std::string in, out;
  std::byte buf[4096];
  bool open = true;
  while (open) {
    auto r = c.read(buf);
    if (r.err) break;
    in.append(reinterpret_cast<const char*>(buf), r.n);
    std::size_t at = 0;
    for (std::size_t end; open && (end = in.find("\r\n\r\n", at)) != std::string::npos;) {
      std::string_view req(in.data() + at, end - at);
      bool close = req.find("\r\nConnection: close") != std::string_view::npos;
      if (req.substr(0, 4) != "GET ") {
        out += "HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        close = true;
      } else {
        out += close ? ok_close : ok;
      }
      open = !close;
      at = end + 4;
    }
    in.erase(0, at);
    if (in.size() > 8192) {  // no end of headers in sight
      out += "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";
      open = false;
    }
    if (!out.empty() && c.write(bytes(out)).err) break;
    out.clear();
  }
  c.close();
}

// ---------------------------------------------------------------------------- the load

double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string thousands(std::uint64_t v) {
  std::string digits = std::to_string(v), s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

// LineReader: lines from a connection (the control protocol).
class LineReader {
 public:
  explicit LineReader(net::Conn c) : c_(std::move(c)) {}
  bool next(std::string* line) {
    for (;;) {
      if (std::size_t nl = buf_.find('\n'); nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      std::byte b[512];
      auto r = c_.read(b);
      if (r.err) return false;
      buf_.append(reinterpret_cast<const char*>(b), r.n);
    }
  }

 private:
  net::Conn c_;
  std::string buf_;
};

// echo_request / http_request: one request and its whole answer; false on any error.
bool echo_request(net::Conn& c, std::string& scratch) {
  static constexpr std::string_view kMsg =
      "weft echo demo: 64 bytes of payload, sent and read back whole..\n";
  if (c.write(bytes(kMsg)).err) return false;
  scratch.resize(kMsg.size());
  for (std::size_t got = 0; got < kMsg.size();) {
    auto r = c.read(std::as_writable_bytes(std::span(scratch.data() + got, kMsg.size() - got)));
    if (r.err) return false;
    got += r.n;
  }
  return scratch == kMsg;
}

bool http_request(net::Conn& c, std::string& in) {
  static constexpr std::string_view kReq = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (c.write(bytes(kReq)).err) return false;
  std::byte buf[4096];
  std::size_t head_end = std::string::npos, need = 0;
  for (;;) {
    if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
      std::size_t cl = in.find("Content-Length: ");
      if (in.compare(0, 12, "HTTP/1.1 200") != 0 || cl == std::string::npos || cl > head_end) {
        return false;
      }
      need = head_end + 4 + std::strtoul(in.c_str() + cl + 16, nullptr, 10);
    }
    if (head_end != std::string::npos && in.size() >= need) break;
    auto r = c.read(buf);
    if (r.err) return false;
    in.append(reinterpret_cast<const char*>(buf), r.n);
  }
  bool ok = std::string_view(in).substr(head_end + 4, need - head_end - 4) == kHello;
  in.erase(0, need);
  return ok;
}

struct PhaseResult {
  std::uint64_t requests = 0, failures = 0;
  double seconds = 0, client_cpu = 0;
  std::uint64_t p50_ns = 0, p99_ns = 0;
};

// run_phase: `conns` fibers dial `addr`, wait until all are connected, tell the server (which
// starts its CPU clock), send requests back to back for `seconds` with a progress line each
// second, then stop and report.
template <class Request>
PhaseResult run_phase(const char* name, const std::string& addr, long conns, int seconds,
                      net::Conn& ctl, LineReader& ctl_in, Request request) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> requests{0}, failures{0};
  std::atomic<long> dial_failed{0};
  std::vector<std::vector<std::uint64_t>> lat(static_cast<std::size_t>(conns));
  WaitGroup connected, start, done;  // start: a gate, opened by its one done()
  connected.add(conns);
  done.add(conns);
  start.add(1);
  for (long i = 0; i < conns; ++i) {
    go([&, i] {
      auto [c, err] = net::dial("tcp", addr);
      if (err) ++dial_failed;
      connected.done();
      start.wait();
      std::string scratch;
      auto& mine = lat[static_cast<std::size_t>(i)];
      mine.reserve(4096);
      while (!err && !stop.load(std::memory_order_relaxed)) {
        auto t0 = clk::now();
        if (!request(c, scratch)) {
          ++failures;
          break;
        }
        mine.push_back(std::uint64_t((clk::now() - t0).count()));
        requests.fetch_add(1, std::memory_order_relaxed);
      }
      c.close();
      done.done();
    });
  }
  connected.wait();
  std::string line;
  ctl.write(bytes("start\n"));
  ctl_in.next(&line);  // "ok": the server's clock runs
  double cpu0 = cpu_seconds();
  auto t0 = clk::now();
  start.done();
  std::uint64_t last = 0;
  for (int s = 1; s <= seconds; ++s) {
    sleep_until(t0 + std::chrono::seconds(s));
    std::uint64_t n = requests.load();
    std::printf("  %-5s %2d s  %5ld connections  %11s requests  %9s req/s\n", name, s,
                conns - dial_failed.load(), thousands(n).c_str(), thousands(n - last).c_str());
    std::fflush(stdout);
    last = n;
  }
  PhaseResult r;
  r.requests = requests.load();
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  stop = true;
  done.wait();
  r.client_cpu = cpu_seconds() - cpu0;
  r.failures = failures.load() + std::uint64_t(dial_failed.load());
  std::vector<std::uint64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  if (!all.empty()) {
    auto at = [&](double q) {
      auto k = all.begin() + std::ptrdiff_t(q * double(all.size() - 1));
      std::nth_element(all.begin(), k, all.end());
      return *k;
    };
    r.p50_ns = at(0.50);
    r.p99_ns = at(0.99);
  }
  return r;
}

int run_client(const std::string& ctl_addr, const std::string& echo_addr,
               const std::string& http_addr, long conns, int seconds) {
  return weft::run([&] {
    auto [ctl, err] = net::dial("tcp", ctl_addr);
    if (err) {
      std::fprintf(stderr, "demo client: control connection: %s\n", err.message().c_str());
      return 1;
    }
    LineReader in(ctl);
    std::uint64_t failures = 0;
    for (int phase = 0; phase < 2; ++phase) {
      const char* name = phase == 0 ? "echo" : "http";
      PhaseResult r = phase == 0
                          ? run_phase(name, echo_addr, conns, seconds, ctl, in, echo_request)
                          : run_phase(name, http_addr, conns, seconds, ctl, in, http_request);
      failures += r.failures;
      char msg[256];
      std::snprintf(msg, sizeof msg,
                    "stop %s %ld %" PRIu64 " %" PRIu64 " %.3f %.6f %" PRIu64 " %" PRIu64 "\n", name,
                    conns, r.requests, r.failures, r.seconds, r.client_cpu, r.p50_ns, r.p99_ns);
      ctl.write(bytes(msg));
      std::string line;
      in.next(&line);  // the server printed the summary
    }
    ctl.close();
    return failures == 0 ? 0 : 1;
  });
}

// ---------------------------------------------------------------------------- the server side

int run_server(const char* self, long conns, int seconds) {
  return weft::run([&] {
    auto [echo_ln, e1] = net::listen("tcp", "127.0.0.1:0");
    auto [http_ln, e2] = net::listen("tcp", "127.0.0.1:0");
    auto [ctl_ln, e3] = net::listen("tcp", "127.0.0.1:0");
    if (e1 || e2 || e3) {
      std::fprintf(stderr, "demo: listen: %s\n", (e1 ? e1 : e2 ? e2 : e3).message().c_str());
      return 1;
    }
    go([ln = echo_ln] { serve(ln, "echo", echo_conn); });
    go([ln = http_ln] { serve(ln, "http", http_conn); });
    std::printf(
        "echo server on %s, HTTP/1.1 hello server on %s (%u cores; the load comes\n"
        "from %ld client fibers in a second process, which shares these cores)\n",
        echo_ln.addr().to_string().c_str(), http_ln.addr().to_string().c_str(),
        std::thread::hardware_concurrency(), conns);
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {  // other work on the machine skews it all
      double l1 = 0;
      if (std::fscanf(f, "%lf", &l1) == 1) std::printf("load average before the run: %.2f\n\n", l1);
      std::fclose(f);
    }
    std::fflush(stdout);
    std::string a0 = ctl_ln.addr().to_string(), a1 = echo_ln.addr().to_string(),
                a2 = http_ln.addr().to_string(), n = std::to_string(conns),
                s = std::to_string(seconds);
    char client_flag[] = "--client";
    char* argv[] = {const_cast<char*>(self),
                    client_flag,
                    a0.data(),
                    a1.data(),
                    a2.data(),
                    n.data(),
                    s.data(),
                    nullptr};
    pid_t pid;
    if (int rc = posix_spawn(&pid, self, nullptr, nullptr, argv, environ); rc != 0) {
      std::fprintf(stderr, "demo: cannot start the client: %s\n", std::strerror(rc));
      return 1;
    }
    auto [ctl, aerr] = ctl_ln.accept();
    double cpu0 = 0;
    std::string line;
    LineReader in(ctl);
    while (!aerr && in.next(&line)) {
      if (line == "start") {
        cpu0 = cpu_seconds();
        ctl.write(bytes("ok\n"));
        continue;
      }
      double server_cpu = cpu_seconds() - cpu0;
      char name[16] = {};
      long nconns = 0;
      std::uint64_t reqs = 0, fails = 0, p50 = 0, p99 = 0;
      double secs = 0, client_cpu = 0;
      if (std::sscanf(line.c_str(),
                      "stop %15s %ld %" SCNu64 " %" SCNu64 " %lf %lf %" SCNu64 " %" SCNu64, name,
                      &nconns, &reqs, &fails, &secs, &client_cpu, &p50, &p99) != 8) {
        std::fprintf(stderr, "demo: bad control line '%s'\n", line.c_str());
        break;
      }
      double per = reqs ? 1e6 / double(reqs) : 0;
      std::printf(
          "\n%s: %ld connections, %.1f s%s\n",
          std::strcmp(name, "echo") == 0 ? "echo (64-byte messages)" : "HTTP/1.1 keep-alive GET /",
          nconns, secs, fails ? "  — FAILURES, see below" : "");
      std::printf("  requests          %s  (%s req/s)\n", thousands(reqs).c_str(),
                  thousands(std::uint64_t(double(reqs) / secs)).c_str());
      std::printf(
          "  latency           p50 %.2f ms   p99 %.2f ms  (client fiber: write to the whole "
          "answer)\n",
          double(p50) / 1e6, double(p99) / 1e6);
      std::printf(
          "  server CPU        %.1f us per request  (getrusage of the server process "
          "alone: %.2f s)\n",
          server_cpu * per, server_cpu);
      std::printf("  client CPU        %.1f us per request  (the load generator's process)\n\n",
                  client_cpu * per);
      if (fails) std::printf("  failed requests or dials: %" PRIu64 "\n", fails);
      std::fflush(stdout);
      if (const char* path = std::getenv("WEFT_DEMO_SUMMARY")) {  // tools/demo/kv.py table
        if (FILE* f = std::fopen(path, "a")) {
          std::fprintf(f, "%s (%ld conns)\t%.0f\t%.3f\t%.3f\t%.2f\n",
                       std::strcmp(name, "echo") == 0 ? "echo" : "http keep-alive", nconns,
                       double(reqs) / secs, double(p50) / 1e6, double(p99) / 1e6, server_cpu * per);
          std::fclose(f);
        }
      }
      ctl.write(bytes("ok\n"));
    }
    int status = 0;
    weft::blocking([&] { waitpid(pid, &status, 0); });
    echo_ln.close();
    http_ln.close();
    ctl_ln.close();
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status)) {
      std::fprintf(stderr, "demo: the client died of signal %d\n", WTERMSIG(status));
    } else if (!ok) {
      std::fprintf(stderr, "demo: the client failed (exit status %d)\n", WEXITSTATUS(status));
    }
    return ok ? 0 : 1;
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 7 && std::strcmp(argv[1], "--client") == 0) {
    return run_client(argv[2], argv[3], argv[4], std::atol(argv[5]), std::atoi(argv[6]));
  }
  long conns = argc > 1 ? std::atol(argv[1]) : 1000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (conns < 1 || seconds < 1 || argc > 3) {
    std::fprintf(stderr, "usage: demo_net [connections (1000)] [seconds per phase (5)]\n");
    return 2;
  }
  return run_server("/proc/self/exe", conns, seconds);
}
