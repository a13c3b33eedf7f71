// debug: fatal errors (Go's throw) and WEFT_DEBUG settings.
// Follows Go's src/runtime/panic.go (throw) and runtime1.go (GODEBUG parsing).
#pragma once

namespace weft::detail {

// fatal prints "weft: fiber N: <message>" (or "weft: <message>" off a fiber) to stderr and
// aborts. For broken invariants and misuse that cannot be recovered from, like Go's throw.
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// DebugSettings: WEFT_DEBUG=name=value,name=value (Go's GODEBUG), read when a runtime starts.
struct DebugSettings {
  bool migrate = false;  // migrate=1: resume parked fibers on a different M where one exists
  int schedtrace = 0;    // schedtrace=MS: a scheduler line every MS milliseconds
};
DebugSettings read_debug_settings();

}  // namespace weft::detail
