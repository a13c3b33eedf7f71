// debug: fatal errors (Go's throw), WEFT_DEBUG settings, the list of live runtimes that
// debuggers and the SIGQUIT dump walk, and the SIGQUIT dump itself.
// Follows Go's src/runtime/panic.go (throw), runtime1.go (GODEBUG parsing) and the SIGQUIT
// handling of signal_unix.go (sighandler: _SigKill|_SigThrow -> dopanic -> exit(2)).
//
// # SIGQUIT
//
// Opt-in (Config::dump_on_sigquit or WEFT_DEBUG=sigquit=1), process-wide like every signal
// disposition. The handler does the only async-signal-safe thing: it sets a flag. sysmon
// (which never holds a lock when it ticks, at most 10 ms apart) sees the flag, prints
// "SIGQUIT: quit" and every fiber of every live runtime (dump_fibers_to), and exits the process
// with status 2, as Go does. While no runtime in the process has it enabled, the handler
// restores the previous disposition and raises the signal again (by default: core dump).
#pragma once

#include <mutex>

namespace weft::detail {

struct Sched;

// fatal prints "weft: fiber N: <message>" (or "weft: <message>" off a fiber) to stderr and
// aborts. For broken invariants and misuse that cannot be recovered from, like Go's throw.
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// DebugSettings: WEFT_DEBUG=name=value,name=value (Go's GODEBUG), read when a runtime starts.
struct DebugSettings {
  bool migrate = false;  // migrate=1: resume parked fibers on a different M where one exists
  int schedtrace = 0;    // schedtrace=MS: a scheduler line every MS milliseconds
  bool sigquit = false;  // sigquit=1: Config::dump_on_sigquit
};
DebugSettings read_debug_settings();

// put_u64 writes v in decimal at p (at most 20 characters, no terminator) and returns the end.
// Async-signal-safe: the stack-overflow report formats with it, and so does the trace writer.
char* put_u64(char* p, unsigned long long v);

// allsched: every live runtime, linked through Sched::allsched_next (newest first), guarded by
// allsched_lock. Process-wide by nature: it is how a debugger (tools/gdb/weft.py) and the
// SIGQUIT dump find the runtimes. Sched's constructor and destructor add and remove themselves.
extern Sched* allsched;
extern std::mutex allsched_lock;
void sched_register(Sched* s);
void sched_unregister(Sched* s);

// sigquit_enable installs the SIGQUIT handler (once per process) and counts s among the
// runtimes that want the dump; sigquit_disable uncounts it (runtime shutdown).
void sigquit_enable();
void sigquit_disable();
// sigquit_check is sysmon's tick: if a SIGQUIT arrived, print the dump and exit(2).
void sigquit_check();

}  // namespace weft::detail
