// trace: WEFT_TRACE=path.json, the Chrome trace-event writer (see trace.hpp for what it records).
// Go's analogue is src/runtime/trace.go.
#include "trace.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

// Trace: one runtime's trace file. Lock order: buf_lock, then file_lock.
struct Trace {
  std::mutex file_lock;    // guards f and first
  std::FILE* f = nullptr;  // the open file
  bool first = true;       // no event written yet (the next one needs no comma)
  int pid = 0;             // fixed
  std::int64_t t0 = 0;     // trace_now() at open; timestamps are relative to it; fixed
  std::mutex buf_lock;     // guards the two shared buffers
  std::unique_ptr<TraceBuf> sysmon = std::make_unique<TraceBuf>();
  std::unique_ptr<TraceBuf> other = std::make_unique<TraceBuf>();
};

namespace {

// Runtimes in this process that opened a trace so far: names the second one's file path.2.
std::atomic<int> g_traces{0};

// put_json_string writes s as a JSON string body (no quotes): escapes quotes, backslashes and
// control characters.
void put_json_string(std::FILE* f, const char* s) {
  for (; *s; ++s) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      std::fputc('\\', f);
      std::fputc(c, f);
    } else if (c < 0x20) {
      std::fprintf(f, "\\u%04x", c);
    } else {
      std::fputc(c, f);
    }
  }
}

const char* basename_of(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

// begin_event writes the separator and the fields every event has; file_lock must be held.
void begin_event(Trace* t, const char* ph, int tid, std::int64_t ts) {
  std::fputs(t->first ? "\n" : ",\n", t->f);
  t->first = false;
  std::int64_t rel = ts - t->t0;
  std::fprintf(t->f, "{\"ph\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%lld.%03lld", ph, t->pid, tid,
               static_cast<long long>(rel / 1000), static_cast<long long>(rel % 1000));
}

void name_track(Trace* t, int tid, const char* name, int sort) {
  std::lock_guard<std::mutex> lk(t->file_lock);
  std::fputs(t->first ? "\n" : ",\n", t->f);
  t->first = false;
  std::fprintf(t->f,
               "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":"
               "\"%s\"}},\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_sort_index\","
               "\"args\":{\"sort_index\":%d}}",
               t->pid, tid, name, t->pid, tid, sort);
}

void write_event(Trace* t, int tid, const TraceEvent& e) {
  std::FILE* f = t->f;
  auto site = [&] {
    std::fputs(",\"spawn\":\"", f);
    put_json_string(f, e.site ? e.site : "");
    std::fprintf(f, ":%u\"", e.line);
  };
  switch (e.kind) {
    case TraceEv::run_begin:
      begin_event(t, "B", tid, e.ts);
      std::fprintf(f, ",\"cat\":\"fiber\",\"name\":\"G%llu ", static_cast<unsigned long long>(e.g));
      put_json_string(f, basename_of(e.site ? e.site : ""));
      std::fprintf(f, ":%u\",\"args\":{\"fiber\":%llu", e.line,
                   static_cast<unsigned long long>(e.g));
      site();
      std::fputs("}}", f);
      return;
    case TraceEv::run_end:
      begin_event(t, "E", tid, e.ts);
      std::fprintf(f, ",\"args\":{\"fiber\":%llu}}", static_cast<unsigned long long>(e.g));
      return;
    default:
      break;
  }
  begin_event(t, "i", tid, e.ts);
  std::fputs(",\"s\":\"t\",\"cat\":\"sched\",\"name\":\"", f);
  switch (e.kind) {
    case TraceEv::spawn:
      std::fprintf(f, "spawn\",\"args\":{\"fiber\":%llu", static_cast<unsigned long long>(e.g));
      site();
      break;
    case TraceEv::park:
      std::fprintf(f, "park\",\"args\":{\"fiber\":%llu,\"reason\":\"%s\"",
                   static_cast<unsigned long long>(e.g),
                   wait_reason_name(static_cast<WaitReason>(e.arg)));
      break;
    case TraceEv::park_cancel:
      std::fprintf(f, "park_cancel\",\"args\":{\"fiber\":%llu",
                   static_cast<unsigned long long>(e.g));
      break;
    case TraceEv::ready:
      std::fprintf(f, "ready\",\"args\":{\"fiber\":%llu", static_cast<unsigned long long>(e.g));
      break;
    case TraceEv::steal:
      std::fprintf(f, "steal\",\"args\":{\"fiber\":%llu,\"from_p\":%llu",
                   static_cast<unsigned long long>(e.g), static_cast<unsigned long long>(e.arg));
      break;
    case TraceEv::netpoll:
      std::fprintf(f, "netpoll\",\"args\":{\"ready\":%llu", static_cast<unsigned long long>(e.arg));
      break;
    case TraceEv::handoff:
      std::fprintf(f, "handoff\",\"args\":{\"p\":%llu,\"why\":\"%s\"",
                   static_cast<unsigned long long>(e.arg), e.line ? "hog" : "blocking call");
      break;
    default:
      std::fputs("?\",\"args\":{", f);
      break;
  }
  std::fputs("}}", f);
}

void flush_locked(TraceBuf* b) {  // file_lock held
  for (std::uint32_t i = 0; i < b->n; ++i) write_event(b->trace, b->tid, b->ev[i]);
  b->n = 0;
}

}  // namespace

