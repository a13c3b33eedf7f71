// debug: fatal errors (Go's throw) and WEFT_DEBUG settings.
// Follows Go's src/runtime/panic.go (throw) and runtime1.go (parsedebugvars).
#include "debug.hpp"

#include <unistd.h>

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
    }
    p += len;
    if (*p == ',') ++p;
  }
  return d;
}

}  // namespace weft::detail
