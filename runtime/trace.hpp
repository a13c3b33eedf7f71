// trace: WEFT_TRACE=path.json — a Chrome trace-event file (JSON array format) that Perfetto and
// chrome://tracing open. Go's analogue is src/runtime/trace.go (per-M buffers, flushed when full).
//
// What is recorded, per runtime:
//   - a track per M ("M0", "M1", ...), one for sysmon and one for all other threads (foreign
//     threads spawning or readying fibers, the shutting-down thread);
//   - a slice per fiber run: B when an M resumes the fiber (gogo, or the yield hand-off), E
//     when it switches out (mcall, the hand-off), named "G<id> <file>:<line>" after the spawn site
//     (the file's last component; the spawn event has the full path);
//   - instant events: spawn, park (with the wait reason), park_cancel (unlockf returned false:
//     the fiber never slept), ready, steal (with the victim P), netpoll (fibers it readied),
//     handoff (sysmon retook a P: "blocking call" or "hog");
//   - a "trace flush" complete event (X) wherever an M stopped to write its full buffer, so
//     the tracer's own cost is not mistaken for the fiber's.
// Every park is followed by exactly one ready or park_cancel, unless the runtime shut down
// with the fiber still parked.
//
// Buffers: each M owns a fixed buffer (kTraceBufEvents) and writes it without locks; a full
// buffer is formatted and appended to the file under Trace::lock. Threads that are not Ms write
// to one shared buffer under Trace::lock. Everything is flushed, and the closing "]" written,
// when the runtime is destroyed; a process that dies first leaves a file without the "]", which
// the trace-event format allows (Perfetto opens it).
//
// Cost when off: each hook is `if (m->trace) [[unlikely]]` on the M at hand (or Sched::trace
// where there is no M): one load of a field that is in cache anyway and a predicted branch.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>

namespace weft::detail {

struct G;
struct Sched;
struct Trace;

enum class TraceEv : std::uint8_t {
  run_begin,    // g: the fiber; site/line: its spawn site
  run_end,      // g: the fiber
  spawn,        // g: the new fiber; site/line: its spawn site
  park,         // g: the fiber; arg: its WaitReason
  park_cancel,  // g: the fiber whose unlockf returned false
  ready,        // g: the fiber readied
  steal,        // g: the fiber taken; arg: the victim P's id
  netpoll,      // arg: how many fibers the poll readied
  handoff,      // arg: the P's id; line: 0 blocking call, 1 hog
  flush,        // arg: how long the M spent writing its full buffer to the file, ns
};

struct TraceEvent {
  std::int64_t ts;
  std::uint64_t g;
  std::uint64_t arg;
  const char* site;
  std::uint32_t line;
  TraceEv kind;
};

constexpr std::uint32_t kTraceBufEvents = 2048;

// TraceBuf: one M's events (or the shared buffer's), in the order they happened.
struct TraceBuf {
  Trace* trace = nullptr;  // fixed
  int tid = 0;             // its track; fixed
  std::uint32_t n = 0;     // owned by its M (the shared buffer: guarded by Trace::lock)
  TraceEvent ev[kTraceBufEvents];
};

// Track ids of the two tracks that are not Ms.
constexpr int kTraceSysmonTid = 100000;
constexpr int kTraceOtherTid = 100001;

// trace_open starts tracing for s if WEFT_TRACE names a file (a second runtime in the same
// process appends ".2", ".3"... to the name); returns null otherwise, or after printing a
// "weft: WEFT_TRACE: cannot open ..." line if the file cannot be created.
Trace* trace_open();
// trace_m_buf gives an M its buffer (and names its track "M<id>").
TraceBuf* trace_m_buf(Trace* t, int mid);
// trace_close flushes every M's buffer and the shared one, ends the file and frees it all. The
// Ms and sysmon must have stopped.
void trace_close(Sched* s);

// trace_flush appends a full buffer to the file and empties it.
void trace_flush(TraceBuf* b);

std::int64_t trace_now();

inline void trace_event(TraceBuf* b, TraceEv kind, std::uint64_t g, std::uint64_t arg = 0,
                        const char* site = nullptr, std::uint32_t line = 0) {
  if (b->n == kTraceBufEvents) trace_flush(b);
  b->ev[b->n++] = TraceEvent{trace_now(), g, arg, site, line, kind};
}

// trace_event_other records an event of a thread that is not an M (sysmon: tid
// kTraceSysmonTid; anyone else: kTraceOtherTid) in the shared buffer.
void trace_event_other(Trace* t, int tid, TraceEv kind, std::uint64_t g, std::uint64_t arg = 0,
                       const char* site = nullptr, std::uint32_t line = 0);

}  // namespace weft::detail
