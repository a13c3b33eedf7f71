// sock: socket creation — default options, bind, listen, connect under a deadline — shared by
// every network. Go's net/sock_posix.go, sockopt_linux.go, sys_cloexec.go (accept4/SOCK_CLOEXEC).
#include "sock.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "proc.hpp"

namespace weft::net::detail {

namespace {

// connect_ctx connects under ctx (Go's netFD.connect with a context); see CtxWatch.
std::error_code connect_ctx(NetFD& fd, const Addr& to, const Context* ctx) {
  if (!ctx || !ctx->done()) return fd.connect(to);
  CtxWatch watch(fd, *ctx, 'w');
  std::error_code err = fd.connect(to);
  watch.stop();
  return watch.interrupted() ? watch.error() : err;
}

Addr sockname(int fd, bool peer) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return rc == 0 ? Addr(reinterpret_cast<sockaddr*>(&ss), len) : Addr();
}

std::error_code setopt(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return sys(errno);
  return {};
}

// configure runs the steps after socket(2) on a NetFD that owns the descriptor.
std::error_code configure(NetFD& fd, const SocketSpec& spec) {
  int s = fd.sysfd;
  if (spec.family == AF_INET6) {
    setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, spec.ipv6only ? 1 : 0);  // best effort, as Go
  }
  if (spec.sotype == SOCK_DGRAM && spec.family != AF_UNIX) {
    if (std::error_code err = setopt(s, SOL_SOCKET, SO_BROADCAST, 1)) return err;
  }
  if (spec.laddr && !spec.raddr) {  // a listener or a bound datagram socket
    if (spec.sotype == SOCK_STREAM) {
      // Allow reuse of recently used addresses (Go's setDefaultListenerSockopts).
      if (std::error_code err = setopt(s, SOL_SOCKET, SO_REUSEADDR, 1)) return err;
      if (spec.reuse_port) {
        if (std::error_code err = setopt(s, SOL_SOCKET, SO_REUSEPORT, 1)) return err;
      }
    }
    if (::bind(s, spec.laddr->raw(), spec.laddr->size()) != 0) return sys(errno);
    if (spec.sotype == SOCK_STREAM &&
        ::listen(s, spec.backlog > 0 ? spec.backlog : SOMAXCONN) != 0) {
      return sys(errno);
    }
    if (std::error_code err = fd.init()) return err;
    fd.laddr = sockname(s, false);
    return {};
  }
  if (spec.laddr && ::bind(s, spec.laddr->raw(), spec.laddr->size()) != 0) return sys(errno);
  if (std::error_code err = fd.init()) return err;
  if (spec.deadline != 0) fd.set_deadline(spec.deadline, 'w');
  if (std::error_code err = connect_ctx(fd, *spec.raddr, spec.ctx)) return err;
  if (spec.deadline != 0) fd.set_deadline(0, 'w');
  fd.laddr = sockname(s, false);
  fd.raddr = sockname(s, true);
  if (fd.raddr.empty()) fd.raddr = *spec.raddr;
  return {};
}

}  // namespace

CtxWatch::CtxWatch(NetFD& fd, const Context& ctx, int mode) : ctx_(ctx) {
  watcher_.add(1);
  weft::go([this, &fd, mode, done = ctx.done(), stop = stop_] {
    if (weft::select(weft::on_recv(done), weft::on_recv(stop)) == 0) {
      interrupted_.store(true);
      fd.set_deadline(1, mode);  // long ago: the wait in progress ends now
    }
    watcher_.done();
  });
}

void CtxWatch::stop() {
  if (std::exchange(stopped_, true)) return;
  stop_.close();
  watcher_.wait();
}

CtxWatch::~CtxWatch() { stop(); }

std::error_code CtxWatch::error() const {
  std::error_code why = ctx_.err();
  return why == context_errc::deadline_exceeded ? make_error_code(errc::timeout) : why;
}

Result<std::shared_ptr<NetFD>> socket(weft::detail::Sched* s, const SocketSpec& spec) {
  int sysfd = ::socket(spec.family, spec.sotype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sysfd < 0) return {nullptr, sys(errno)};
  auto fd = std::make_shared<NetFD>(s, sysfd, spec.family, spec.sotype);
  // D4: the drained read needs the protocol the kernel made, not the one asked for (a preload
  // library or a BPF hook can make this socket SMC or MPTCP). Accepted sockets inherit it.
  int proto = 0;
  socklen_t plen = sizeof proto;
  if (fd->drain_hint.load(std::memory_order_relaxed) &&
      (getsockopt(sysfd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) != 0 || proto != IPPROTO_TCP)) {
    fd->drain_hint.store(false, std::memory_order_relaxed);
  }
  if (std::error_code err = configure(*fd, spec)) {
    fd->close();  // closes sysfd (and unregisters it if it got that far)
    return {nullptr, err};
  }
  return {fd, {}};
}

Result<std::shared_ptr<NetFD>> new_accepted(const NetFD& listener, int sysfd, const Addr& remote) {
  auto fd = std::make_shared<NetFD>(listener.sched, sysfd, listener.family, listener.sotype);
  // D4, D5: the listener's protocol, and its SO_RCVLOWAT if Listener::fd() was taken to set it.
  if (!listener.drain_hint.load(std::memory_order_relaxed)) {
    fd->drain_hint.store(false, std::memory_order_relaxed);
  }
  if (std::error_code err = fd->init()) {
    fd->close();
    return {nullptr, err};
  }
  fd->laddr = sockname(sysfd, false);
  fd->raddr = remote;
  return {fd, {}};
}

std::int64_t to_ns(time_point t) {
  if (t == time_point{}) return 0;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return ns <= 0 ? 1 : ns;  // a real instant at or before the clock's epoch: already expired
}

}  // namespace weft::net::detail
