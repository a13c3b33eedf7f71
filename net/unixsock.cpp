// unixsock: Unix-domain listeners and dials ("unix", "unixgram"); the listener's socket file is
// removed by its first close. Go's net/unixsock_posix.go (listenUnix, UnixListener.close).
#include "addr.hpp"
#include "sock.hpp"

namespace weft::net::detail {

Result<std::shared_ptr<NetFD>> listen_unix(weft::detail::Sched* s, int sotype,
                                           std::string_view path, const ListenOptions& opts) {
  Addr la;
  if (std::error_code err = unix_addr(path, &la)) return {nullptr, err};
  SocketSpec spec{.family = AF_UNIX, .sotype = sotype, .laddr = &la, .backlog = opts.backlog};
  auto [fd, err] = socket(s, spec);
  if (err) return {nullptr, err};
  // A stream listener created its file and removes it; an abstract or autobound one has none.
  // (Go's unixgram sockets leave theirs, and so do we.)
  if (sotype == SOCK_STREAM && !path.empty() && path.front() != '@') fd->unlink_path = path;
  return {fd, {}};
}

Result<std::shared_ptr<NetFD>> dial_unix(weft::detail::Sched* s, int sotype, std::string_view path,
                                         std::string_view local, std::int64_t deadline,
                                         const Context* ctx) {
  Addr ra, la;
  if (std::error_code err = unix_addr(path, &ra)) return {nullptr, err};
  if (!local.empty()) {
    if (std::error_code err = unix_addr(local, &la)) return {nullptr, err};
  }
  SocketSpec spec{.family = AF_UNIX,
                  .sotype = sotype,
                  .laddr = local.empty() ? nullptr : &la,
                  .raddr = &ra,
                  .deadline = deadline,
                  .ctx = ctx};
  return socket(s, spec);
}

}  // namespace weft::net::detail