std::int64_t trace_now() { return nanotime(); }

Trace* trace_open() {
  const char* path = std::getenv("WEFT_TRACE");
  if (!path || !*path) return nullptr;
  int nth = g_traces.fetch_add(1) + 1;
  std::string name = path;
  if (nth > 1) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, ".%d", nth);
    name += suffix;
  }
  std::FILE* f = std::fopen(name.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "weft: WEFT_TRACE: cannot open %s: %s (not tracing)\n", name.c_str(),
                 std::strerror(errno));
    return nullptr;
  }
  auto* t = new Trace;
  t->f = f;
  t->pid = int(getpid());
  t->t0 = trace_now();
  std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
  {
    std::lock_guard<std::mutex> lk(t->file_lock);
    std::fputs("[\n", f);
    t->first = false;
    std::fprintf(f,
                 "{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":"
                 "\"weft runtime %d\"}}",
                 t->pid, nth);
  }
  t->sysmon->trace = t->other->trace = t;
  t->sysmon->tid = kTraceSysmonTid;
  t->other->tid = kTraceOtherTid;
  name_track(t, kTraceSysmonTid, "sysmon", kTraceSysmonTid);
  name_track(t, kTraceOtherTid, "other threads", kTraceOtherTid);
  return t;
}

TraceBuf* trace_m_buf(Trace* t, int mid) {
  auto* b = new TraceBuf;
  b->trace = t;
  b->tid = mid;
  char name[32];
  std::snprintf(name, sizeof name, "M%d", mid);
  name_track(t, mid, name, mid);
  return b;
}

void trace_flush(TraceBuf* b) {
  std::lock_guard<std::mutex> lk(b->trace->file_lock);
  flush_locked(b);
}

void trace_event_other(Trace* t, int tid, TraceEv kind, std::uint64_t g, std::uint64_t arg,
                       const char* site, std::uint32_t line) {
  std::lock_guard<std::mutex> lk(t->buf_lock);
  trace_event(tid == kTraceSysmonTid ? t->sysmon.get() : t->other.get(), kind, g, arg, site, line);
}

void trace_close(Sched* s) {
  Trace* t = s->trace;
  if (!t) return;
  s->trace = nullptr;
  {
    std::lock_guard<std::mutex> bl(t->buf_lock);
    std::lock_guard<std::mutex> lk(t->file_lock);
    for (M* m : s->allm) {
      if (m->trace) flush_locked(m->trace);
      delete m->trace;
      m->trace = nullptr;
    }
    flush_locked(t->sysmon.get());
    flush_locked(t->other.get());
    std::fputs("\n]\n", t->f);
    if (std::fclose(t->f) != 0) {
      std::fprintf(stderr, "weft: WEFT_TRACE: writing the trace failed: %s\n",
                   std::strerror(errno));
    }
  }
  delete t;
}

}  // namespace weft::detail
