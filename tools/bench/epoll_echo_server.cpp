// epoll_echo_server: the raw floor for weft's network benchmarks — TCP echo or HTTP/1.1
// keep-alive hello with no runtime at all: one edge-triggered epoll loop thread per CPU, each
// with its own SO_REUSEPORT listener. Twins: net_echo_server.cpp (weft), go/echo_server (Go).
//
// Usage: bench_epoll_echo_server [-mode echo|http] [-procs P] [-addr 127.0.0.1:0]
// Prints `listening HOST:PORT`, then serves until killed (tools/bench/netbench.py drives it).
//
// Each connection is registered once, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET (as Go's and
// weft's pollers do). On any event the connection runs `drive`: flush pending output; while
// output remains pending stop (the next EPOLLOUT edge resumes); otherwise read until EAGAIN,
// turning what was read into output (the bytes themselves for echo, the answers for HTTP).
// Reading stops while output is pending, so a slow reader cannot grow the buffer without bound.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "netserver.hpp"

namespace {

namespace ns = bench::netserver;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "epoll_echo_server: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Conn: one accepted socket; owned by the loop thread whose epoll holds it.
struct Conn {
  int fd = -1;
  std::string in;   // http: bytes of an incomplete request
  std::string out;  // bytes still to write, from out_at on
  std::size_t out_at = 0;
  bool close_after = false;  // http: close once `out` is written
};

// listen_on makes a non-blocking SO_REUSEPORT listener on host:port (port 0 = any free one).
int listen_on(const sockaddr_in& sa) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    die("setsockopt");
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) die("bind");
  if (listen(fd, 4096) != 0) die("listen");
  return fd;
}

class Loop {
 public:
  Loop(int listener, ns::Mode mode) : ln_(listener), mode_(mode) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.ptr = nullptr;  // nullptr: the listener
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, ln_, &ev) != 0) die("epoll_ctl(listener)");
  }

  [[noreturn]] void run() {
    epoll_event evs[256];
    for (;;) {
      int n = epoll_wait(ep_, evs, 256, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.ptr == nullptr) {
          accept_all();
        } else {
          drive(static_cast<Conn*>(evs[i].data.ptr));
        }
      }
    }
  }

 private:
  void accept_all() {
    for (;;) {
      int fd = accept4(ln_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
          if (errno == EAGAIN) return;
          continue;
        }
        // EMFILE and the like: the pending connection stays queued; the next edge retries.
        std::fprintf(stderr, "epoll_echo_server: accept4: %s\n", std::strerror(errno));
        return;
      }
      int one = 1;  // as Go and weft::net do for every TCP connection
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto* c = new Conn;
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = c;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl(conn)");
    }
  }

  // flush writes c's pending output; false when the connection failed (and is gone).
  bool flush(Conn* c) {
    while (c->out_at < c->out.size()) {
      ssize_t w = send(c->fd, c->out.data() + c->out_at, c->out.size() - c->out_at, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        drop(c);
        return false;
      }
      c->out_at += std::size_t(w);
    }
    c->out.clear();
    c->out_at = 0;
    return true;
  }

  void drive(Conn* c) {
    for (;;) {
      if (!flush(c)) return;
      if (!c->out.empty()) return;  // EPOLLOUT resumes
      if (c->close_after) return drop(c);
      ssize_t r = read(c->fd, buf_, sizeof buf_);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;  // drained: the next EPOLLIN edge resumes
        return drop(c);
      }
      if (r == 0) return drop(c);
      if (mode_ == ns::Mode::echo) {
        c->out.assign(buf_, std::size_t(r));
      } else {
        c->in.append(buf_, std::size_t(r));
        c->in.erase(0, ns::http_answer(c->in, c->out, &c->close_after));
      }
    }
  }

  void drop(Conn* c) {
    close(c->fd);  // also removes it from the epoll set
    delete c;
  }

  int ln_;
  ns::Mode mode_;
  int ep_;
  char buf_[4096];
};

}  // namespace

int main(int argc, char** argv) {
  ns::Flags f = ns::parse(argc, argv);
  ns::raise_nofile();
  std::size_t colon = f.addr.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::string host = colon == std::string::npos ? "" : f.addr.substr(0, colon);
  if (colon == std::string::npos ||
      inet_pton(AF_INET, host.empty() ? "0.0.0.0" : host.c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "epoll_echo_server: -addr wants IPV4:PORT, not '%s'\n", f.addr.c_str());
    return 2;
  }
  sa.sin_port = htons(std::uint16_t(std::atoi(f.addr.c_str() + colon + 1)));
  // The first listener picks the port (when 0); the others join it with SO_REUSEPORT.
  std::vector<int> listeners{listen_on(sa)};
  socklen_t len = sizeof sa;
  if (getsockname(listeners[0], reinterpret_cast<sockaddr*>(&sa), &len) != 0) die("getsockname");
  for (unsigned i = 1; i < f.procs; ++i) listeners.push_back(listen_on(sa));
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
  ns::announce(std::string(ip) + ":" + std::to_string(ntohs(sa.sin_port)));

  std::vector<std::unique_ptr<Loop>> loops;
  for (int fd : listeners) loops.push_back(std::make_unique<Loop>(fd, f.mode));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops.size(); ++i) threads.emplace_back([&, i] { loops[i]->run(); });
  loops[0]->run();
}
